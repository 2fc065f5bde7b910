// Rule 5: an empty up file.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/empty_up");

fn main() {}
