-- migrate:allow drop-colum the column is unread since 2.3
-- migrate:allow rename-table
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users RENAME TO people;
