// The pragma's name in SQLite's brackets, and the function-call form: SQLite
// reads both as `PRAGMA foreign_keys`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/bracketed_pragma");

fn main() {}
