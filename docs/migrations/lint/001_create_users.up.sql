CREATE TABLE users (id INTEGER PRIMARY KEY, nick TEXT, email TEXT);
CREATE INDEX users_email ON users (email);
