-- migrate:allow-in-transaction
-- CockroachDB accepts CONCURRENTLY in a transaction (and ignores it).
CREATE INDEX CONCURRENTLY idx_events_kind ON events (kind);
