// Rule 4: a file name without a version.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/name_without_version");

fn main() {}
