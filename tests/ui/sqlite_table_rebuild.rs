// SQLite's table rebuild recipe in a transactional file: PRAGMA foreign_keys
// does nothing inside a transaction, and ON DELETE CASCADE empties `child`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/sqlite_table_rebuild");

fn main() {}
