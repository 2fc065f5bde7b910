-- description: Time zone per user, backfilled from the default
ALTER TABLE users ADD COLUMN timezone TEXT;
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;
-- Keep the audit trail in step: a trigger body holds its own semicolons.
CREATE TRIGGER users_default_timezone AFTER INSERT ON users
WHEN NEW.timezone IS NULL
BEGIN
    UPDATE users SET timezone = 'UTC' WHERE id = NEW.id;
END;
