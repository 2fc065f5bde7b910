// A `DELIMITER` line, as mysql-client scripts have: the server rejects it.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/delimiter");

fn main() {}
