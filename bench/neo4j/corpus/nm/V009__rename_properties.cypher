MATCH (m:Movie) WHERE m.released IS NOT NULL SET m.release_year = m.released REMOVE m.released;
MATCH ()-[r:WORKS_AT]->() WHERE r.since IS NOT NULL SET r.started = r.since;
MATCH (p:Person) WHERE p.country IS NULL SET p.country = 'unknown';
