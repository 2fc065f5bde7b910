-- migrate:allow-in-transaction
DROP TABLE events;
END TRANSACTION;
