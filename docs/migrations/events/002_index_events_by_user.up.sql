-- description: A user's events in time order
CREATE INDEX events_by_user ON events (user_id, at);
