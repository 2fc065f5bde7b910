-- migrate:batch size=0
UPDATE t SET x = 'n' WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);
