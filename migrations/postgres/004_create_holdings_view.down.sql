DROP VIEW user_positions;
