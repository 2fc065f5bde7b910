MATCH (p:Person {country: 'unknown'}) REMOVE p.country;
MATCH ()-[r:WORKS_AT]->() REMOVE r.started;
MATCH (m:Movie) WHERE m.release_year IS NOT NULL SET m.released = m.release_year REMOVE m.release_year;
