-- description: Users and their login e-mail
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
