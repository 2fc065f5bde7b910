-- migrate:no-transaction
CREATE VIEW v AS SELECT 1;
