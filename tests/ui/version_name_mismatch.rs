// Rule 3: an up and a down file share a version but not a name: two migrations, one version.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/version_name_mismatch");

fn main() {}
