// Rule 5: `-- migrate:irreversible` written in the up file instead of the down file.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/irreversible_in_up");

fn main() {}
