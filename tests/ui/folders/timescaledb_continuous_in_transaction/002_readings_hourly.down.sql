DROP MATERIALIZED VIEW readings_hourly;
