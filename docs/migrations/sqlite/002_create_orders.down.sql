DROP INDEX orders_by_user;
DROP TABLE orders;
