//! Batch migrations (`-- migrate:batch size=N`) on real databases: a
//! backfill killed with SIGKILL at a random batch five times, then run to
//! its end, processes every row exactly once; progress never goes back; a
//! failing batch stops the run, names the batch and keeps the checkpoint.
//!
//! The fixtures' statement adds 1 to a counter of rows whose counter is 0,
//! so a row processed twice would end at 2. SQLite: 50,000 rows in batches
//! of 1,000; PostgreSQL (`TEST_POSTGRES_URL`) and MariaDB/MySQL
//! (`TEST_MYSQL_URL`): 200,000 rows in batches of 5,000.

#[macro_use]
mod support;
mod servers;

use embedded_migrations::backend::Database;
use embedded_migrations::{embed_migrations, MigrationState, Migrations, Progress, ProgressEvent, Settings, Sql};
use servers::{spawn_child, Rng};
use std::io::{BufRead, BufReader};
use std::sync::Mutex;
use std::time::Duration;

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_BATCH_CHILD";
const PAUSE_ENV: &str = "EMBEDDED_MIGRATIONS_BATCH_PAUSE";
const KILLS: usize = 5;

#[cfg(feature = "sqlite")]
static SQLITE: Migrations = embed_migrations!("tests/fixtures/batch_sqlite");
#[cfg(feature = "sqlite")]
static SQLITE_FAILING: Migrations = embed_migrations!("tests/fixtures/batch_sqlite_failing");
#[cfg(feature = "sqlite")]
static SQLITE_ENDLESS: Migrations = embed_migrations!("tests/fixtures/batch_sqlite_endless");
#[cfg(feature = "sqlite")]
static SQLITE_CODE: Migrations = embed_migrations!("tests/fixtures/batch_code_sqlite", database = sqlite);
#[cfg(feature = "sqlite")]
static SQLITE_CODE_FAILING: Migrations =
    embed_migrations!("tests/fixtures/batch_code_sqlite_failing", database = sqlite);
#[cfg(feature = "postgres")]
static POSTGRES: Migrations = embed_migrations!("tests/fixtures/batch_postgres");
#[cfg(feature = "postgres")]
static POSTGRES_CODE: Migrations = embed_migrations!("tests/fixtures/batch_code_postgres", database = postgres);
#[cfg(feature = "mysql")]
static MYSQL_CODE: Migrations = embed_migrations!("tests/fixtures/batch_code_mysql", database = mysql);
#[cfg(feature = "mysql")]
static MYSQL: Migrations = embed_migrations!("tests/fixtures/batch_mysql");

fn settings() -> Settings {
    Settings::default().lock_timeout(Duration::from_secs(60))
}

/// In a child: runs `table`, printing `BATCH <n>` after each committed
/// batch, for the parent to kill it at.
async fn child_run<P: Database<Language = Sql>>(table: &Migrations, pool: &P) {
    let progress = |p: &Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            println!("\nBATCH {}", batch.batches);
            if std::env::var(PAUSE_ENV).is_ok() {
                // Holding the lock mid-backfill until the parent kills us.
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    };
    let report = table
        .with(settings())
        .on_progress(&progress)
        .run(pool)
        .await
        .unwrap_or_else(|err| panic!("child run: {err}"));
    servers::report_applied(&report);
}

/// Starts the child `entry` and SIGKILLs it once it reports a batch at or
/// past `target`. Panics when the child ends first: the kill must land
/// mid-backfill.
fn kill_at_batch(entry: &str, envs: &[(&str, String)], target: u64) {
    let mut child = spawn_child(entry, envs);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reached = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child stdout");
        if let Some(n) = line.strip_prefix("BATCH ").and_then(|n| n.trim().parse::<u64>().ok()) {
            if n >= target {
                child.kill().expect("SIGKILL the child");
                reached = Some(n);
                break;
            }
        }
    }
    let status = child.wait().expect("child exit");
    assert!(
        reached.is_some(),
        "the child ended ({status}) before batch {target}: the kill did not land mid-backfill"
    );
}

/// What the scenario reads from a database, whatever it is.
trait BatchDb {
    type Pool: Database<Language = Sql>;
    fn pool(&self) -> &Self::Pool;
    async fn count(&self, sql: &str) -> i64;
    /// `(batches, rows)` of the checkpoint of version 2, if any.
    async fn checkpoint(&self) -> Option<(i64, i64)>;
}

/// `BatchDb` for a struct whose `pool` field is a sqlx pool.
macro_rules! batch_db {
    ($db:ident, $pool:ty) => {
        impl BatchDb for $db {
            type Pool = $pool;
            fn pool(&self) -> &$pool {
                &self.pool
            }
            async fn count(&self, sql: &str) -> i64 {
                servers::count(&self.pool, sql.to_string()).await
            }
            async fn checkpoint(&self) -> Option<(i64, i64)> {
                sqlx::query_as("SELECT batches, rows_done FROM _embedded_migrations_batch WHERE version = 2")
                    .fetch_optional(&self.pool)
                    .await
                    .expect("read the checkpoint")
            }
        }
    };
}

/// Kills a child at a random batch `KILLS` times, checking after each kill
/// that the checkpoint and the rows agree and that the migration is not
/// recorded, then runs to the end in this process: every row once, the
/// migration after it applied, progress monotonic.
async fn killed_five_times_then_completed<D: BatchDb>(
    db: &D,
    table: &Migrations,
    rows: i64,
    size: i64,
    entry: &str,
    envs: &[(&str, String)],
    lock_held: bool,
) {
    let mut rng = Rng::seeded();
    let batches = (rows + size - 1) / size;
    let mut before = 0i64;
    for kill in 1..=KILLS {
        // A target leaving room for the kills still to come.
        let room = (batches - before - 2) / (KILLS - kill + 1) as i64;
        let target = before + 1 + rng.below(room.max(1) as u64) as i64;
        kill_at_batch(entry, envs, target as u64);
        let (done_batches, done_rows) = db.checkpoint().await.expect("a checkpoint after the kill");
        assert!(
            done_batches >= target && done_batches < batches,
            "kill {kill}: checkpoint at batch {done_batches}, target {target}, of {batches}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM items WHERE n = 1").await,
            done_rows,
            "kill {kill}: the checkpoint counts exactly the rows processed"
        );
        assert_eq!(db.count("SELECT count(*) FROM items WHERE n > 1").await, 0);
        assert_eq!(
            db.count("SELECT count(*) FROM _embedded_migrations WHERE version >= 2")
                .await,
            0,
            "kill {kill}: an unfinished batch migration is not recorded"
        );
        let status = table.with(settings()).status(db.pool()).await.expect("status");
        let entry = &status.entries[1];
        assert_eq!(entry.state, MigrationState::Pending, "in progress is not dirty");
        let checkpoint = entry.batch.expect("status shows the checkpoint");
        assert_eq!(
            (checkpoint.batches as i64, checkpoint.rows as i64),
            (done_batches, done_rows)
        );
        let plan = table.with(settings()).plan(db.pool()).await.expect("dry run");
        let batch = plan.steps[0].batch.as_ref().expect("the dry run describes the batch");
        assert_eq!(batch.size as i64, size);
        if batch.total_query.is_some() {
            assert_eq!(batch.total, Some((rows - done_rows) as u64), "the count query, run now");
        }
        assert_eq!(batch.checkpoint, Some(checkpoint));
        assert_eq!(
            db.count("SELECT count(*) FROM items WHERE n = 1").await,
            done_rows,
            "the dry run changed nothing"
        );
        eprintln!("kill {kill}: target batch {target}, checkpoint {done_batches} batches, {done_rows} rows");
        before = done_batches;
    }

    if lock_held {
        // A second replica booting during the backfill gives up its wait
        // for the lock saying why: the batch migration and its checkpoint.
        let mut paused = envs.to_vec();
        paused.push((PAUSE_ENV, "1".to_string()));
        let mut child = spawn_child(entry, &paused);
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        assert!(
            lines.any(|line| line.expect("child stdout").starts_with("BATCH ")),
            "the child ran a batch"
        );
        let err = table
            .with(Settings::default().lock_timeout(Duration::from_millis(500)))
            .run(db.pool())
            .await
            .expect_err("the child holds the lock")
            .to_string();
        child.kill().expect("SIGKILL the child");
        let _ = child.wait();
        assert!(err.contains("batch migration 2 `backfill` is in progress ("), "{err}");
        before = db.checkpoint().await.expect("a checkpoint").0;
    }

    let events = Mutex::new(Vec::new());
    let progress = |p: &Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            events.lock().unwrap().push(*batch);
        }
    };
    let report = table
        .with(settings())
        .on_progress(&progress)
        .run(db.pool())
        .await
        .expect("the resumed run completes");
    let versions: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [2, 3], "the batch migration, then the one after it");
    assert_eq!(db.count("SELECT count(*) FROM items WHERE n = 1").await, rows);
    assert_eq!(db.count("SELECT count(*) FROM items WHERE n <> 1").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations_batch").await, 0);

    let events = events.into_inner().unwrap();
    assert_eq!(
        events.first().map(|e| e.batches),
        Some(before as u64 + 1),
        "resumed after the checkpoint"
    );
    for pair in events.windows(2) {
        assert!(
            pair[1].batches > pair[0].batches && pair[1].rows > pair[0].rows,
            "{pair:?}"
        );
    }
    let last = events.last().expect("batches in the resumed run");
    assert_eq!(last.rows, rows as u64, "rows counted across kills add up to the table");
    if let Some(total) = last.total {
        assert_eq!(total, rows as u64, "the total is the rows done plus the count query's");
        assert!(events.iter().all(|e| e.total == Some(total)));
        assert_eq!(last.eta, Some(Duration::ZERO));
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::path::PathBuf;

    const PATH_ENV: &str = "EMBEDDED_MIGRATIONS_BATCH_SQLITE";

    pub struct SqliteDb {
        pub pool: SqlitePool,
    }

    pub async fn open(path: &PathBuf) -> SqliteDb {
        let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
        SqliteDb {
            pool: SqlitePool::connect_with(options).await.expect("open sqlite file"),
        }
    }

    pub fn fresh_path(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join("embedded-migrations-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", support::unique_name(test)));
        let _ = std::fs::remove_file(&path);
        path
    }

    batch_db!(SqliteDb, SqlitePool);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a child process that the kill test starts; fails alone"]
    async fn sqlite_batch_child() {
        let path = servers::child_role(PATH_ENV);
        let db = open(&PathBuf::from(path)).await;
        child_run(&SQLITE, &db.pool).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_backfill_killed_five_times_processes_each_row_once() {
        let path = fresh_path("batch_kill");
        let db = open(&path).await;
        let envs = [(PATH_ENV, path.display().to_string()), (CHILD_ENV, "1".to_string())];
        killed_five_times_then_completed(&db, &SQLITE, 50_000, 1_000, "sqlite::sqlite_batch_child", &envs, false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a child process that the kill test starts; fails alone"]
    async fn sqlite_code_batch_child() {
        let path = servers::child_role(PATH_ENV);
        let db = open(&PathBuf::from(path)).await;
        child_run(&SQLITE_CODE, &db.pool).await;
    }

    /// The same backfill written in Rust (`002_backfill.rs`, its `up` called
    /// once per batch): killed inside the run five times, then completed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_code_backfill_killed_five_times_processes_each_row_once() {
        let path = fresh_path("batch_code_kill");
        let db = open(&path).await;
        let plan = SQLITE_CODE.plan(&db.pool).await.expect("dry run");
        assert!(plan.steps[1].code, "{:?}", plan.steps[1]);
        let envs = [(PATH_ENV, path.display().to_string()), (CHILD_ENV, "1".to_string())];
        killed_five_times_then_completed(
            &db,
            &SQLITE_CODE,
            50_000,
            1_000,
            "sqlite::sqlite_code_batch_child",
            &envs,
            false,
        )
        .await;
        SQLITE_CODE
            .down(&db.pool, 2)
            .await
            .expect("down reverts 003 and the backfill");
        assert_eq!(
            db.count("SELECT count(*) FROM items WHERE n <> 0").await,
            0,
            "its `down` ran"
        );
    }

    /// A batch code migration whose `up` fails in its 8th batch: that batch
    /// is rolled back, the 7 before it stay with their checkpoint, the error
    /// names the file and the batch, and a fixed run resumes at batch 8.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_failing_code_batch_names_the_batch_and_keeps_the_checkpoint() {
        let path = fresh_path("batch_code_failing");
        let db = open(&path).await;
        let err = SQLITE_CODE_FAILING
            .run(&db.pool)
            .await
            .expect_err("the 8th batch fails");
        let embedded_migrations::Error::CodeFailed {
            file,
            batches,
            rolled_back,
            source,
            ..
        } = err.cause()
        else {
            panic!("{err:?}");
        };
        assert_eq!(file, "002_backfill.rs");
        assert!(*rolled_back, "the failing batch was rolled back");
        let done = batches.as_deref().expect("the batches that stay");
        assert_eq!((done.batches, done.rows), (7, 7000));
        assert_eq!(
            source.as_ref().expect("the function's error").to_string(),
            "item 7001 cannot be processed"
        );
        let text = err.to_string();
        assert!(
            text.contains("batch 8 of the Rust code migration `002_backfill.rs` returned an error"),
            "{text}"
        );
        assert!(text.contains("keeps the 7 batches (7000 rows)"), "{text}");
        assert_eq!(db.checkpoint().await, Some((7, 7000)));
        assert_eq!(db.count("SELECT count(*) FROM items WHERE n = 1").await, 7000);
        assert_eq!(
            db.count("SELECT count(*) FROM _embedded_migrations").await,
            1,
            "only 001 is recorded"
        );

        // The cause fixed by hand (item 7001 processed), the same binary resumes.
        servers::exec(&db.pool, "UPDATE items SET n = 1 WHERE id = 7001").await;
        let events = Mutex::new(Vec::new());
        let progress = |p: &Progress| {
            if let ProgressEvent::Batch(batch) = &p.event {
                events.lock().unwrap().push(*batch);
            }
        };
        SQLITE_CODE_FAILING
            .with(settings())
            .on_progress(&progress)
            .run(&db.pool)
            .await
            .expect("resumes and completes");
        let events = events.into_inner().unwrap();
        assert_eq!(
            events.first().map(|e| (e.batches, e.rows)),
            Some((8, 8000)),
            "{events:?}"
        );
        assert_eq!(events.last().map(|e| e.rows), Some(49_999));
        assert_eq!(db.count("SELECT count(*) FROM items WHERE n = 1").await, 50_000);
        assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations_batch").await, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_failing_batch_names_the_batch_and_keeps_the_checkpoint() {
        let path = fresh_path("batch_failing");
        let db = open(&path).await;
        let err = SQLITE_FAILING
            .run(&db.pool)
            .await
            .expect_err("the 8th batch fails")
            .to_string();
        assert!(err.contains("batch 8 failed"), "{err}");
        assert!(err.contains("keeps the 7 batches (7000 rows)"), "{err}");
        assert!(err.contains("002_backfill.up.sql"), "{err}");
        // What committed, not "rolled back and not recorded": 7 batches stay.
        assert!(
            err.contains("7 batch(es) (7000 rows) committed before the failure and stay"),
            "{err}"
        );
        assert!(!err.contains("the migration was rolled back"), "{err}");
        assert_eq!(db.checkpoint().await, Some((7, 7000)));
        assert_eq!(db.count("SELECT count(*) FROM items WHERE n = 1").await, 7000);
        assert_eq!(
            db.count("SELECT count(*) FROM _embedded_migrations").await,
            1,
            "only the migration before it is recorded"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM sqlite_master WHERE name = 'after_batch'")
                .await,
            0,
            "the run stopped at the failing migration"
        );
    }

    /// A statement that keeps matching rows it already set would run for
    /// ever; with a total it stops past twice the total plus a batch (100
    /// rows, batches of 10: after batch 22), naming the migration and the
    /// checkpoint, which stays.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_batch_that_never_empties_stops_past_twice_the_total() {
        let path = fresh_path("batch_endless");
        let db = open(&path).await;
        let err = SQLITE_ENDLESS.run(&db.pool).await.expect_err("stopped, not endless");
        // 001 applied before the batch migration stopped: the run reports it.
        let applied: Vec<i64> = err.applied().iter().map(|step| step.version).collect();
        assert_eq!(applied, [1], "{err:?}");
        let embedded_migrations::Error::MigrationFailed {
            version, file, message, ..
        } = err.cause()
        else {
            panic!("{err:?}");
        };
        assert_eq!((*version, *file), (2, "002_backfill.up.sql"));
        assert!(message.contains("more than twice the 100 rows"), "{message}");
        assert!(message.contains("keeps the 22 batches (220 rows)"), "{message}");
        // The whole message agrees with it: not "no statement of it committed".
        let text = err.to_string();
        assert!(
            text.contains("22 batch(es) (220 rows) committed before the failure and stay"),
            "{text}"
        );
        assert!(!text.contains("no statement of it committed"), "{text}");
        assert_eq!(db.checkpoint().await, Some((22, 220)));
        let status = SQLITE_ENDLESS.status(&db.pool).await.expect("status");
        assert_eq!(
            status.entries[1].state,
            MigrationState::Pending,
            "in progress, not applied"
        );
        let _ = std::fs::remove_file(&path);
    }
}

/// The kill test on a server database (PostgreSQL, MariaDB): the same
/// shape on both, only the driver, the quoting of a database name and the
/// names differ.
macro_rules! server_batch_tests {
    (
        $module:ident, $feature:literal, $sqlx:ident :: { $options:ident, $pool:ident, $pool_options:ident },
        url: $url_env:literal, db: $db_env:literal, quote: $quote:literal, set: $set:ident,
        child: $child:ident, kill: $kill:ident
    ) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;
            use sqlx::$sqlx::{$options, $pool, $pool_options};

            const URL_ENV: &str = $url_env;
            const DB_ENV: &str = $db_env;

            pub struct ServerDb {
                pool: $pool,
                name: String,
                server: $options,
            }

            async fn connect(server: &$options, name: &str) -> $pool {
                $pool_options::new()
                    .max_connections(3)
                    .connect_with(server.clone().database(name))
                    .await
                    .expect("connect to the test database")
            }

            impl Drop for ServerDb {
                fn drop(&mut self) {
                    if !std::thread::panicking() {
                        servers::drop_database(
                            &self.server,
                            format!("DROP DATABASE IF EXISTS {q}{}{q}", self.name, q = $quote),
                            &self.name,
                        );
                    }
                }
            }

            batch_db!(ServerDb, $pool);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "a child process that the kill test starts; fails alone"]
            async fn $child() {
                let name = servers::child_role(DB_ENV);
                let server: $options = servers::server(URL_ENV, stringify!($child)).expect("server");
                child_run(&$set, &connect(&server, &name).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $kill() {
                let Some(server) = servers::server::<$options>(URL_ENV, stringify!($kill)) else {
                    return;
                };
                let name = support::unique_name("batch_kill");
                servers::admin(&server, format!("CREATE DATABASE {q}{name}{q}", q = $quote)).await;
                let db = ServerDb {
                    pool: connect(&server, &name).await,
                    name: name.clone(),
                    server,
                };
                let envs = [(DB_ENV, name), (CHILD_ENV, "1".to_string())];
                let child = concat!(stringify!($module), "::", stringify!($child));
                killed_five_times_then_completed(&db, &$set, 200_000, 5_000, child, &envs, true).await;
            }
        }
    };
}

server_batch_tests!(
    postgres, "postgres", postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    url: "TEST_POSTGRES_URL", db: "EMBEDDED_MIGRATIONS_BATCH_PG_DB", quote: "\"", set: POSTGRES,
    child: postgres_batch_child, kill: postgres_backfill_killed_five_times_processes_each_row_once
);

server_batch_tests!(
    postgres_code, "postgres", postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    url: "TEST_POSTGRES_URL", db: "EMBEDDED_MIGRATIONS_BATCH_PG_DB", quote: "\"", set: POSTGRES_CODE,
    child: postgres_code_batch_child, kill: postgres_code_backfill_killed_five_times_processes_each_row_once
);

server_batch_tests!(
    mysql_code, "mysql", mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions},
    url: "TEST_MYSQL_URL", db: "EMBEDDED_MIGRATIONS_BATCH_MYSQL_DB", quote: "`", set: MYSQL_CODE,
    child: mysql_code_batch_child, kill: mysql_code_backfill_killed_five_times_processes_each_row_once
);

server_batch_tests!(
    mysql, "mysql", mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions},
    url: "TEST_MYSQL_URL", db: "EMBEDDED_MIGRATIONS_BATCH_MYSQL_DB", quote: "`", set: MYSQL,
    child: mysql_batch_child, kill: mysql_backfill_killed_five_times_processes_each_row_once
);

/// The measurement behind BENCHMARKS.md ("Batch migrations"), run by hand:
/// the 200,000-row backfill as one statement and as batches of 5,000, with
/// a concurrent writer updating one random row at a time (autocommit); its
/// longest wait is the longest it was blocked by the backfill's row locks.
/// Ignored by default (no timing in CI):
/// `cargo test --features postgres,mysql --test batch -- --ignored --nocapture measure`
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod measure {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    /// Runs `backfill` while a writer updates random rows of `items`;
    /// returns (wall time of the backfill, longest single write).
    pub async fn with_writer<DB, F>(pool: &sqlx::Pool<DB>, rows: i64, backfill: F) -> (Duration, Duration)
    where
        DB: sqlx::Database,
        for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
        F: std::future::Future<Output = ()>,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (pool, stop) = (pool.clone(), stop.clone());
            tokio::spawn(async move {
                let mut rng = Rng::seeded();
                let mut longest = Duration::ZERO;
                while !stop.load(Ordering::SeqCst) {
                    let id = 1 + rng.below(rows as u64);
                    let started = Instant::now();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "UPDATE items SET w = w + 1 WHERE id = {id}"
                    )))
                    .execute(&pool)
                    .await
                    .expect("the writer's update");
                    longest = longest.max(started.elapsed());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                longest
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        backfill.await;
        let wall = started.elapsed();
        stop.store(true, Ordering::SeqCst);
        (wall, writer.await.expect("writer"))
    }

    /// The 200,000-row backfill of `table` (its migration 2) on a fresh
    /// database of `server`, as one `UPDATE` and then as batches, each
    /// beside the writer of `with_writer`; prints both measurements.
    pub async fn one_statement_against_batches<O, DB>(
        backend: &str,
        table: &Migrations,
        server: O,
        with_database: impl Fn(&O, &str) -> O,
        quote: char,
    ) where
        O: sqlx::ConnectOptions,
        O::Connection: sqlx::Connection<Database = DB> + Sized,
        for<'c> &'c mut O::Connection: sqlx::Executor<'c, Database = DB>,
        DB: sqlx::Database,
        DB::Connection: sqlx::Connection<Options = O>,
        sqlx::Pool<DB>: Database<Language = Sql>,
        for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
        for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
        (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
    {
        let mut results = Vec::new();
        for batched in [false, true] {
            let name = support::unique_name("batch_measure");
            servers::admin(&server, format!("CREATE DATABASE {quote}{name}{quote}")).await;
            let pool = sqlx::pool::PoolOptions::<DB>::new()
                .max_connections(4)
                .connect_with(with_database(&server, &name))
                .await
                .expect("connect");
            table.with(settings()).run_to(&pool, 1).await.expect("seed");
            servers::exec(&pool, "ALTER TABLE items ADD COLUMN w INTEGER NOT NULL DEFAULT 0").await;
            let result = with_writer(&pool, 200_000, async {
                if batched {
                    table.with(settings()).run_to(&pool, 2).await.expect("batches");
                } else {
                    servers::exec(&pool, "UPDATE items SET n = n + 1 WHERE n = 0").await;
                }
            })
            .await;
            assert_eq!(
                servers::count(&pool, "SELECT count(*) FROM items WHERE n = 1".into()).await,
                200_000
            );
            results.push(result);
            pool.close().await;
            servers::drop_database(&server, format!("DROP DATABASE IF EXISTS {quote}{name}{quote}"), &name);
        }
        print(backend, results[0], results[1]);
    }

    pub fn print(backend: &str, one: (Duration, Duration), batched: (Duration, Duration)) {
        println!(
            "\n{backend}: one statement: {:.2} s, writer waited at most {:.0} ms; \
             batches of 5,000: {:.2} s, writer waited at most {:.0} ms",
            one.0.as_secs_f64(),
            one.1.as_secs_f64() * 1000.0,
            batched.0.as_secs_f64(),
            batched.1.as_secs_f64() * 1000.0
        );
    }
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand"]
async fn measure_postgres_one_statement_against_batches() {
    let server: sqlx::postgres::PgConnectOptions = servers::server("TEST_POSTGRES_URL", "measure").expect("server");
    measure::one_statement_against_batches("PostgreSQL", &POSTGRES, server, |s, name| s.clone().database(name), '"')
        .await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand"]
async fn measure_mysql_one_statement_against_batches() {
    let server: sqlx::mysql::MySqlConnectOptions = servers::server("TEST_MYSQL_URL", "measure").expect("server");
    measure::one_statement_against_batches("MariaDB", &MYSQL, server, |s, name| s.clone().database(name), '`').await;
}
