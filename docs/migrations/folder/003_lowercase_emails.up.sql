-- description: Lower-case every email address
UPDATE users SET email = lower(email);
