// Rule 9: an unknown `-- migrate:` directive (a typo of `no-transaction`).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/unknown_directive");

fn main() {}
