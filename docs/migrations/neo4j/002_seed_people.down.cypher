MATCH (p:Person) WHERE p.id IN [1, 2] DETACH DELETE p;
