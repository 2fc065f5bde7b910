// `migrate:noop` on a file that holds statements: the directive would lie.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/noop_with_statements");

fn main() {}
