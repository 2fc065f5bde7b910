-- migrate:baseline 1..2 migrations=2 chain=abc
CREATE TABLE a (id INTEGER);
