// Batch migrations: the size is a positive integer.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/batch_bad_size");

fn main() {}
