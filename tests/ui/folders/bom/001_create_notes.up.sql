-- description: Saved by an editor that writes a BOM
-- migrate:no-transaction
CREATE TABLE notes (id INTEGER PRIMARY KEY);
