//! The shared scenarios on SQLite files, plus what is SQLite's own: two
//! processes booting at once, and `migrate:no-transaction`.

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Error, Migrations, Settings};
use servers::dbs::sqlite::{open, scratch_file};
use servers::dbs::SqliteDb;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::Connection;
use std::path::PathBuf;
use support::TestDb;

backend_scenarios!(SqliteDb);
fault_scenarios!(SqliteDb);
sql_fault_scenarios!(SqliteDb, transactional);

sql_scenarios!(SqliteDb);
code_scenarios!(
    SqliteDb,
    sqlite,
    "tests/fixtures/code_sqlite",
    "tests/fixtures/code_sqlite_edited",
    "tests/fixtures/code_sqlite_failing",
    "tests/fixtures/code_sqlite_panicking"
);
adoption_scenarios!(SqliteDb, embedded_migrations::core::split::Dialect::Sqlite);
layout_scenarios!(SqliteDb);

repeatable_scenario!(
    SqliteDb,
    "tests/fixtures/repeatable_sqlite_v1",
    "tests/fixtures/repeatable_sqlite_v2",
    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'a_code' AND sql LIKE '%''{edition}''%'"
);

static SLOW: Migrations = embed_migrations!("tests/fixtures/sqlite_slow");
static NO_TRANSACTION: Migrations = embed_migrations!("tests/fixtures/sqlite_no_transaction");
static EXAMPLE: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);
static LONG_BATCH: Migrations = embed_migrations!("tests/fixtures/sqlite_long_batch");
static ROWS_OF_THEIR_OWN: Migrations = embed_migrations!("tests/fixtures/sqlite_rows_of_their_own");

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_CHILD_DB";

/// Child half of `sixteen_processes_booting_at_once`, started by it: applies
/// SLOW to the file it names and reports its span and what it applied.
#[tokio::test]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    let path = servers::child_role(CHILD_ENV);
    let pool = open(&PathBuf::from(path)).await;
    servers::boot_child(SLOW.run(&pool)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let db = SqliteDb::fresh("sixteen_processes").await.expect("sqlite");
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, db.path.display().to_string())],
        16,
        std::time::Duration::from_millis(2500),
    );
    assert_eq!(
        applied.iter().sum::<usize>(),
        SLOW.migrations().len(),
        "each migration applied by exactly one: {applied:?}"
    );
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 3);
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history WHERE success = 1")
            .await,
        3
    );
    assert_eq!(
        db.count("SELECT count(*) FROM counter").await,
        1,
        "the data migration ran once"
    );
}

#[tokio::test]
async fn no_transaction_files_run_outside_a_transaction() {
    let db = SqliteDb::fresh("no_transaction").await.expect("sqlite");
    // VACUUM refuses to run inside a transaction.
    let report = NO_TRANSACTION.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.len(), 2);
    assert!(NO_TRANSACTION.migrations()[1].up.no_transaction);
    NO_TRANSACTION.validate(db.pool()).await.expect("clean, not dirty");
    NO_TRANSACTION.down(db.pool(), 1).await.expect("down");
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 1);
}

#[tokio::test]
async fn a_long_write_lock_times_out_with_a_clear_error() {
    let db = SqliteDb::fresh("lock_timeout").await.expect("sqlite");
    let mut holder = db.pool.acquire().await.expect("conn");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .expect("hold the write lock");
    let settings = Settings::default().lock_timeout(std::time::Duration::from_millis(300));
    let err = SLOW.with(settings).run(db.pool()).await.expect_err("times out");
    assert!(matches!(err, Error::LockTimeout { .. }), "{err:?}");
    sqlx::raw_sql("ROLLBACK").execute(&mut *holder).await.expect("release");
    drop(holder);
    assert_eq!(SLOW.run(db.pool()).await.expect("then it works").steps.len(), 3);
}

/// A run that finds SQLite's write lock taken does not wait inside the
/// handle it borrows from sqlx (a wait there could not be cancelled): it
/// waits in sqlx's transaction, then applies everything once the lock is
/// free, and leaves no transaction open behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_finds_the_write_lock_taken_waits_for_it_then_applies() {
    let db = SqliteDb::fresh("write_lock_taken").await.expect("sqlite");
    let mut holder = db.pool.acquire().await.expect("conn");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .expect("hold the write lock");
    let pool = db.pool().clone();
    let run = tokio::spawn(async move { SLOW.run(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!run.is_finished(), "the run waits for the write lock");
    sqlx::raw_sql("ROLLBACK").execute(&mut *holder).await.expect("release");
    drop(holder);
    let report = tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the run ends once the lock is free")
        .expect("the run's task")
        .expect("the run applies");
    assert_eq!(report.steps.len(), 3);
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 3);
    // Every pooled connection is out of any transaction: each can write.
    let mut connections = Vec::new();
    for k in 0..2 {
        let mut conn = db.pool.acquire().await.expect("conn");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE after_the_run_{k} (id INTEGER)"
        )))
        .execute(&mut *conn)
        .await
        .expect("no transaction left open");
        connections.push(conn);
    }
}

#[tokio::test]
async fn the_example_set_applies_and_reverts_to_its_irreversible_migration() {
    let db = SqliteDb::fresh("example").await.expect("sqlite");
    servers::example_set_applies_and_reverts(&db, &EXAMPLE, None).await;
}

/// SQLite's batch goes to SQLite through `sqlite3_exec`, a call per
/// migration timed between the calls (src/sqlite_exec.rs): a migration's
/// own `SELECT` and `PRAGMA` rows, even one named like the marker an
/// earlier version timed, change nothing. In a group and one at a time, every migration gets its own
/// tracking and history row, in order, with the same duration in both.
#[tokio::test]
async fn migrations_returning_rows_of_their_own_are_tracked_one_by_one() {
    for group in [true, false] {
        let db = SqliteDb::fresh("rows_of_their_own").await.expect("sqlite");
        let set = ROWS_OF_THEIR_OWN.with(Settings::default().group(group));
        let report = set.run(db.pool()).await.expect("run");
        assert_eq!(report.steps.len(), 3, "group {group}");
        assert_eq!(
            db.count("SELECT count(*) FROM people WHERE email LIKE '%@example.org'")
                .await,
            2
        );
        let history = set.history(db.pool()).await.expect("history");
        assert_eq!(history.iter().map(|h| h.version).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(history.iter().all(|h| h.success && h.duration_ms >= 0), "{history:?}");
        let status = set.validate(db.pool()).await.expect("valid");
        assert!(status.is_up_to_date(), "group {group}");
        for (entry, h) in status.entries.iter().zip(&history) {
            assert_eq!(entry.execution_ms, Some(h.duration_ms), "{entry:?} / {h:?}");
        }
        assert_eq!(set.down(db.pool(), 2).await.expect("down").steps.len(), 2);
        assert_eq!(db.count("SELECT count(*) FROM pragma_table_info('people')").await, 2);
    }
}

/// The batch runs on the calling thread (src/sqlite_exec.rs): on a
/// multi-threaded runtime with a single worker, a task ticking meanwhile
/// must keep ticking while a long migration runs on that worker, as it did
/// when sqlx's own thread ran the statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_long_batch_leaves_the_runtimes_other_tasks_running() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let db = SqliteDb::fresh("long_batch").await.expect("sqlite");
    let ticks = std::sync::Arc::new(AtomicU64::new(0));
    let ticker = tokio::spawn({
        let ticks = ticks.clone();
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    // Let the ticker start, then count only what it does during the run.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let before = ticks.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    // Spawned, so the run is on the worker the ticker needs (the test's own
    // body runs on a thread of its own).
    let pool = db.pool().clone();
    tokio::spawn(async move { LONG_BATCH.run(&pool).await })
        .await
        .expect("task")
        .expect("run");
    let took = started.elapsed();
    let during = ticks.load(Ordering::Relaxed) - before;
    ticker.abort();
    assert!(
        took >= std::time::Duration::from_millis(200),
        "premise: the migration ran long enough to tick through ({took:?})"
    );
    assert_eq!(db.count("SELECT count(*) FROM long_sum").await, 1);
    // Ten-millisecond ticks over at least 200 ms: a starved runtime shows
    // at most one or two (before and after the batch).
    assert!(
        during >= 5,
        "{during} ticks in {took:?}: the batch held the runtime's only worker"
    );
}

/// Applications start migrations from spawned tasks: every operation's
/// future must be `Send`.
#[tokio::test]
async fn operations_can_run_in_spawned_tasks() {
    let db = SqliteDb::fresh("spawned").await.expect("sqlite");
    let pool = db.pool.clone();
    let report = tokio::spawn(async move {
        let status = SLOW.status(&pool).await?;
        assert_eq!(status.pending_count(), 3);
        SLOW.plan(&pool).await?;
        SLOW.run(&pool).await?;
        SLOW.validate(&pool).await?;
        SLOW.history(&pool).await?;
        SLOW.down(&pool, 1).await
    })
    .await
    .expect("task")
    .expect("operations");
    assert_eq!(report.steps.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_row_edited_by_hand_is_a_typed_error_not_an_endless_loop() {
    let Some(db) = <SqliteDb as TestDb>::fresh("state_row_edited").await else {
        return;
    };
    servers::state_row_edited_by_hand_is_a_typed_error(&db).await;
}

/// Issue 13: `Error` keeps the driver's error as its `source` (it used to
/// flatten it into a string) where the database failed outside a
/// migration's statements.
#[tokio::test]
async fn database_errors_keep_the_drivers_error_as_their_source() {
    let db = SqliteDb::fresh("error_source").await.expect("sqlite");
    support::fixtures::BASE.run(db.pool()).await.expect("run");
    db.exec("DROP TABLE _embedded_migrations").await;
    let err = support::fixtures::BASE
        .status(db.pool())
        .await
        .expect_err("no tracking table");
    assert!(
        matches!(&err, Error::Database { operation, .. } if operation == "reading the tracking table"),
        "{err}"
    );
    let source = std::error::Error::source(&err).expect("the driver's error is kept");
    let driver = source.downcast_ref::<sqlx::Error>().expect("a sqlx error");
    let message = driver.as_database_error().expect("from the database").message();
    assert!(message.contains("no such table"), "{message}");
}

/// A checksum edited into something that is not a SHA-256 in hex is
/// reported as such, naming the version and the stored text, by every
/// operation that reads it (it used to read as all zeros: a drift report
/// about a checksum nobody wrote).
#[tokio::test]
async fn a_corrupted_checksum_is_reported_with_its_version_and_text() {
    let db = SqliteDb::fresh("corrupted_checksum").await.expect("sqlite");
    support::fixtures::BASE.run(db.pool()).await.expect("run");
    db.exec("UPDATE _embedded_migrations SET checksum = 'not-a-checksum' WHERE version = 2")
        .await;
    let status = support::fixtures::BASE.status(db.pool()).await;
    let validate = support::fixtures::BASE.validate(db.pool()).await;
    for result in [status, validate] {
        let err = result.expect_err("a corrupted checksum is an error");
        let text = err.to_string();
        assert!(
            text.contains("version 2") && text.contains("'not-a-checksum'"),
            "{text}"
        );
        assert!(
            matches!(&err, Error::CorruptChecksum { version: Some(2), stored, .. } if stored == "not-a-checksum"),
            "{err:?}"
        );
    }
    let db = SqliteDb::fresh("corrupted_chain").await.expect("sqlite");
    support::fixtures::BASE.run_to(db.pool(), 1).await.expect("run");
    db.exec("UPDATE _embedded_migrations_state SET chain = 'zz'").await;
    let err = support::fixtures::BASE
        .run(db.pool())
        .await
        .expect_err("corrupted state row");
    assert!(
        matches!(&err, Error::CorruptChecksum { version: None, stored, .. } if stored == "zz"),
        "{err:?}"
    );
}

/// A run dropped while it waits for SQLite's write lock (held here by
/// another connection) gives its pooled connection back with the pool's
/// own busy timeout, not the lock timeout it waited with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_mid_wait_restores_the_busy_timeout_of_its_connection() {
    let path = scratch_file("busy_timeout_restored");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .busy_timeout(std::time::Duration::from_millis(1234));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .expect("pool of one");
    let busy = |pool: SqlitePool| async move {
        sqlx::query_scalar::<_, i64>("PRAGMA busy_timeout")
            .fetch_one(&pool)
            .await
            .expect("busy timeout")
    };
    assert_eq!(busy(pool.clone()).await, 1234);
    // Another connection holds the write lock, so `run` waits in BEGIN IMMEDIATE.
    let mut holder = sqlx::SqliteConnection::connect_with(&options).await.expect("holder");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("take the write lock");
    let settings = Settings::default().lock_timeout(std::time::Duration::from_secs(30));
    let dropped = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        support::fixtures::BASE.with(settings).run(&pool),
    )
    .await;
    assert!(
        dropped.is_err(),
        "the run was still waiting for the write lock: {dropped:?}"
    );
    // SQLite's worker still waits in BEGIN IMMEDIATE: free it.
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release");
    drop(holder);
    assert_eq!(busy(pool.clone()).await, 1234, "the pool's own busy timeout is back");
    support::fixtures::BASE
        .run(&pool)
        .await
        .expect("the connection is usable");
    pool.close().await;
    for suffix in ["", "-migrations.lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A second connection (as a second process would) booting while the first
/// runs a `no-transaction` file's statements waits for it, then finds the
/// migration applied: the dirty mark of a run in progress is not reported
/// as a failed one (which would tell the operator to `force` or `forget` a
/// run that is still going).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_during_a_no_transaction_run_waits_for_it_instead_of_reporting_it_dirty() {
    static SLOW_NO_TX: Migrations = embed_migrations!("tests/fixtures/sqlite_no_transaction_slow");
    let db = SqliteDb::fresh("no_tx_overlap").await.expect("sqlite");
    let first_pool = open(&db.path).await;
    let first = tokio::spawn(async move { SLOW_NO_TX.run(&first_pool).await });
    // The first run is inside the file's statements: its dirty mark is
    // committed and the first table exists, the last does not yet.
    let started = std::time::Instant::now();
    while db
        .count("SELECT count(*) FROM sqlite_master WHERE name = 'slow_a'")
        .await
        == 0
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the first run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations WHERE dirty = 1")
            .await,
        1
    );
    assert!(!first.is_finished(), "the premise: the first run is still going");
    let second = SLOW_NO_TX
        .with(Settings::default().lock_timeout(std::time::Duration::from_secs(60)))
        .run(db.pool())
        .await;
    let first = first.await.expect("first task").expect("the first run applies 001");
    assert_eq!(first.steps.len(), 1);
    let second = second.expect("the second boot waits, then finds 001 applied");
    assert!(second.is_empty(), "{second:?}");
    SLOW_NO_TX.validate(db.pool()).await.expect("valid");
}

static CODE_NO_TRANSACTION: Migrations =
    embed_migrations!("tests/fixtures/code_sqlite_no_transaction", database = sqlite);
static CODE_NO_TRANSACTION_FAILING: Migrations =
    embed_migrations!("tests/fixtures/code_sqlite_no_transaction_failing", database = sqlite);

/// `// migrate:no-transaction` gives the function the bare connection
/// (VACUUM, which refuses a transaction, runs), under the dirty mark: a
/// failure keeps what committed and leaves the mark.
#[tokio::test]
async fn a_no_transaction_code_migration_runs_outside_a_transaction() {
    let db = SqliteDb::fresh("code_no_transaction").await.expect("sqlite");
    let plan = CODE_NO_TRANSACTION.plan(db.pool()).await.expect("plan");
    assert!(plan.steps[1].code && plan.steps[1].no_transaction, "{plan:?}");
    let report = CODE_NO_TRANSACTION.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.len(), 2);
    CODE_NO_TRANSACTION
        .validate(db.pool())
        .await
        .expect("recorded clean, not dirty");
    CODE_NO_TRANSACTION.down(db.pool(), 1).await.expect("down");
    assert_eq!(db.count("SELECT count(*) FROM items").await, 0);

    let db = SqliteDb::fresh("code_no_transaction_failing").await.expect("sqlite");
    let err = CODE_NO_TRANSACTION_FAILING.run(db.pool()).await.expect_err("fails");
    assert!(
        matches!(
            err.cause(),
            Error::CodeFailed {
                version: 2,
                rolled_back: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("marked dirty"), "{err}");
    assert_eq!(
        db.count("SELECT count(*) FROM items").await,
        1,
        "what it committed stays"
    );
    let err = CODE_NO_TRANSACTION_FAILING.run(db.pool()).await.expect_err("dirty");
    assert!(matches!(err.cause(), Error::Dirty { version: 2, .. }), "{err}");
}

/// `--placeholder NAME=VALUE` on the command line gives a value over the
/// application's settings, a secret one stays secret, and a value given
/// nowhere is refused with exit code 2 before anything runs.
#[tokio::test]
async fn placeholder_values_from_the_command_line() {
    static SET: &Migrations = support::fixtures::SQL.placeholders;
    let Some(db) = SqliteDb::fresh("placeholders_cli").await else {
        return;
    };
    let settings = Settings::default()
        .placeholder("table", "pl_items")
        .secret_placeholder("token", "from-settings");
    let cli = |args: &[&str]| {
        let args: Vec<String> = ["migrate"].iter().chain(args).map(|a| a.to_string()).collect();
        embedded_migrations::cli::from_args(SET, settings.clone(), &db.pool, args)
    };
    assert_eq!(cli(&["plan"]).await, 2, "`${{owner}}` has no value: `up` would refuse");
    assert!(db.tables().await.is_empty(), "nothing was created");
    assert_eq!(cli(&["--placeholder", "owner", "up"]).await, 2, "not NAME=VALUE");
    let given = [
        "--placeholder",
        "owner=cli",
        "--placeholder",
        "token=from-the-command-line",
    ];
    let args: Vec<&str> = given.iter().copied().chain(["up", "--to", "1"]).collect();
    assert_eq!(cli(&args).await, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM pl_items WHERE note = 'owned by cli'")
            .await,
        1
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pl_items WHERE note = 'from-the-command-line'")
            .await,
        1
    );
    let history = SET.with(settings.clone()).history(&db.pool).await.expect("history");
    assert_eq!(
        history[0].placeholders.as_deref(),
        Some(r#"{"owner": "cli", "table": "pl_items", "token": "***"}"#),
        "the value the settings mark secret stays secret"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history WHERE placeholders LIKE '%from-the%'")
            .await,
        0
    );
}
