-- migrate:allow drop-column the email moved to accounts in release 2.3, which reads it no more
ALTER TABLE users DROP COLUMN email;
