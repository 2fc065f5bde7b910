CREATE TABLE readings (at TIMESTAMPTZ NOT NULL, sensor TEXT NOT NULL, value DOUBLE PRECISION);
SELECT create_hypertable('readings', by_range('at', INTERVAL '1 day'));
