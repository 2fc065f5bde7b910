CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, slug TEXT);
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 250)
INSERT INTO articles (id, title) SELECT i, 'Crème Brûlée, part ' || i FROM seq;
