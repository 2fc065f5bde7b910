// Rule 8: SQL and Cypher files in one folder.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/mixed_languages");

fn main() {}
