-- description: Nicknames are gone from the product
-- migrate:allow drop-column release 2.3 stopped reading users.nick; 2.2 is no longer deployed
ALTER TABLE users DROP COLUMN nick;
