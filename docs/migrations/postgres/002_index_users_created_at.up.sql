-- migrate:no-transaction
-- description: Users by sign-up time, indexed without blocking writes
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_created_at ON users (created_at);
