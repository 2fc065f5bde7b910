DROP INDEX events_by_user;
