-- migrate:irreversible
UPDATE users SET email = lower(email);
