-- description: Users who are active
DROP VIEW IF EXISTS active_users;
CREATE VIEW active_users AS SELECT id FROM users WHERE active = 1;
