// A bare `END`, COMMIT's synonym on PostgreSQL and SQLite, in a transactional
// file: it would commit `t1` before the migration is recorded. The trigger's
// `END` closes its body and is not refused.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/bare_end");

fn main() {}
