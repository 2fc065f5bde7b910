// Rule 4: versions are positive; 0 is not one.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/version_zero");

fn main() {}
