MATCH (s:Seed) DELETE s;
