-- description: Users who log in
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    last_seen TEXT
);
