// A folder with a Rust code migration names the database its functions are
// written for.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/code_without_database");

fn main() {}
