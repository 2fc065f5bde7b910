-- migrate:no-transaction
-- A continuous aggregate created WITH DATA materialises the existing rows
-- as it is created, which TimescaleDB refuses inside a transaction block:
-- this file runs statement by statement, outside one.
CREATE MATERIALIZED VIEW portfolio_daily
WITH (timescaledb.continuous) AS
SELECT portfolio_id,
       time_bucket(INTERVAL '1 day', taken_at) AS day,
       sum(value) AS total_value,
       count(*) AS snapshots
FROM portfolio_snapshots
GROUP BY portfolio_id, day
WITH DATA;

SELECT add_continuous_aggregate_policy('portfolio_daily',
    start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '1 hour');
