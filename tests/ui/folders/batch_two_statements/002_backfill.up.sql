-- migrate:batch size=100
UPDATE t SET x = 'n' WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);
DELETE FROM t WHERE x = 'gone';
