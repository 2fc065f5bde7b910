//! The shared scenarios on SQLite files through rusqlite (no sqlx in the
//! migration's path), plus what is this adapter's own: the blocking API
//! driven without an async runtime, and sixteen processes booting at once.
//!
//! What the shared suites do not instantiate here: the cancelled runs (a
//! rusqlite future is ready when first polled: a run cannot be dropped
//! midway, only the thread killed), Rust code migrations (their functions
//! take sqlx connections) and batches (a capability this adapter lacks,
//! which the engine names).
#![cfg(feature = "rusqlite")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::rusqlite::Connection;
use embedded_migrations::{embed_migrations, Error, Migrations, Rusqlite, Settings};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use support::TestDb;

/// A file database: the handle the library takes, and a connection of
/// the test's own beside it for what the test reads and tampers with.
struct RusqliteDb {
    db: Rusqlite<'static>,
    side: Mutex<Connection>,
    path: PathBuf,
}

fn scratch_file(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("embedded-migrations-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(format!("rusqlite_{}.db", support::unique_name(test)))
}

/// A connection as an application opens one: foreign keys on, a busy
/// timeout for the test's own statements.
fn connect(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the sqlite file");
    conn.execute_batch("PRAGMA foreign_keys = ON").expect("foreign keys");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    conn
}

fn exec_sql(conn: &Connection, sql: &str) {
    conn.execute_batch(sql)
        .unwrap_or_else(|err| panic!("exec {sql}: {err}"));
}

fn count_sql(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|err| panic!("count {sql}: {err}"))
}

impl RusqliteDb {
    fn at(path: PathBuf) -> Self {
        RusqliteDb {
            db: Rusqlite::owned(connect(&path)),
            side: Mutex::new(connect(&path)),
            path,
        }
    }

    fn new(test: &str) -> Self {
        Self::at(scratch_file(test))
    }

    fn count_now(&self, sql: &str) -> i64 {
        count_sql(&self.side.lock().expect("side connection"), sql)
    }
}

impl TestDb for RusqliteDb {
    type Pool = Rusqlite<'static>;
    const TRANSACTIONAL_DDL: bool = true;

    async fn fresh(test: &str) -> Option<Self> {
        Some(Self::new(test))
    }

    fn pool(&self) -> &Rusqlite<'static> {
        &self.db
    }

    async fn tables(&self) -> Vec<String> {
        let side = self.side.lock().expect("side connection");
        let mut statement = side
            .prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
                 ORDER BY name",
            )
            .expect("list tables");
        let names = statement
            .query_map([], |row| row.get::<_, String>(0))
            .expect("list tables")
            .collect::<Result<Vec<_>, _>>()
            .expect("list tables");
        names
    }

    async fn exec(&self, sql: &str) {
        exec_sql(&self.side.lock().expect("side connection"), sql)
    }

    async fn count(&self, sql: &str) -> i64 {
        self.count_now(sql)
    }

    fn driver_error(err: &(dyn std::error::Error + 'static)) -> bool {
        err.is::<embedded_migrations::rusqlite::Error>()
    }
}

impl Drop for RusqliteDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal", "-migrations.lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

backend_scenarios!(RusqliteDb);
sql_scenarios!(RusqliteDb);
layout_scenarios!(RusqliteDb);

mod faults {
    use super::*;
    backend_scenarios!(@faults RusqliteDb;
        state_row_edited,
        newest_tracking_row_deleted,
        middle_tracking_row_deleted,
        checksum_edited,
        history_table_dropped,
        state_table_dropped,
    );
}

mod sql_faults {
    use super::*;
    sql_fault_scenarios!(@tests RusqliteDb;
        a_file_that_ends_its_transaction,
        a_failed_file_leaves_no_poisoned_connection,
        a_file_that_rolls_back_its_transaction,
        a_group_whose_file_commits_halfway,
    );
}

impl support::faults::SqlFaults for RusqliteDb {
    const ENDS_ITS_TRANSACTION: &'static str =
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nEND;\nINSERT INTO nosuch (id) VALUES (1);\n";
    const ENDED_AT: (&'static str, u32) = ("END", 1);
    const POISON: &'static str = "PRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE t_new (id INTEGER PRIMARY KEY);\n\
                                  INSERT INTO nosuch (id) VALUES (1);\nCOMMIT;\nPRAGMA foreign_keys = ON;\n";
    const SLOW: &'static str =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000000) SELECT count(*) FROM n";

    /// The application's one connection, which it hands the library and
    /// then goes on using.
    async fn one_connection(&self) -> Rusqlite<'static> {
        Rusqlite::owned(connect(&self.path))
    }

    async fn exec_on(pool: &Rusqlite<'static>, sql: &str) {
        pool.with(|conn| exec_sql(conn, sql))
    }

    async fn count_on(pool: &Rusqlite<'static>, sql: &str) -> i64 {
        pool.with(|conn| count_sql(conn, sql))
    }

    async fn close(pool: Rusqlite<'static>) {
        drop(pool)
    }
}

static SLOW: Migrations = embed_migrations!("tests/fixtures/sqlite_slow");
static NO_TRANSACTION: Migrations = embed_migrations!("tests/fixtures/sqlite_no_transaction");
static EXAMPLE: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_RUSQLITE_CHILD_DB";

fn no_runtime() {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "this test must run on a thread with no async runtime"
    );
}

/// The blocking API on a thread that has no async runtime and never
/// starts one: run, status, validate, history, plan, down_to.
#[test]
fn the_blocking_api_runs_every_operation_without_a_runtime() {
    no_runtime();
    let db = RusqliteDb::new("blocking");
    let plan = SLOW.plan_blocking(&db.db).expect("plan");
    assert_eq!(plan.steps.len(), 3);
    let report = SLOW.run_blocking(&db.db).expect("run");
    assert_eq!(report.steps.len(), 3);
    assert_eq!(db.count_now("SELECT n FROM counter WHERE id = 1"), 1);
    // Applied, the boot check is one read and no lock.
    assert!(SLOW.run_blocking(&db.db).expect("second run").steps.is_empty());
    let status = SLOW.status_blocking(&db.db).expect("status");
    assert_eq!(status.applied_count(), 3);
    assert!(status.is_up_to_date());
    SLOW.validate_blocking(&db.db).expect("validate");
    let down = SLOW.down_to_blocking(&db.db, 1).expect("down_to");
    assert_eq!(down.steps.len(), 2);
    assert_eq!(db.count_now("SELECT count(*) FROM _embedded_migrations"), 1);
    let history = SLOW.history_blocking(&db.db).expect("history");
    assert_eq!(history.len(), 5, "three up, two down: {history:?}");
    assert!(SLOW.readiness_blocking(&db.db).state != embedded_migrations::ReadinessState::Ready);
    no_runtime();
}

/// A connection the program keeps borrows into the handle for the run,
/// and is the program's again after it, settings as they were.
#[test]
fn a_borrowed_connection_is_given_back_as_it_was() {
    no_runtime();
    let path = scratch_file("borrowed");
    let mut conn = connect(&path);
    conn.busy_timeout(Duration::from_millis(1234)).expect("busy timeout");
    SLOW.run_blocking(&Rusqlite::new(&mut conn)).expect("the set applies");
    assert!(conn.is_autocommit(), "no transaction left open");
    assert_eq!(count_sql(&conn, "PRAGMA busy_timeout"), 1234);
    assert_eq!(count_sql(&conn, "PRAGMA foreign_keys"), 1);
    assert!(count_sql(&conn, "SELECT count(*) FROM _embedded_migrations") > 0);
    drop(conn);
    for suffix in ["", "-migrations.lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A Rust code migration is written for a sqlx connection: a set holding
/// one is refused before anything runs, naming the file.
#[test]
fn a_set_with_a_code_migration_is_refused_before_anything_runs() {
    let db = RusqliteDb::new("code_refused");
    match EXAMPLE.run_blocking(&db.db) {
        Err(Error::CodeForAnotherDatabase { file, database, .. }) => {
            assert!(file.ends_with(".rs"), "{file}");
            assert_eq!(database, "SQLite (rusqlite)");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        db.count_now("SELECT count(*) FROM sqlite_master WHERE name = '_embedded_migrations'"),
        0
    );
}

/// An in-memory database: no file, no file lock.
#[test]
fn an_in_memory_database_migrates() {
    let mut conn = Connection::open_in_memory().expect("memory");
    let db = Rusqlite::new(&mut conn);
    assert_eq!(SLOW.run_blocking(&db).expect("run").steps.len(), 3);
    assert_eq!(SLOW.status_blocking(&db).expect("status").applied_count(), 3);
}

#[test]
fn no_transaction_files_run_outside_a_transaction() {
    let db = RusqliteDb::new("no_transaction");
    // VACUUM refuses to run inside a transaction.
    let report = NO_TRANSACTION.run_blocking(&db.db).expect("run");
    assert_eq!(report.steps.len(), 2);
    NO_TRANSACTION.validate_blocking(&db.db).expect("clean, not dirty");
    NO_TRANSACTION.down_blocking(&db.db, 1).expect("down");
    assert_eq!(db.count_now("SELECT count(*) FROM _embedded_migrations"), 1);
}

#[test]
fn a_long_write_lock_times_out_with_a_clear_error() {
    let db = RusqliteDb::new("lock_timeout");
    exec_sql(&db.side.lock().expect("side"), "BEGIN IMMEDIATE");
    let settings = Settings::default().lock_timeout(Duration::from_millis(300));
    let err = SLOW.with(settings).run_blocking(&db.db).expect_err("times out");
    assert!(matches!(err, Error::LockTimeout { .. }), "{err:?}");
    exec_sql(&db.side.lock().expect("side"), "ROLLBACK");
    assert_eq!(SLOW.run_blocking(&db.db).expect("then it works").steps.len(), 3);
}

/// A run of another process (here: a file lock held as a run holds it)
/// makes this one wait, and run out of time with the holder named.
#[test]
fn a_run_waits_for_the_file_lock_of_another() {
    let db = RusqliteDb::new("file_lock");
    SLOW.run_to_blocking(&db.db, 1).expect("one applied");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}-migrations.lock", db.path.display()))
        .expect("lock file");
    lock.lock().expect("held as another run holds it");
    let settings = Settings::default().lock_timeout(Duration::from_millis(300));
    let err = SLOW
        .with(settings)
        .run_blocking(&db.db)
        .expect_err("waits, then times out");
    match &err {
        Error::LockTimeout {
            holder: Some(holder), ..
        } => assert!(holder.contains("migrations.lock"), "{holder}"),
        other => panic!("{other:?}"),
    }
    drop(lock);
    assert_eq!(SLOW.run_blocking(&db.db).expect("then it applies").steps.len(), 2);
}

/// The sqlx SQLite backend and this one keep the same records: a file
/// migrated by one is up to date for the other.
#[tokio::test]
async fn sqlx_and_rusqlite_read_each_others_records() {
    let db = RusqliteDb::new("sqlx_and_rusqlite");
    SLOW.run_to(&db.db, 2).await.expect("rusqlite applies two");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db.path);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("sqlx opens it");
    SLOW.validate(&pool).await.expect("sqlx validates rusqlite's records");
    assert_eq!(SLOW.run(&pool).await.expect("sqlx applies the last").steps.len(), 1);
    SLOW.validate(&db.db).await.expect("rusqlite validates sqlx's records");
    assert!(SLOW.run(&db.db).await.expect("boot check").steps.is_empty());
    pool.close().await;
}

/// Child half of `sixteen_processes_booting_at_once_apply_each_migration_once`:
/// applies SLOW to the file it names with `run_blocking`, on a thread with
/// no runtime, and reports its span and what it applied.
#[test]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
fn child_process_entry() {
    let path = servers::child_role(CHILD_ENV);
    no_runtime();
    let mut conn = connect(Path::new(&path));
    let start: u64 = std::env::var(servers::START_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(start.saturating_sub(servers::now_ms())));
    let began = servers::now_ms();
    let settings = Settings::default().lock_timeout(Duration::from_secs(120));
    let report = SLOW
        .with(settings)
        .run_blocking(&Rusqlite::new(&mut conn))
        .unwrap_or_else(|err| panic!("child run: {err}"));
    println!("\nCHILD-SPAN {began} {}", servers::now_ms());
    servers::report_applied(&report);
}

#[test]
fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let db = RusqliteDb::new("sixteen_processes");
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, db.path.display().to_string())],
        16,
        Duration::from_millis(2500),
    );
    assert_eq!(
        applied.iter().sum::<usize>(),
        SLOW.migrations().len(),
        "each migration applied by exactly one: {applied:?}"
    );
    assert_eq!(
        db.count_now("SELECT count(*) FROM _embedded_migrations WHERE NOT dirty"),
        3
    );
    assert_eq!(
        db.count_now("SELECT count(*) FROM _embedded_migrations_history WHERE direction = 'up' AND success = 1"),
        3,
        "history shows each migration applied once"
    );
    assert_eq!(
        db.count_now("SELECT count(*) FROM _embedded_migrations_history WHERE NOT success"),
        0
    );
    assert_eq!(
        db.count_now("SELECT count(*) FROM counter"),
        1,
        "the data migration ran once"
    );
}

/// `baseline` records without running, in one transaction; the next run
/// applies only what follows.
#[tokio::test]
async fn baseline_records_without_running() {
    let db = RusqliteDb::new("baseline");
    SLOW.baseline(&db.db, 2).await.expect("baseline");
    assert_eq!(db.count_now("SELECT count(*) FROM _embedded_migrations"), 2);
    assert_eq!(
        db.count_now("SELECT count(*) FROM sqlite_master WHERE name = 'counter'"),
        0,
        "nothing ran"
    );
    db.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        .await;
    assert_eq!(SLOW.run_blocking(&db.db).expect("the rest").steps.len(), 1);
    SLOW.validate_blocking(&db.db).expect("validates");
}

static SLOW_NO_TX: Migrations = embed_migrations!("tests/fixtures/sqlite_no_transaction_slow");

/// Waits until the run in progress on `db` is inside its `no-transaction`
/// file's statements: its dirty mark committed, its first table there.
fn wait_for_the_dirty_mark(db: &RusqliteDb) {
    let started = std::time::Instant::now();
    while db.count_now("SELECT count(*) FROM sqlite_master WHERE name = 'slow_a'") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        db.count_now("SELECT count(*) FROM _embedded_migrations WHERE dirty = 1"),
        1
    );
}

/// A second connection booting while the first runs a `no-transaction`
/// file's statements waits for the first run's file lock, then finds the
/// migration applied: the dirty mark of a run in progress is not reported
/// as a failed one. Both on threads with no runtime.
#[test]
fn a_boot_during_a_no_transaction_run_waits_for_it_instead_of_reporting_it_dirty() {
    let db = RusqliteDb::new("no_tx_overlap");
    let path = db.path.clone();
    let first = std::thread::spawn(move || {
        let mut conn = connect(&path);
        // The error as text: an `Error` is too large a closure's result.
        SLOW_NO_TX
            .run_blocking(&Rusqlite::new(&mut conn))
            .map_err(|err| err.to_string())
    });
    wait_for_the_dirty_mark(&db);
    assert!(!first.is_finished(), "the premise: the first run is still going");
    let mut conn = connect(&db.path);
    let second = SLOW_NO_TX
        .with(Settings::default().lock_timeout(Duration::from_secs(60)))
        .run_blocking(&Rusqlite::new(&mut conn));
    let first = first.join().expect("first thread").expect("the first run applies 001");
    assert_eq!(first.steps.len(), 1);
    let second = second.expect("the second boot waits, then finds 001 applied");
    assert!(second.is_empty(), "{second:?}");
    SLOW_NO_TX.validate_blocking(&db.db).expect("valid");
}

/// The same across the two backends: a boot through rusqlite waits for a
/// run through sqlx, which holds the same file lock beside the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rusqlite_boot_waits_for_a_sqlx_run_on_the_same_file() {
    let db = RusqliteDb::new("sqlx_then_rusqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db.path);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("sqlx opens it");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let finished = done.clone();
    let first = tokio::spawn(async move {
        let report = SLOW_NO_TX.run(&pool).await;
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
        report
    });
    let waited = tokio::task::spawn_blocking(move || {
        wait_for_the_dirty_mark(&db);
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "the premise: the sqlx run is still going"
        );
        let mut conn = connect(&db.path);
        let second = SLOW_NO_TX
            .with(Settings::default().lock_timeout(Duration::from_secs(60)))
            .run_blocking(&Rusqlite::new(&mut conn));
        (second, db)
    });
    let (second, db) = waited.await.expect("the rusqlite boot's thread");
    let first = first.await.expect("first task").expect("the sqlx run applies 001");
    assert_eq!(first.steps.len(), 1);
    assert!(second.expect("rusqlite waits, then finds 001 applied").is_empty());
    SLOW_NO_TX.validate_blocking(&db.db).expect("valid");
}

/// In group mode with `Settings::provision_in_one_transaction`, a database
/// with nothing applied is provisioned in one transaction, the tracking
/// tables with the migrations: a failure leaves the file as it was.
#[test]
fn a_failed_first_run_in_group_mode_leaves_the_file_as_it_found_it() {
    let db = RusqliteDb::new("provision");
    let settings = Settings::default().group(true).provision_in_one_transaction(true);
    let err = support::fixtures::FAILING
        .with(settings.clone())
        .run_blocking(&db.db)
        .expect_err("the failing set fails");
    assert!(matches!(err.cause(), Error::MigrationFailed { .. }), "{err:?}");
    assert_eq!(
        db.count_now("SELECT count(*) FROM sqlite_master WHERE type = 'table'"),
        0,
        "nothing of the run is left"
    );
    let report = support::fixtures::BASE
        .with(settings)
        .run_blocking(&db.db)
        .expect("a good set then applies");
    assert_eq!(report.steps.len(), 3);
}
