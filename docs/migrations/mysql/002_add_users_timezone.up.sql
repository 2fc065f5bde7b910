-- description: Time zone per user, backfilled
ALTER TABLE users ADD COLUMN timezone VARCHAR(64) NULL;
UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL;
ALTER TABLE users MODIFY timezone VARCHAR(64) NOT NULL;
