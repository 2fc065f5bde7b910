-- description: Look accounts up by nickname or email
CREATE INDEX accounts_nickname ON accounts (nickname);
CREATE INDEX accounts_email ON accounts (email);
