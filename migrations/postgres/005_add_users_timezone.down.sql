DROP TRIGGER users_default_timezone ON users;
DROP FUNCTION users_default_timezone();
ALTER TABLE users DROP COLUMN timezone;
