// Rule 10: a version above i64::MAX.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/version_too_large");

fn main() {}
