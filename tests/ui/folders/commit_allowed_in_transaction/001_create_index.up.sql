-- migrate:allow-in-transaction
CREATE TABLE events (id BIGINT PRIMARY KEY, kind TEXT NOT NULL);
COMMIT;
CREATE INDEX CONCURRENTLY idx_events_kind ON events (kind);
