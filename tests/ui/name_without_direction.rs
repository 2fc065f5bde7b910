// Rule 4: a file name without `.up`/`.down`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/name_without_direction");

fn main() {}
