-- migrate:allow-in-transaction
DROP INDEX CONCURRENTLY idx_events_kind;
