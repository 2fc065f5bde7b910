// Rule 7: the folder does not exist.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/does_not_exist");

fn main() {}
