// CREATE INDEX CONCURRENTLY in a transactional file: PostgreSQL refuses it in a
// transaction block (tests/postgres.rs keeps proving that at run time, through
// a fixture that says `-- migrate:allow-in-transaction`).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/concurrently_in_transaction");

fn main() {}
