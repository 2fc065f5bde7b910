// Rule 1, the headline: an up file without its down file.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/up_without_down");

fn main() {}
