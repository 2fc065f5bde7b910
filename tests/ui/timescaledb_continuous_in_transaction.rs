// A TimescaleDB continuous aggregate filled as it is created (WITH DATA, the
// default) in a transactional file: TimescaleDB refuses it in a transaction
// block (tests/timescaledb.rs keeps proving that at run time, through a
// fixture that says `-- migrate:allow-in-transaction`).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/timescaledb_continuous_in_transaction");

fn main() {}
