MATCH (c:Company) REMOVE c.slug;
MATCH (p:Person) REMOVE p.slug;
