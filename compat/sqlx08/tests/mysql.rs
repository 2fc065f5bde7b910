//! The shared suites of tests/ on a real MySQL or MariaDB server, on sqlx
//! 0.8: the scenarios, the fault suite, Rust migrations, adoption, layouts,
//! repeatable migrations, and 16 processes booting at once.
//!
//! Needs `TEST_MYSQL_URL`; without it every test skips loudly, or fails
//! when `CI=true`.

#[macro_use]
#[path = "../../../tests/support/mod.rs"]
mod support;
#[path = "../../../tests/servers/mod.rs"]
mod servers;

use embedded_migrations::{embed_migrations, Migrations};
use servers::dbs::{MyDb, MYSQL_URL};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use std::time::Duration;

backend_scenarios!(MyDb);
fault_scenarios!(MyDb);
sql_fault_scenarios!(MyDb);
sql_scenarios!(MyDb);
// Rust migrations written against the application's sqlx, here 0.8.
code_scenarios!(
    MyDb,
    mysql,
    "tests/fixtures/code_mysql",
    "tests/fixtures/code_mysql_edited",
    "tests/fixtures/code_mysql_failing",
    "tests/fixtures/code_mysql_panicking"
);
// sqlx 0.8's own migrator makes the `_sqlx_migrations` that `import` reads.
adoption_scenarios!(MyDb, embedded_migrations::core::split::Dialect::MySql);
layout_scenarios!(MyDb);
repeatable_scenario!(
    MyDb,
    "tests/fixtures/repeatable_mysql_v1",
    "tests/fixtures/repeatable_mysql_v2",
    "SELECT count(*) FROM (SELECT a_code() AS e) t WHERE e = '{edition}'"
);

static SLOW: Migrations = embed_migrations!("tests/fixtures/mysql_slow");

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_MYSQL_CHILD";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_MYSQL_CHILD_DB";

/// The child half of `sixteen_processes_booting_at_once_apply_each_migration_once`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    servers::child_role(CHILD_ENV);
    let database = std::env::var(DB_ENV).expect("the parent names the database");
    let options: MySqlConnectOptions =
        servers::server(MYSQL_URL, "child_process_entry").expect("the parent has a server");
    let pool = MySqlPoolOptions::new()
        .max_connections(2)
        .connect_with(options.database(&database))
        .await
        .expect("the child connects");
    // SLOW holds the lock for 2 s: time for every child to meet it.
    servers::boot_child(SLOW.run(&pool)).await;
}

/// As tests/mysql.rs's race: each migration applied by exactly one of 16
/// processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let Some(db) = MyDb::create("sixteen_processes").await else {
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
}
