-- description: Authors and their books, deleted together
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE
);
INSERT INTO authors (id, name) VALUES (1, 'Ada');
INSERT INTO books (id, author_id) VALUES (1, 1), (2, 1);
