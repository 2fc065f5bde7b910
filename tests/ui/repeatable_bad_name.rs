// A repeatable file whose name is not lowercase.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/repeatable_bad");

fn main() {}
