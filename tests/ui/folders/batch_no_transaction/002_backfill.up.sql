-- migrate:batch size=100
-- migrate:no-transaction
UPDATE t SET x = 'n' WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);
