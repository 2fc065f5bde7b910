// A migration's timeout is a whole number with its unit.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/timeout_without_unit");

fn main() {}
