-- refinery:noTransaction
CREATE INDEX CONCURRENTLY users_id ON users (id);
