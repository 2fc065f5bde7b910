// Rule 7: a folder with no migration (only a `.gitkeep`, which is ignored).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/no_migration");

fn main() {}
