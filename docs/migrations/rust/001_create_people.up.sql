-- description: People, with their full name as typed
CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL);
INSERT INTO people (id, full_name) VALUES (1, '  Ada   Lovelace '), (2, 'Grace Brewster Hopper');
