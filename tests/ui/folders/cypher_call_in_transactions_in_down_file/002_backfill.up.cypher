MATCH (p:Person) SET p.done = true;
