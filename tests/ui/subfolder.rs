// Rule 4: a subfolder inside the migration folder.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/subfolder");

fn main() {}
