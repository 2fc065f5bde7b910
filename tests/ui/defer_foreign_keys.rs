// `PRAGMA defer_foreign_keys = ON` in SQLite's table rebuild: it defers the
// checks, not the `ON DELETE CASCADE` action, and `DROP TABLE parent` empties
// `child`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/defer_foreign_keys");

fn main() {}
