CREATE INDEX orders_user_id ON orders (user_id);
