-- migrate:irreversible
UPDATE users SET email = email;
