// Placeholders: a name starts with a letter or `_`, so `${1x}` is a mistake.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/placeholder_bad_name");

fn main() {}
