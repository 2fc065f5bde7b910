// Batch migrations: the statement limits each batch with :batch.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/batch_without_placeholder");

fn main() {}
