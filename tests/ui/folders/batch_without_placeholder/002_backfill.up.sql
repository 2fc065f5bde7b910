-- migrate:batch size=100
UPDATE t SET x = 'n' WHERE x IS NULL;
