// Rule 5: a down file with no statement (a comment only) and no `-- migrate:irreversible`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/empty_down");

fn main() {}
