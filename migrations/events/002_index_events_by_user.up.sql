-- description: A user's events in time order
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, at);
