-- description: Time zone per user
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
