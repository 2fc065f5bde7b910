CREATE MATERIALIZED VIEW readings_hourly WITH (timescaledb.continuous) AS
SELECT sensor, time_bucket(INTERVAL '1 hour', at) AS hour, avg(value) AS average
FROM readings GROUP BY sensor, hour;
