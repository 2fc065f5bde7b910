// A squashed folder's baseline (`migrate:baseline`): its chain is a SHA-256 and its down file is irreversible.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/baseline_reversible");

fn main() {}
