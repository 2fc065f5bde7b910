//! The shared suites of tests/ on a real PostgreSQL server, on sqlx 0.8:
//! the scenarios, the fault suite, Rust migrations, adoption, layouts,
//! repeatable migrations, and 16 processes booting at once.
//!
//! Needs `TEST_POSTGRES_URL`; without it every test skips loudly, or fails
//! when `CI=true`.

#[macro_use]
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../../../tests/servers/mod.rs"]
mod servers;

use embedded_migrations::{embed_migrations, Migrations};
use servers::dbs::{PgDb, POSTGRES_URL};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::time::Duration;
use support::TestDb;

backend_scenarios!(PgDb);
fault_scenarios!(PgDb);
sql_fault_scenarios!(PgDb, transactional);
sql_scenarios!(PgDb);
// Rust migrations written against the application's sqlx, here 0.8.
code_scenarios!(
    PgDb,
    postgres,
    "tests/fixtures/code_postgres",
    "tests/fixtures/code_postgres_edited",
    "tests/fixtures/code_postgres_failing",
    "tests/fixtures/code_postgres_panicking"
);
// sqlx 0.8's own migrator makes the `_sqlx_migrations` that `import` reads.
adoption_scenarios!(PgDb, embedded_migrations::core::split::Dialect::Postgres);
layout_scenarios!(PgDb);
repeatable_scenario!(
    PgDb,
    "tests/fixtures/repeatable_postgres_v1",
    "tests/fixtures/repeatable_postgres_v2",
    "SELECT count(*) FROM (SELECT a_code() AS e) t WHERE e = '{edition}'"
);

static SLOW: Migrations = embed_migrations!("tests/fixtures/postgres_slow");

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_PG_CHILD";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_PG_CHILD_DB";

/// The child half of `sixteen_processes_booting_at_once_apply_each_migration_once`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    servers::child_role(CHILD_ENV);
    let database = std::env::var(DB_ENV).expect("the parent names the database");
    let options: PgConnectOptions =
        servers::server(POSTGRES_URL, "child_process_entry").expect("the parent has a server");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.database(&database))
        .await
        .expect("the child connects");
    // SLOW holds the lock for 2 s: time for every child to meet it.
    servers::boot_child(SLOW.run(&pool)).await;
}

/// As tests/postgres.rs's race: each migration applied by exactly one of 16
/// processes, and no advisory lock left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let Some(db) = PgDb::create("sixteen_processes").await else {
        return;
    };
    // Time enough for 16 processes to start on two cores before the instant.
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, "boot".to_string()), (DB_ENV, db.name.clone())],
        16,
        Duration::from_millis(2500),
    );
    servers::assert_each_applied_once(&db, &SLOW, &applied).await;
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history WHERE NOT success")
            .await,
        0
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .await,
        0
    );
}
