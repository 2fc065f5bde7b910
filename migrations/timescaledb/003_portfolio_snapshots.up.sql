-- The value of each holding, snapshotted over time.
CREATE TABLE portfolio_snapshots (
    taken_at     TIMESTAMPTZ    NOT NULL,
    portfolio_id BIGINT         NOT NULL,
    symbol       TEXT           NOT NULL,
    quantity     NUMERIC(20, 8) NOT NULL,
    price        NUMERIC(20, 8) NOT NULL,
    value        NUMERIC(28, 8) GENERATED ALWAYS AS (quantity * price) STORED
);

SELECT create_hypertable('portfolio_snapshots', by_range('taken_at', INTERVAL '1 day'));

CREATE UNIQUE INDEX portfolio_snapshots_one_per_moment
    ON portfolio_snapshots (portfolio_id, symbol, taken_at);

ALTER TABLE portfolio_snapshots SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'portfolio_id',
    timescaledb.compress_orderby = 'taken_at DESC, symbol'
);
SELECT add_compression_policy('portfolio_snapshots', INTERVAL '7 days');
