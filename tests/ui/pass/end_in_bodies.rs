// `END` that closes a body is not COMMIT's synonym: a trigger's, a `BEGIN
// ATOMIC` function's, a `DO` block's, a PL/pgSQL function's, a procedure's
// with its loops and `CASE`, MariaDB's `BEGIN NOT ATOMIC` block, and a
// savepoint the file created and releases, all in transactional files.
use embedded_migrations::core::split::{split, Dialect};
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/end_in_bodies");

fn main() {
    let statements: Vec<(i64, usize)> = MIGRATIONS
        .migrations()
        .iter()
        .map(|m| (m.version, split(m.up.text, Dialect::Postgres).len()))
        .collect();
    assert_eq!(statements, [(1, 7), (2, 3), (3, 2)]);
    assert!(MIGRATIONS.migrations().iter().all(|m| !m.up.no_transaction));
}
