-- description: accounts, owned by the role the settings name
CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL DEFAULT '${owner}', note TEXT);
INSERT INTO accounts (note) VALUES ('created for ${owner}');
-- A `$` before a placeholder keeps it as written: this row reads `${owner}`.
INSERT INTO accounts (note) VALUES ('$${owner}');
