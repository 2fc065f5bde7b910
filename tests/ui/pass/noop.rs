// A comment-only up file that says `migrate:noop`: the build keeps the
// version (with a comment-only down file), and it runs no statement.
use embedded_migrations::core::split::{split, Dialect};
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/noop");

fn main() {
    let versions: Vec<i64> = MIGRATIONS.migrations().iter().map(|m| m.version).collect();
    assert_eq!(versions, [1, 2]);
    let noop = &MIGRATIONS.migrations()[1];
    assert!(noop.up.text.contains("migrate:noop"), "the premise: the file says noop");
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
        assert!(split(noop.up.text, dialect).is_empty());
        assert!(split(noop.down.text, dialect).is_empty());
    }
}
