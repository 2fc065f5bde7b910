-- migrate:timeout statement=30 lock=5s
ALTER TABLE t ADD COLUMN x INTEGER;
