// Rule 6: a file that is not UTF-8 (Latin-1 here).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/not_utf8");

fn main() {}
