// A squashed folder's baseline (`migrate:baseline`): it is the folder's first migration.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/baseline_not_first");

fn main() {}
