-- description: 10,000 items, each with a price
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    price_cents INTEGER NOT NULL,
    price_band TEXT
);
INSERT INTO items (id, price_cents)
    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
    SELECT i, (i * 37) % 5000 FROM n;
