// Rule 7: the path names a file, not a folder.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/not_a_folder.sql");

fn main() {}
