DROP INDEX people_family_name;
