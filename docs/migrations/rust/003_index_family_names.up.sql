CREATE INDEX people_family_name ON people (family_name);
