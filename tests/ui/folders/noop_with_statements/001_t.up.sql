-- migrate:noop
CREATE TABLE t (id INTEGER);
