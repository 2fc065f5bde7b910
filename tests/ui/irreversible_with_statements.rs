// Rule 5: a down file says `-- migrate:irreversible` and still holds statements.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/irreversible_with_statements");

fn main() {}
