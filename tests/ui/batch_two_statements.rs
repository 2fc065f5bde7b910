// Batch migrations: exactly one statement, run once per batch.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/batch_two_statements");

fn main() {}
