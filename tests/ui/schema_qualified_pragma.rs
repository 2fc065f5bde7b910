// The pragma's name in backquotes behind a quoted schema, and in single quotes
// behind a bare one: SQLite reads both as `PRAGMA foreign_keys`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/schema_qualified_pragma");

fn main() {}
