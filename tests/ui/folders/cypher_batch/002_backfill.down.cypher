MATCH (p:Person) REMOVE p.done;
