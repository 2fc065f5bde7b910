// BEGIN and COMMIT in a file that runs in the migration's transaction: the
// COMMIT would end it before the migration is recorded.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/transaction_statements");

fn main() {}
