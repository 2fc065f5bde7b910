//! The shared suites of tests/ on SQLite files, on sqlx 0.8: the scenarios,
//! the fault suite, and processes booting at once on one file.

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

static SLOW: Migrations = embed_migrations!("tests/fixtures/sqlite_slow");

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_CHILD_DB";

/// The child half of `four_processes_booting_at_once_apply_each_migration_once`.
#[tokio::test]
#[ignore = "a child process that four_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    let path = servers::child_role(CHILD_ENV);
    let pool = open(&PathBuf::from(path)).await;
    servers::boot_child(SLOW.run(&pool)).await;
}

/// As tests/sqlite.rs's race: processes on one file, each migration applied
/// by exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_booting_at_once_apply_each_migration_once() {
    let db = SqliteDb::fresh("four_processes").await.expect("sqlite");
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, db.path.display().to_string())],
        4,
        std::time::Duration::from_millis(1000),
    );
    servers::assert_each_applied_once(&db, &SLOW, &applied).await;
    assert_eq!(
        db.count("SELECT count(*) FROM counter").await,
        1,
        "the data migration ran once"
    );
}
