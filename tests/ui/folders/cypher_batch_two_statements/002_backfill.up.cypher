// migrate:batch
MATCH (p:Person) WHERE p.done IS NULL
CALL { WITH p SET p.done = true } IN TRANSACTIONS OF 500 ROWS;
MATCH (s:Seed) SET s.done = true;
