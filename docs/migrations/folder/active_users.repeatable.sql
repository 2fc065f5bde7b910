-- description: Users seen in the last 30 days
-- SQLite has no CREATE OR REPLACE VIEW: drop, then create.
DROP VIEW IF EXISTS active_users;
CREATE VIEW active_users AS
    SELECT id, email FROM users WHERE last_seen >= datetime('now', '-30 days');
