-- description: Time zone per user, backfilled from the default
ALTER TABLE users ADD COLUMN timezone VARCHAR(64) NULL;
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;
-- New rows get the default too; the trigger body holds its own semicolons.
CREATE TRIGGER users_default_timezone BEFORE INSERT ON users
FOR EACH ROW
BEGIN
    IF NEW.timezone IS NULL THEN
        SET NEW.timezone = 'UTC';
    END IF;
END;
