MATCH (p:Person) WHERE p.slug IS NULL SET p.slug = toLower(replace(p.name, ' ', '-')) + '-' + toString(p.id);
MATCH (c:Company) WHERE c.slug IS NULL SET c.slug = toLower(replace(c.name, ' ', '-'));
