// Placeholders: `${}` names nothing.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/placeholder_empty");

fn main() {}
