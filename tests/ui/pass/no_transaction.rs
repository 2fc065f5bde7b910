// `-- migrate:no-transaction` is read per file, up and down alike.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/no_transaction");

fn main() {
    let flags: Vec<(bool, bool)> = MIGRATIONS
        .migrations()
        .iter()
        .map(|m| (m.up.no_transaction, m.down.no_transaction))
        .collect();
    assert_eq!(flags, [(false, false), (true, true)]);
}
