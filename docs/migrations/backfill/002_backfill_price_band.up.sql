-- migrate:batch size=1000
-- migrate:total SELECT count(*) FROM items WHERE price_band IS NULL
-- description: Each item's price band, 1,000 rows per transaction
UPDATE items SET price_band = CASE WHEN price_cents < 1000 THEN 'low' ELSE 'high' END
WHERE id IN (SELECT id FROM items WHERE price_band IS NULL LIMIT :batch);
