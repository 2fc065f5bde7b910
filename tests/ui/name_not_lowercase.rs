// Rule 4: a name that is not lowercase letters, digits and underscores.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/name_not_lowercase");

fn main() {}
