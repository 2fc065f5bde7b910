INSERT INTO users (id, email) VALUES (1, 'rené@example.com');
