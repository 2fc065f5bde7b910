//! Scenarios shared by every backend: each backend's test file implements
//! [`TestDb`] and instantiates them with `backend_scenarios!`, so SQLite,
//! PostgreSQL, MySQL and Neo4j are held to the very same rules. The
//! database's language picks the fixture folders ([`TestLanguage`]); what a
//! scenario does by hand to the tracking records goes through `TestDb`'s
//! hooks, written once per language and overridable per backend.
#![allow(dead_code)]

pub mod adoption;
pub mod faults;
pub mod fixtures;
pub mod layouts;
pub mod placeholders;
pub mod repeatable;
pub mod scenarios;

use embedded_migrations::backend::Database;
use embedded_migrations::{Cypher, Language, Sql};
use fixtures::Fixtures;
use std::future::Future;

/// The language of a test database's migrations.
pub type Lang<D> = <<D as TestDb>::Pool as Database>::Language;

/// What the scenarios need from a migration language: its fixture folders
/// and the text of the queries they run by hand, in `TestDb::count` and
/// `TestDb::exec` form (a Cypher count names its value `n`).
pub trait TestLanguage: Language + Sized {
    /// The default tracking table (label on Neo4j) as `TestDb::tables` lists it.
    const TRACKING: &'static str;
    /// Whether tracking lives in tables, which can be dropped (SQL), or in
    /// nodes, which can only be deleted (a label needs no creating).
    const TABLES: bool;
    fn fixtures() -> &'static Fixtures<Self>;
    fn count_rows(table: &str) -> String;
    fn count_records() -> String;
    fn set_checksum(version: i64, checksum: &str) -> String;
    fn delete_record(version: i64) -> String;
    /// The fault-injection tampers (tests/support/faults.rs), on the default
    /// tracking table: the state row's applied count set by hand, the
    /// history table (nodes) and the state table (node) dropped.
    fn edit_state(applied_count: i64) -> String;
    fn drop_history() -> String;
    fn drop_state() -> String;
    /// Creates the `runs` table the `inserts` fixtures write to (none in a graph).
    fn create_runs() -> Option<String>;
    /// Rows (nodes) of `table` whose `column` is `value`, in `TestDb::count` form.
    fn count_where(table: &str, column: &str, value: &str) -> String;
    /// Rows (nodes) of the default history whose `column` holds `text`.
    fn count_history_holding(column: &str, text: &str) -> String;
    /// Rows (nodes) of `runs` with `v = version`, in `TestDb::count` form.
    fn count_runs(version: i64) -> String;
}

impl TestLanguage for Sql {
    const TRACKING: &'static str = "_embedded_migrations";
    const TABLES: bool = true;

    fn fixtures() -> &'static Fixtures<Sql> {
        &fixtures::SQL
    }

    fn count_rows(table: &str) -> String {
        format!("SELECT count(*) FROM {table}")
    }

    fn count_where(table: &str, column: &str, value: &str) -> String {
        format!("SELECT count(*) FROM {table} WHERE {column} = '{value}'")
    }

    fn count_history_holding(column: &str, text: &str) -> String {
        format!(
            "SELECT count(*) FROM {}_history WHERE {column} LIKE '%{text}%'",
            Self::TRACKING
        )
    }

    fn count_records() -> String {
        format!("SELECT count(*) FROM {}", Self::TRACKING)
    }

    fn set_checksum(version: i64, checksum: &str) -> String {
        format!(
            "UPDATE {} SET checksum = '{checksum}' WHERE version = {version}",
            Self::TRACKING
        )
    }

    fn delete_record(version: i64) -> String {
        format!("DELETE FROM {} WHERE version = {version}", Self::TRACKING)
    }

    fn edit_state(applied_count: i64) -> String {
        format!(
            "UPDATE {}_state SET applied_count = {applied_count} WHERE id = 1",
            Self::TRACKING
        )
    }

    fn drop_history() -> String {
        format!("DROP TABLE {}_history", Self::TRACKING)
    }

    fn drop_state() -> String {
        format!("DROP TABLE {}_state", Self::TRACKING)
    }

    fn create_runs() -> Option<String> {
        Some("CREATE TABLE runs (v INTEGER)".to_string())
    }

    fn count_runs(version: i64) -> String {
        format!("SELECT count(*) FROM runs WHERE v = {version}")
    }
}

impl TestLanguage for Cypher {
    const TRACKING: &'static str = "__EmbeddedMigration";
    const TABLES: bool = false;

    fn fixtures() -> &'static Fixtures<Cypher> {
        &fixtures::CYPHER
    }

    fn count_rows(table: &str) -> String {
        format!("MATCH (x:`{table}`) RETURN count(x) AS n")
    }

    fn count_records() -> String {
        format!("MATCH (m:`{}`) RETURN count(m) AS n", Self::TRACKING)
    }

    fn set_checksum(version: i64, checksum: &str) -> String {
        format!(
            "MATCH (m:`{}` {{version: {version}}}) SET m.checksum = '{checksum}'",
            Self::TRACKING
        )
    }

    fn delete_record(version: i64) -> String {
        format!("MATCH (m:`{}` {{version: {version}}}) DELETE m", Self::TRACKING)
    }

    fn edit_state(applied_count: i64) -> String {
        format!(
            "MATCH (s:`{}State` {{id: 1}}) SET s.applied_count = {applied_count}",
            Self::TRACKING
        )
    }

    fn drop_history() -> String {
        format!("MATCH (h:`{}History`) DETACH DELETE h", Self::TRACKING)
    }

    fn drop_state() -> String {
        format!("MATCH (s:`{}State`) DETACH DELETE s", Self::TRACKING)
    }

    fn create_runs() -> Option<String> {
        None
    }

    fn count_where(table: &str, column: &str, value: &str) -> String {
        format!("MATCH (x:`{table}`) WHERE x.{column} = '{value}' RETURN count(x) AS n")
    }

    fn count_history_holding(column: &str, text: &str) -> String {
        format!(
            "MATCH (h:`{}History`) WHERE h.{column} CONTAINS '{text}' RETURN count(h) AS n",
            Self::TRACKING
        )
    }

    fn count_runs(version: i64) -> String {
        format!("MATCH (r:runs {{v: {version}}}) RETURN count(r) AS n")
    }
}

/// A fresh, private database for one test (on Neo4j: the one database,
/// wiped, held for this test alone).
pub trait TestDb: Sized {
    type Pool: Database<Language: TestLanguage>;
    /// Whether a failed migration's DDL is rolled back (false on MySQL,
    /// where DDL commits implicitly: the migration is left dirty).
    const TRANSACTIONAL_DDL: bool;
    /// Whether every pending migration can run in one transaction (group
    /// mode): where DDL is transactional, but not on Neo4j, which commits
    /// a migration's schema statements in a transaction of their own.
    const GROUP_MODE: bool = Self::TRANSACTIONAL_DDL;

    /// `None` when the backend is not configured here (the impl has already
    /// said so loudly, or failed the test when `CI=true`).
    fn fresh(test: &str) -> impl Future<Output = Option<Self>>;
    fn pool(&self) -> &Self::Pool;
    /// User tables and views of the test database, sorted, the migration
    /// tracking tables included (on Neo4j: constraints, indexes and the
    /// labels nodes carry).
    fn tables(&self) -> impl Future<Output = Vec<String>>;
    /// Runs a statement in the database's language.
    fn exec(&self, sql: &str) -> impl Future<Output = ()>;
    /// The one number a query in the database's language returns.
    fn count(&self, sql: &str) -> impl Future<Output = i64>;

    /// Whether `err` is this backend's driver error (`sqlx::Error`,
    /// `neo4rs::Error`): what `Error::source` must give.
    fn driver_error(err: &(dyn std::error::Error + 'static)) -> bool {
        err.is::<sqlx::Error>()
    }

    /// Rows (nodes) of a user table the fixtures create.
    fn rows(&self, table: &str) -> impl Future<Output = i64> {
        let query = Lang::<Self>::count_rows(table);
        async move { self.count(&query).await }
    }

    /// Records in the default tracking table.
    fn tracking_records(&self) -> impl Future<Output = i64> {
        async move { self.count(&Lang::<Self>::count_records()).await }
    }

    /// Overwrites a recorded checksum, as a hand edit would.
    fn tamper_checksum(&self, version: i64, checksum: &str) -> impl Future<Output = ()> {
        let statement = Lang::<Self>::set_checksum(version, checksum);
        async move { self.exec(&statement).await }
    }

    /// Deletes a tracking record by hand.
    fn delete_record(&self, version: i64) -> impl Future<Output = ()> {
        async move { self.exec(&Lang::<Self>::delete_record(version)).await }
    }
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
            down_and_down_to_revert_in_reverse_order,
            irreversible_refuses_before_changing_anything,
            plans_change_nothing,
            hand_edited_tracking_row_is_caught_by_validate,
            plan_refuses_a_stale_state_row_as_run_would,
            run_to_stops_at_the_version,
            force_and_forget_adjust_the_record_only,
            custom_table_name_and_bad_names,
            group_mode_is_all_or_nothing,
        );
        $crate::backend_scenarios!(@placeholders $db;
            placeholders_are_substituted_escaped_and_recorded,
            placeholders_missing_fail_before_anything,
        );
    };
    (@faults $db:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh(concat!("fault_", stringify!($name))).await else { return };
                $crate::support::faults::check(&db, $crate::support::faults::Tamper::$name).await;
            }
        )*
    };
    (@placeholders $db:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh(stringify!($name)).await else { return };
                $crate::support::placeholders::$name(&db).await;
            }
        )*
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

/// Instantiates the fault-injection suite (tests/support/faults.rs) for
/// `$db`: each tamper of the tracking tables, then `run`, `status`,
/// `validate`, a newer binary's `run` and `repair`, each under a timeout.
#[macro_export]
macro_rules! fault_scenarios {
    ($db:ty) => {
        mod faults {
            use super::*;
            $crate::backend_scenarios!(@faults $db;
                state_row_edited,
                newest_tracking_row_deleted,
                middle_tracking_row_deleted,
                checksum_edited,
                history_table_dropped,
                state_table_dropped,
            );

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cancelled_runs_leave_the_lock_free_and_the_tracking_true() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh("fault_cancelled_runs").await else { return };
                $crate::support::faults::cancelled_runs(&db).await;
            }
        }
    };
}

/// Instantiates the fault suite's SQL cases for `$db`, which implements
/// `faults::SqlFaults`: a file that ends its transaction, and a failed
/// file that must not leave the application a poisoned connection; with
/// `transactional`, where migrations run in a transaction, also a file
/// that rolls it back and a group whose file commits halfway.
#[macro_export]
macro_rules! sql_fault_scenarios {
    ($db:ty) => {
        mod sql_faults {
            use super::*;
            $crate::sql_fault_scenarios!(@tests $db;
                a_file_that_ends_its_transaction,
                a_failed_file_leaves_no_poisoned_connection,
                a_cancelled_file_leaves_no_poisoned_connection,
            );
        }
    };
    ($db:ty, transactional) => {
        mod sql_faults {
            use super::*;
            $crate::sql_fault_scenarios!(@tests $db;
                a_file_that_ends_its_transaction,
                a_failed_file_leaves_no_poisoned_connection,
                a_cancelled_file_leaves_no_poisoned_connection,
                a_file_that_rolls_back_its_transaction,
                a_group_whose_file_commits_halfway,
            );
        }
    };
    (@placeholders $db:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh(stringify!($name)).await else { return };
                $crate::support::placeholders::$name(&db).await;
            }
        )*
    };
    (@tests $db:ty; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = <$db as $crate::support::TestDb>::fresh(concat!("fault_", stringify!($name))).await else {
                    return;
                };
                $crate::support::faults::$name(&db).await;
            }
        )*
    };
}

/// Instantiates the shared scenarios that are SQL's own for `$db` (a
/// transactional file sent as one batch, literal tracking SQL).
#[macro_export]
macro_rules! sql_scenarios {
    ($db:ty) => {
        $crate::backend_scenarios!(@tests $db;
            batched_failure_names_its_statement_and_line,
            tracking_values_are_stored_exactly,
            another_applications_tracking_table_is_named,
            a_group_whose_third_migration_fails_names_it_and_leaves_nothing,
            a_group_records_each_migration_with_its_own_duration,
        );
        $crate::backend_scenarios!(@placeholders $db;
            placeholders_history_of_an_older_release_is_upgraded,
        );
    };
}

/// Instantiates the adoption scenarios (`baseline`, `import`) for `$db`, whose
/// SQL is `$dialect`; sqlx's own tables are made by running sqlx's migrator.
#[macro_export]
macro_rules! adoption_scenarios {
    ($db:ty, $dialect:expr) => {
        mod adoption {
            use super::*;
            use $crate::support::{adoption, TestDb};

            async fn fresh(test: &str) -> Option<$db> {
                <$db as TestDb>::fresh(test).await
            }

            /// sqlx's `_sqlx_migrations`, by sqlx itself: its migrator run on
            /// one of our fixture folders (its `<version>_<name>.up.sql` files
            /// are sqlx's reversible format too).
            async fn sqlx_applies(db: &$db, folder: &str, to: i64) {
                let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures")
                    .join(folder);
                let mut migrator = sqlx::migrate::Migrator::new(path)
                    .await
                    .expect("sqlx reads the folder");
                // Up to `to` by leaving the rest out, as sqlx 0.9's `run_to`
                // would: sqlx 0.8 (compat/sqlx08) has no `run_to`.
                let upto: Vec<_> = migrator
                    .migrations
                    .iter()
                    .filter(|m| m.version <= to)
                    .cloned()
                    .collect();
                migrator.migrations = upto.into();
                migrator.run(db.pool()).await.expect("sqlx applies the folder");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn baseline_records_without_running() {
                let Some(db) = fresh("baseline_records").await else {
                    return;
                };
                adoption::baseline_records_without_running(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn baseline_refuses_rows_it_would_not_write() {
                let Some(db) = fresh("baseline_refuses").await else {
                    return;
                };
                adoption::baseline_refuses_rows_it_would_not_write(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_sqlx_then_run_applies_only_the_new() {
                let Some(db) = fresh("import_sqlx").await else {
                    return;
                };
                sqlx_applies(&db, "base", 2).await;
                adoption::import_sqlx_then_run_applies_only_the_new(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_sqlx_lists_every_mismatch() {
                let Some(db) = fresh("import_sqlx_mismatch").await else {
                    return;
                };
                sqlx_applies(&db, "gapped", 3).await;
                adoption::import_sqlx_lists_every_mismatch(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_sqlx_refuses_another_file() {
                let Some(db) = fresh("import_sqlx_file").await else {
                    return;
                };
                sqlx_applies(&db, "base", 2).await;
                adoption::import_sqlx_refuses_another_file(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_refinery() {
                let Some(db) = fresh("import_refinery").await else {
                    return;
                };
                adoption::import_refinery(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_diesel() {
                let Some(db) = fresh("import_diesel").await else {
                    return;
                };
                adoption::import_diesel(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_golang_migrate() {
                let Some(db) = fresh("import_golang").await else {
                    return;
                };
                adoption::import_golang_migrate(&db, $dialect).await;
            }
        }
    };
}

/// A [`TestDb`] whose database runs SQL: the SQL-only scenarios
/// (adoption from other SQL tools, repeatable views and functions).
pub trait SqlTestDb: TestDb<Pool: Database<Language = embedded_migrations::Sql>> {}

impl<D: TestDb<Pool: Database<Language = embedded_migrations::Sql>>> SqlTestDb for D {}
