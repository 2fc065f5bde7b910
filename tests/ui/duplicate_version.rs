// Rule 3: `001` and `1` are the same version, so two migrations share it.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/duplicate_version");

fn main() {}
