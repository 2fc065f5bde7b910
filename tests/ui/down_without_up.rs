// Rule 2: a down file without the up file it reverts.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/down_without_up");

fn main() {}
