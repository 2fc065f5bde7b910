DROP INDEX member_of_since IF EXISTS;
DROP INDEX reviewed_rating IF EXISTS;
DROP INDEX acted_in_role IF EXISTS;
DROP INDEX works_at_since IF EXISTS;
