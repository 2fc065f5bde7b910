// The ways to say "I know": `-- migrate:allow-in-transaction` keeps a refused
// statement in the migration's transaction, `-- migrate:no-transaction` lets a
// file manage its own (SQLite's table rebuild recipe with BEGIN ... COMMIT).
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/allowed_in_transaction");

fn main() {
    let flags: Vec<(i64, bool)> = MIGRATIONS
        .migrations()
        .iter()
        .map(|m| (m.version, m.up.no_transaction))
        .collect();
    assert_eq!(flags, [(1, false), (2, false), (3, true)]);
}
