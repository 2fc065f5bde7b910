//! Scenarios shared by every SQL backend: each backend's test file
//! implements [`TestDb`] and instantiates them with `backend_scenarios!`, so
//! SQLite, PostgreSQL and MySQL are held to the very same rules.
#![allow(dead_code)]

pub mod fixtures;
pub mod scenarios;

use embedded_migrations::backend::Database;
use embedded_migrations::Sql;
use std::future::Future;

/// A fresh, private database for one test.
pub trait TestDb: Sized {
    type Pool: Database<Language = Sql>;
    /// Whether a failed migration's DDL is rolled back (false on MySQL,
    /// where DDL commits implicitly and the migration is left dirty).
    const TRANSACTIONAL_DDL: bool;

    /// `None` when the backend is not configured here (the impl has already
    /// said so loudly, or failed the test when `CI=true`).
    fn fresh(test: &str) -> impl Future<Output = Option<Self>>;
    fn pool(&self) -> &Self::Pool;
    /// User tables and views of the test database, sorted, the migration
    /// tracking tables included.
    fn tables(&self) -> impl Future<Output = Vec<String>>;
    fn exec(&self, sql: &str) -> impl Future<Output = ()>;
    fn count(&self, sql: &str) -> impl Future<Output = i64>;
}

/// Fails in CI, skips loudly elsewhere: a green CI run has exercised every
/// backend.
pub fn missing_backend(variable: &str, test: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{variable} is not set, but CI=true: every backend must be exercised in CI ({test})");
    }
    // Straight to the process's stderr: libtest captures eprintln! of passing
    // tests, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: {variable} is not set; this test needs a real server ***\n"
    );
}

/// A name unique to this test run, usable as a database name.
pub fn unique_name(test: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let short: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    format!("em_{short}_{}_{nanos}", std::process::id()).to_lowercase()
}

/// Instantiates every shared scenario as a `#[tokio::test]` for `$db`.
#[macro_export]
macro_rules! backend_scenarios {
    ($db:ty) => {
        $crate::backend_scenarios!(@tests $db;
            applies_in_order_then_nothing,
            drift_stops_the_run_before_anything_is_applied,
            migrations_missing_from_the_binary,
            out_of_order_migrations,
            failure_midway_rolls_back_and_is_not_recorded,
            batched_failure_names_its_statement_and_line,
            tracking_values_are_stored_exactly,
            down_and_down_to_revert_in_reverse_order,
            irreversible_refuses_before_changing_anything,
            plans_change_nothing,
            hand_edited_tracking_row_is_caught_by_validate,
            run_to_stops_at_the_version,
            force_and_forget_adjust_the_record_only,
            custom_table_name_and_bad_names,
            group_mode_is_all_or_nothing,
        );
    };
    (@tests $db:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh(stringify!($name)).await else { return };
                $crate::support::scenarios::$name(&db).await;
            }
        )*
    };
}
