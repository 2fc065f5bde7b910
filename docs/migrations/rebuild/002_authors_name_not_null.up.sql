-- migrate:no-transaction
-- description: authors.name NOT NULL, through SQLite's table rebuild recipe
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO authors_new (id, name) SELECT id, coalesce(name, '') FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
