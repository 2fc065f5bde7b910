-- migrate:no-transaction
-- SQLite's recipe, as its documentation writes it.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE events_new (id BIGINT PRIMARY KEY, kind TEXT NOT NULL, at TEXT);
INSERT INTO events_new (id, kind) SELECT id, kind FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
