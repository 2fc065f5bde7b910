//! A migration's timeouts (`migrate:timeout statement=… lock=…`, and
//! `Settings::statement_timeout` / `Settings::statement_lock_timeout`) on
//! real servers: an `ALTER TABLE` blocked behind a lock another session
//! holds is stopped by the database at the timeout, the run fails with
//! `Error::TimedOut` naming it (around the statement's `MigrationFailed`), nothing is recorded, and once the lock is
//! gone the next run applies it. SQLite, which has no such timeouts, refuses
//! them before anything runs.
//!
//! Needs `TEST_POSTGRES_URL` and `TEST_MYSQL_URL` (the SQLite case needs no
//! server); without one, its tests skip loudly, or fail when `CI=true`.
#![cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Error, MigrationState, Migrations, Settings, Timeout};
use servers::dbs::{MyDb, PgDb};
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;
use support::TestDb;

static PG_HEADER: Migrations = embed_migrations!("tests/fixtures/postgres_timeout_header");
static PG_SETTINGS: Migrations = embed_migrations!("tests/fixtures/postgres_timeout_settings");
static MY_HEADER: Migrations = embed_migrations!("tests/fixtures/mysql_timeout_header");
static MY_SETTINGS: Migrations = embed_migrations!("tests/fixtures/mysql_timeout_settings");
static SQLITE_HEADER: Migrations = embed_migrations!("tests/fixtures/sqlite_timeout_header");

/// The failed run's error: migration 2, stopped at its ALTER TABLE by
/// `expected`, rolled back or never committed, and nothing recorded.
async fn assert_timed_out<P>(err: Error, expected: Timeout, set: &Migrations, pool: &P)
where
    P: embedded_migrations::backend::Database<Language = embedded_migrations::Sql>,
{
    eprintln!("{err}");
    let text = err.to_string();
    match &err {
        Error::TimedOut { timeout, error } => {
            assert_eq!(*timeout, expected, "{text}");
            match error.as_ref() {
                Error::MigrationFailed {
                    version: 2,
                    statement,
                    committed: 0,
                    ..
                } => assert!(statement.contains("ALTER TABLE held"), "{text}"),
                other => panic!("expected migration 2's ALTER TABLE inside, got {other}"),
            }
        }
        other => panic!("expected migration 2 to time out at its ALTER TABLE, got {other}"),
    }
    assert!(
        text.contains(&expected.to_string()),
        "the message names the timeout: {text}"
    );
    let status = set.status(pool).await.expect("status");
    let states: Vec<_> = status.entries.iter().map(|e| (e.version, e.state)).collect();
    assert_eq!(
        states,
        [(1, MigrationState::Applied), (2, MigrationState::Pending)],
        "nothing recorded for 2"
    );
}

/// A database where another session can hold a lock that an ALTER TABLE
/// of `held` waits for.
trait Blockable: TestDb<Pool: embedded_migrations::backend::Database<Language = embedded_migrations::Sql>> {
    type Holder: sqlx::Connection;
    /// Counts the column `x` of `held` (what migration 2 adds).
    const COLUMN_X: &'static str;

    /// A session holding the lock, in an open transaction.
    async fn hold(&self) -> Self::Holder;
}

impl Blockable for PgDb {
    type Holder = sqlx::PgConnection;
    const COLUMN_X: &'static str =
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'held' AND column_name = 'x'";

    /// A reader's ACCESS SHARE.
    async fn hold(&self) -> sqlx::PgConnection {
        let mut holder = self.options().connect().await.expect("holder");
        sqlx::raw_sql("BEGIN; LOCK TABLE held IN ACCESS SHARE MODE")
            .execute(&mut holder)
            .await
            .expect("hold the lock");
        holder
    }
}

impl Blockable for MyDb {
    type Holder = sqlx::MySqlConnection;
    const COLUMN_X: &'static str = "SELECT count(*) FROM information_schema.COLUMNS \
                                    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'held' AND COLUMN_NAME = 'x'";

    /// The table's metadata lock, held by a reader.
    async fn hold(&self) -> sqlx::MySqlConnection {
        let mut holder = self.options().connect().await.expect("holder");
        sqlx::raw_sql("START TRANSACTION; SELECT * FROM held")
            .execute(&mut holder)
            .await
            .expect("hold the lock");
        holder
    }
}

/// Applies 1, holds the lock, runs `set` with `settings` and expects
/// `expected` (migration 2 rolled back, or never run); then, the lock
/// released, 2 applies.
async fn case<D: Blockable>(test: &str, set: &'static Migrations, settings: Settings, expected: Timeout) {
    let Some(db) = D::fresh(test).await else {
        return;
    };
    set.run_to(db.pool(), 1).await.expect("1 applies");
    let holder = db.hold().await;
    let err = set
        .with(settings.clone())
        .run(db.pool())
        .await
        .expect_err("the ALTER is stopped");
    assert_timed_out(err, expected, set, db.pool()).await;
    assert_eq!(db.count(D::COLUMN_X).await, 0, "migration 2 left no column");
    holder.close().await.expect("release the lock");
    let report = set
        .with(settings)
        .run(db.pool())
        .await
        .expect("applies once the lock is gone");
    assert_eq!(report.steps.len(), 1);
    assert_eq!(db.count(D::COLUMN_X).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_header_lock_timeout_stops_a_blocked_alter() {
    case::<PgDb>(
        "pg_header_lock_timeout",
        &PG_HEADER,
        Settings::default(),
        Timeout::Lock(Duration::from_millis(300)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_settings_statement_timeout_stops_a_blocked_alter() {
    case::<PgDb>(
        "pg_settings_statement_timeout",
        &PG_SETTINGS,
        Settings::default().statement_timeout(Duration::from_millis(300)),
        Timeout::Statement(Duration::from_millis(300)),
    )
    .await;
}

/// The header's value wins over the settings' for its file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_header_wins_over_the_settings() {
    case::<PgDb>(
        "pg_header_wins",
        &PG_HEADER,
        Settings::default().statement_lock_timeout(Duration::from_secs(3600)),
        Timeout::Lock(Duration::from_millis(300)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_header_lock_timeout_stops_a_blocked_alter() {
    case::<MyDb>(
        "my_header_lock_timeout",
        &MY_HEADER,
        Settings::default(),
        Timeout::Lock(Duration::from_secs(1)),
    )
    .await;
}

/// MariaDB's `max_statement_time` (what CI runs; MySQL's
/// `max_execution_time` bounds `SELECT` only, and would not stop this).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_a_settings_statement_timeout_stops_a_blocked_alter() {
    case::<MyDb>(
        "my_settings_statement_timeout",
        &MY_SETTINGS,
        Settings::default().statement_timeout(Duration::from_millis(500)),
        Timeout::Statement(Duration::from_millis(500)),
    )
    .await;
}

/// SQLite has neither timeout: a file that sets one is refused before
/// anything of it runs, naming the file.
#[tokio::test]
async fn sqlite_refuses_a_timeout_naming_the_file() {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory database");
    SQLITE_HEADER.run_to(&pool, 1).await.expect("1 applies");
    let err = SQLITE_HEADER.run(&pool).await.expect_err("refused");
    eprintln!("{err}");
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("002_alter.up.sql"), "{err}");
    let err = SQLITE_HEADER
        .with(Settings::default().statement_timeout(Duration::from_secs(1)))
        .run_to(&pool, 1)
        .await;
    assert!(
        err.is_ok(),
        "nothing pending up to 1: no migration runs, none is refused"
    );
    let status = SQLITE_HEADER.status(&pool).await.expect("status");
    assert_eq!(status.pending_count(), 1);
}
