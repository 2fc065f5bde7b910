// MySQL's and PostgreSQL's other spellings of BEGIN and COMMIT, and a savepoint
// the file never created, in a transactional file.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/start_transaction");

fn main() {}
