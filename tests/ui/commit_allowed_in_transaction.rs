// `-- migrate:allow-in-transaction` keeps the file in the migration's
// transaction: it does not let the file end it with `COMMIT` or `END TRANSACTION`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/commit_allowed_in_transaction");

fn main() {}
