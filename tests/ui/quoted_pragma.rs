// SQLite's table rebuild with the pragma's name in double quotes and a value of
// `false`: SQLite reads it as `PRAGMA foreign_keys = OFF`, a no-op in a transaction.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/quoted_pragma");

fn main() {}
