// migrate:no-transaction
CREATE CONSTRAINT person_handle IF NOT EXISTS FOR (p:Person) REQUIRE p.handle IS UNIQUE;
CREATE INDEX person_active IF NOT EXISTS FOR (p:Person) ON (p.active);
CREATE INDEX movie_rating IF NOT EXISTS FOR (m:Movie) ON (m.rating);
CREATE TEXT INDEX person_handle_text IF NOT EXISTS FOR (p:Person) ON (p.handle);
MATCH (p:Person) WHERE p.handle IS NULL SET p.handle = p.slug, p.active = true;
