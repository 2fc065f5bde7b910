-- description: Accounts, by nickname and email
CREATE TABLE accounts (id INTEGER PRIMARY KEY, nickname TEXT, email TEXT NOT NULL);
