// A Rust code migration defines `down`, or says `// migrate:irreversible`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/code_missing_down", database = sqlite);

fn main() {}
