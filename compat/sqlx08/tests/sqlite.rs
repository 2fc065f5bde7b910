//! The shared suites of tests/ on SQLite files, on sqlx 0.8: the scenarios,
//! the fault suite, Rust migrations, adoption, layouts, repeatable
//! migrations, and processes booting at once on one file.

#[macro_use]
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../../../tests/servers/mod.rs"]
mod servers;

use embedded_migrations::{embed_migrations, Migrations};
use servers::dbs::sqlite::open;
use servers::dbs::SqliteDb;
use std::path::PathBuf;
use support::TestDb;

backend_scenarios!(SqliteDb);
fault_scenarios!(SqliteDb);
sql_fault_scenarios!(SqliteDb, transactional);
sql_scenarios!(SqliteDb);
// Rust migrations written against the application's sqlx, here 0.8.
code_scenarios!(
    SqliteDb,
    sqlite,
    "tests/fixtures/code_sqlite",
    "tests/fixtures/code_sqlite_edited",
    "tests/fixtures/code_sqlite_failing",
    "tests/fixtures/code_sqlite_panicking"
);
// sqlx 0.8's own migrator makes the `_sqlx_migrations` that `import` reads.
adoption_scenarios!(SqliteDb, embedded_migrations::core::split::Dialect::Sqlite);
layout_scenarios!(SqliteDb);
repeatable_scenario!(
    SqliteDb,
    "tests/fixtures/repeatable_sqlite_v1",
    "tests/fixtures/repeatable_sqlite_v2",
    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'a_code' AND sql LIKE '%''{edition}''%'"
);

static SLOW: Migrations = embed_migrations!("tests/fixtures/sqlite_slow");

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_CHILD_DB";

/// The child half of `sixteen_processes_booting_at_once_apply_each_migration_once`.
#[tokio::test]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    let path = servers::child_role(CHILD_ENV);
    let pool = open(&PathBuf::from(path)).await;
    servers::boot_child(SLOW.run(&pool)).await;
}

/// As tests/sqlite.rs's race: processes on one file, each migration applied
/// by exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let db = SqliteDb::fresh("sixteen_processes").await.expect("sqlite");
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, db.path.display().to_string())],
        16,
        std::time::Duration::from_millis(2500),
    );
    servers::assert_each_applied_once(&db, &SLOW, &applied).await;
    assert_eq!(
        db.count("SELECT count(*) FROM counter").await,
        1,
        "the data migration ran once"
    );
}
