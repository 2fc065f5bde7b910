MATCH (p:Person {id: 3}) DETACH DELETE p;
