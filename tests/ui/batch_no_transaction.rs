// Batch migrations: each batch is a transaction, so no-transaction is refused.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/batch_no_transaction");

fn main() {}
