// migrate:no-transaction
MATCH (p:Person) REMOVE p.handle, p.active;
DROP INDEX person_handle_text IF EXISTS;
DROP INDEX movie_rating IF EXISTS;
DROP INDEX person_active IF EXISTS;
DROP CONSTRAINT person_handle IF EXISTS;
