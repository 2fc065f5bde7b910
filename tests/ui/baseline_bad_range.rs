// A squashed folder's baseline (`migrate:baseline`): its range ends at its own version.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/baseline_bad_range");

fn main() {}
