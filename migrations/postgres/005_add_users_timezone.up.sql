-- description: Time zone per user, backfilled from the default
ALTER TABLE users ADD COLUMN timezone TEXT;
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;
-- New rows get the default too; the function body holds its own semicolons.
CREATE FUNCTION users_default_timezone() RETURNS trigger AS $$
BEGIN
    IF NEW.timezone IS NULL THEN
        NEW.timezone := 'UTC';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_default_timezone BEFORE INSERT ON users
FOR EACH ROW EXECUTE FUNCTION users_default_timezone();
