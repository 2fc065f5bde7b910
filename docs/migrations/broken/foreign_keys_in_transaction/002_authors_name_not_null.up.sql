-- description: the rebuild recipe without migrate:no-transaction (refused)
PRAGMA foreign_keys = OFF;
CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO authors_new (id, name) SELECT id, coalesce(name, '') FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
PRAGMA foreign_keys = ON;
