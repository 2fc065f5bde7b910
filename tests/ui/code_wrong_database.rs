// A code migration whose functions take another database's transaction
// than the one the macro names does not compile.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/code_wrong_database", database = sqlite);

fn main() {}
