// A down file that holds only comments and `-- migrate:irreversible` builds:
// the file says on purpose that the migration cannot be reverted.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/irreversible_down");

fn main() {
    let flags: Vec<(i64, bool)> = MIGRATIONS.migrations().iter().map(|m| (m.version, m.irreversible)).collect();
    assert_eq!(flags, [(1, false), (2, true)]);
}
