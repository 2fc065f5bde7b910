// migrate:batch
// migrate:total MATCH (p:Person) WHERE p.done IS NULL RETURN count(p)
MATCH (p:Person) WHERE p.done IS NULL
CALL { WITH p SET p.done = true } IN TRANSACTIONS OF 500 ROWS;
