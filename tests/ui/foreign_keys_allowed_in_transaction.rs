// SQLite's table rebuild under `-- migrate:allow-in-transaction`: the file stays
// in the migration's transaction, where `PRAGMA foreign_keys = OFF` does
// nothing, and `DROP TABLE parent` empties `child`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/foreign_keys_allowed_in_transaction");

fn main() {}
