//! The shared scenarios on a real MySQL or MariaDB server, plus what is
//! MySQL's own: the dirty protocol (DDL commits implicitly) and its recovery
//! with `force` and `forget`, `GET_LOCK` timeouts naming the holder, 16
//! processes booting at once and SIGKILL at random moments.
//!
//! Needs `TEST_MYSQL_URL` (e.g. mysql://root@127.0.0.1:3306/test); without
//! it every test skips loudly, or fails when `CI=true`. Each test creates
//! its own database and drops it when it passes.
#![cfg(feature = "mysql")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Error, MigrationState, Migrations, Settings};
use servers::dbs::{MyDb, MYSQL_URL as URL_ENV};
use servers::{now_ms, spawn_child, Rng};
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions};
use std::time::{Duration, Instant};
use support::fixtures::BASE;
use support::TestDb;

static EXAMPLE: Migrations = embed_migrations!("migrations/mysql", database = mysql);
static DIRTY: Migrations = embed_migrations!("tests/fixtures/mysql_dirty");
static CRASH: Migrations = embed_migrations!("tests/fixtures/mysql_crash");
static SLOW: Migrations = embed_migrations!("tests/fixtures/mysql_slow");

/// The server from `TEST_MYSQL_URL`, or `None` after saying why.
fn server(test: &str) -> Option<MySqlConnectOptions> {
    servers::server(URL_ENV, test)
}

async fn create_database(server: &MySqlConnectOptions, name: &str) {
    servers::admin(server, format!("CREATE DATABASE `{name}`")).await;
}

impl MyDb {
    async fn has_table(&self, table: &str) -> bool {
        self.tables().await.iter().any(|t| t == table)
    }
}

fn drop_database(server: &MySqlConnectOptions, name: &str) {
    servers::drop_database(server, format!("DROP DATABASE IF EXISTS `{name}`"), name);
}

backend_scenarios!(MyDb);
fault_scenarios!(MyDb);
sql_fault_scenarios!(MyDb);

sql_scenarios!(MyDb);
code_scenarios!(
    MyDb,
    mysql,
    "tests/fixtures/code_mysql",
    "tests/fixtures/code_mysql_edited",
    "tests/fixtures/code_mysql_failing",
    "tests/fixtures/code_mysql_panicking"
);
adoption_scenarios!(MyDb, embedded_migrations::core::split::Dialect::MySql);
layout_scenarios!(MyDb);

repeatable_scenario!(
    MyDb,
    "tests/fixtures/repeatable_mysql_v1",
    "tests/fixtures/repeatable_mysql_v2",
    "SELECT count(*) FROM (SELECT a_code() AS e) t WHERE e = '{edition}'"
);

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_MYSQL_CHILD";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_MYSQL_CHILD_DB";

/// The child half of the process tests, started by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that the process tests of this file start; fails alone"]
async fn child_process_entry() {
    let role = servers::child_role(CHILD_ENV);
    let database = std::env::var(DB_ENV).expect("the parent names the database");
    let options = server("child_process_entry")
        .expect("the parent has a server")
        .database(&database);
    let pool = MySqlPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("the child connects");
    let report = match role.as_str() {
        // SLOW holds the lock for 2 s: time for every child to meet it.
        "boot" => return servers::boot_child(SLOW.run(&pool)).await,
        "crash" => {
            CRASH
                .with(Settings::default().lock_timeout(Duration::from_secs(60)))
                .run(&pool)
                .await
        }
        other => panic!("unknown child role {other}"),
    };
    let report = report.unwrap_or_else(|err| panic!("child run: {err}"));
    servers::report_applied(&report);
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_leaves_migrations_clean_or_reported_dirty() {
    let Some(server) = server("sigkill_at_random_moments_leaves_migrations_clean_or_reported_dirty") else {
        return;
    };
    let mut admin = server.connect().await.expect("admin connection");
    let mut rng = Rng::seeded();
    let started = Instant::now();
    let (mut clean, mut dirty, mut forced, mut forgotten) = (0, 0, 0, 0);
    for round in 0..24 {
        let name = support::unique_name(&format!("sigkill_{round}"));
        create_database(&server, &name).await;
        let mut child = spawn_child(
            "child_process_entry",
            &[(CHILD_ENV, "crash".to_string()), (DB_ENV, name.clone())],
        );
        tokio::time::sleep(Duration::from_millis(rng.below(900))).await;
        let _ = child.kill();
        let _ = child.wait();
        // The server ends the session once it notices the socket closed
        // (after a running SLEEP); only then is its lock gone.
        let waiting = Instant::now();
        loop {
            let sessions: i64 =
                sqlx::query_scalar("SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ?")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await
                    .expect("process list");
            if sessions == 0 {
                break;
            }
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "the killed session lingers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect_with(server.clone().database(&name))
            .await
            .expect("connect");
        let exists = async |table: String| -> bool {
            let n: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            )
            .bind(table)
            .fetch_one(&pool)
            .await
            .expect("tables");
            n > 0
        };
        let status = CRASH.status(&pool).await.expect("status");
        let mut dirty_version = None;
        for entry in &status.entries {
            let v = entry.version;
            let (a, b) = (exists(format!("t{v}_a")).await, exists(format!("t{v}_b")).await);
            match entry.state {
                MigrationState::Applied => {
                    assert!(a && b, "round {round}: {v} is recorded clean but half-applied");
                    clean += 1;
                }
                MigrationState::Pending => assert!(!a && !b, "round {round}: {v} unrecorded left tables"),
                MigrationState::Dirty => {
                    assert!(dirty_version.is_none(), "round {round}: two dirty migrations");
                    dirty_version = Some((v, a, b));
                }
                other => panic!("round {round}: {v} is {other:?} after a kill"),
            }
        }
        if let Some((v, a, b)) = dirty_version {
            dirty += 1;
            let err = CRASH.run(&pool).await.expect_err("a dirty migration stops the run");
            assert!(matches!(err, Error::Dirty { version, .. } if version == v), "{err}");
            // What a person would do: finish it if it got through, else undo it.
            if a && b {
                CRASH.force(&pool, v).await.expect("force");
                forced += 1;
            } else {
                for table in [format!("t{v}_b"), format!("t{v}_a")] {
                    sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE IF EXISTS `{table}`")))
                        .execute(&pool)
                        .await
                        .expect("undo by hand");
                }
                CRASH.forget(&pool, v).await.expect("forget");
                forgotten += 1;
            }
        }
        CRASH
            .run(&pool)
            .await
            .unwrap_or_else(|err| panic!("round {round}: the run after the kill: {err}"));
        CRASH
            .validate(&pool)
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        pool.close().await;
        drop_database(&server, &name);
    }
    eprintln!(
        "after kills: {clean} migrations clean, {dirty} dirty ({forced} forced, {forgotten} forgotten); {:?} in all",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_statement_after_create_table_leaves_the_migration_dirty_until_repaired() {
    let Some(db) = MyDb::create("dirty_recovery").await else {
        return;
    };
    let err = DIRTY
        .run(&db.pool)
        .await
        .expect_err("002 fails on its second statement");
    match err.cause() {
        Error::MigrationFailed {
            version: 2,
            line: 2,
            rolled_back: false,
            message,
            statement,
            file,
            ..
        } => {
            assert!(message.contains("half_log"), "{message}");
            assert!(statement.starts_with("INSERT INTO half_log"), "{statement}");
            assert_eq!(*file, "002_half_then_fail.up.sql");
        }
        other => panic!("expected a failed migration, got {other}"),
    }
    assert!(err.to_string().contains("marked dirty"), "{err}");
    assert!(db.has_table("half").await, "MySQL committed the CREATE TABLE");
    let status = DIRTY.status(&db.pool).await.expect("status");
    assert_eq!(status.entries[1].state, MigrationState::Dirty);
    assert_eq!(status.entries[2].state, MigrationState::Pending);

    // Every later operation that would change the schema stops first.
    let err = DIRTY.run(&db.pool).await.expect_err("dirty");
    let text = err.to_string();
    assert!(matches!(err, Error::Dirty { version: 2, .. }), "{text}");
    assert!(
        text.contains("half_then_fail") && text.contains("force 2") && text.contains("forget 2"),
        "{text}"
    );
    assert!(matches!(DIRTY.down(&db.pool, 1).await, Err(Error::Dirty { .. })));
    assert!(matches!(DIRTY.plan(&db.pool).await, Err(Error::Dirty { .. })));
    assert!(!db.has_table("t_three").await);

    // Recovery one: undo by hand and forget; the file is fixed by creating
    // what it needs, and the next run applies it whole.
    db.exec("DROP TABLE half").await;
    DIRTY.forget(&db.pool, 2).await.expect("forget");
    assert_eq!(
        DIRTY.status(&db.pool).await.expect("status").entries[1].state,
        MigrationState::Pending
    );
    db.exec("CREATE TABLE half_log (id INTEGER PRIMARY KEY)").await;
    let report = DIRTY.run(&db.pool).await.expect("applies 002 and 003");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [2, 3]);
    DIRTY.validate(&db.pool).await.expect("valid");

    // Recovery two: finish by hand and force.
    DIRTY.down_to(&db.pool, 1).await.expect("down to 1");
    db.exec("DROP TABLE half_log").await;
    DIRTY.run(&db.pool).await.expect_err("fails again");
    db.exec("CREATE TABLE half_log (id INTEGER PRIMARY KEY)").await;
    db.exec("INSERT INTO half_log (id) VALUES (1)").await;
    DIRTY.force(&db.pool, 2).await.expect("force");
    assert_eq!(DIRTY.run(&db.pool).await.expect("003").steps.len(), 1);
    DIRTY.validate(&db.pool).await.expect("valid after force");
    let history = DIRTY.history(&db.pool).await.expect("history");
    assert_eq!(history.iter().filter(|h| !h.success).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_makes_run_wait_then_fail_naming_the_holder() {
    let Some(db) = MyDb::create("lock_timeout").await else {
        return;
    };
    let holder_pool = MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(db.server.clone().database(&db.name))
        .await
        .expect("holder pool");
    let holder = tokio::spawn(async move { SLOW.run(&holder_pool).await });
    let waiting = Instant::now();
    // The holder marks 001 dirty just after it takes the lock.
    while db.count("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_embedded_migrations'").await == 0
        || db.count("SELECT count(*) FROM _embedded_migrations").await == 0
    {
        assert!(waiting.elapsed() < Duration::from_secs(20), "the holder never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = servers::lock_timeout_names_the_holder(&SLOW, &db.pool, holder).await;
    match &err {
        Error::LockTimeout {
            holder: Some(holder), ..
        } => assert!(holder.contains("connection") && holder.contains(&db.name), "{holder}"),
        other => panic!("expected a lock timeout naming the holder, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_released_when_a_run_is_cancelled() {
    let Some(db) = MyDb::create("lock_release").await else {
        return;
    };
    let cancelled = tokio::time::timeout(Duration::from_millis(600), SLOW.run(&db.pool)).await;
    assert!(cancelled.is_err(), "the slow migration is still running: {cancelled:?}");
    // The dropped run's protocol went to the server as one query after the
    // mark: the server may have finished it (001 applied and recorded) or
    // stopped when it saw the connection gone (001 dirty). Either way the
    // lock must be free for the next process: a lock timeout fails here.
    let next = SLOW
        .with(Settings::default().lock_timeout(Duration::from_secs(10)))
        .run(&db.pool)
        .await;
    match next {
        Ok(report) => {
            assert!(report.is_empty(), "001 was recorded by the cancelled run: {report:?}");
            assert!(
                db.has_table("slow_done").await,
                "recorded applied, so its statements ran"
            );
            SLOW.validate(&db.pool).await.expect("valid");
        }
        Err(err) => assert!(matches!(err, Error::Dirty { version: 1, .. }), "{err}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_set_applies_and_reverts_to_its_irreversible_migration() {
    let Some(db) = MyDb::create("example").await else {
        return;
    };
    servers::example_set_applies_and_reverts(&db, &EXAMPLE, Some("SELECT net_quantity FROM user_positions")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_never_show_the_password() {
    let Some(options) = server("connection_errors_never_show_the_password") else {
        return;
    };
    let secret = "s3cret-Pa55word";
    let host = options.get_host().to_string();
    let port = options.get_port();
    let urls = [
        // The server answers: access denied for this password.
        format!("mysql://root:{secret}@{host}:{port}/test"),
        // Nobody answers.
        format!("mysql://root:{secret}@127.0.0.1:9/test"),
    ];
    servers::connection_errors_never_show_the_password::<MySql>(&BASE, urls, secret).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_option_keeps_the_tracking_tables_in_another_database() {
    let Some(db) = MyDb::create("schema_option").await else {
        return;
    };
    // Settings take names of at most 48 characters.
    let meta = format!("em_meta_{}_{}", std::process::id(), now_ms() % 1_000_000_000);
    let settings = Settings::default().schema(meta.clone());
    let report = BASE.with(settings.clone()).run(&db.pool).await;
    let tables = db.tables().await;
    let recorded = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS SIGNED) FROM `{meta}`.`_embedded_migrations`"
    )))
    .fetch_one(&db.pool)
    .await;
    let again = BASE.with(settings).run(&db.pool).await;
    let default_status = BASE.status(&db.pool).await;
    drop_database(&db.server, &meta);
    assert_eq!(report.expect("run").steps.len(), 3);
    assert_eq!(tables, ["a", "b"], "the migrations ran in the connection's database");
    assert_eq!(recorded.expect("tracking rows in the other database"), 3);
    assert!(again.expect("boot").is_empty());
    assert_eq!(default_status.expect("status").pending_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_row_edited_by_hand_is_a_typed_error_not_an_endless_loop() {
    let Some(db) = <MyDb as TestDb>::fresh("state_row_edited").await else {
        return;
    };
    servers::state_row_edited_by_hand_is_a_typed_error(&db).await;
}

static FIRST_FAILS: Migrations = embed_migrations!("tests/fixtures/mysql_first_fails");
static PARTIAL: Migrations = embed_migrations!("tests/fixtures/mysql_partial");
static DOWN_FAILS: Migrations = embed_migrations!("tests/fixtures/mysql_down_fails");

/// The committed-statement count of `version`'s tracking row.
async fn committed_statements(db: &MyDb, version: i64) -> i64 {
    db.count(&format!(
        "SELECT committed_statements FROM _embedded_migrations WHERE version = {version}"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_whose_first_statement_fails_leaves_nothing_dirty() {
    let Some(db) = MyDb::create("first_fails").await else {
        return;
    };
    let err = FIRST_FAILS.run(&db.pool).await.expect_err("002 fails at once");
    let text = err.to_string();
    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 2,
                line: 2,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        !text.contains("the migration is marked dirty") && !text.contains("were committed"),
        "{text}"
    );
    assert!(text.contains("no statement of it committed"), "{text}");
    let status = FIRST_FAILS.status(&db.pool).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Applied);
    assert_eq!(status.entries[1].state, MigrationState::Pending);
    // Nothing to repair: once the table it needs exists, the next run applies it.
    db.exec("CREATE TABLE not_there (id INTEGER PRIMARY KEY)").await;
    let report = FIRST_FAILS.run(&db.pool).await.expect("002 applies");
    assert_eq!(report.steps.len(), 1);
    FIRST_FAILS.validate(&db.pool).await.expect("valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dirty_migration_says_which_statements_committed() {
    let Some(db) = MyDb::create("partial").await else {
        return;
    };
    let err = PARTIAL
        .run(&db.pool)
        .await
        .expect_err("002 fails at its third statement");
    let text = err.to_string();
    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 2,
                line: 9,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("statements 1-2 committed; statement 3 failed"), "{text}");
    assert!(db.has_table("p2").await && !db.has_table("p4").await);
    assert_eq!(committed_statements(&db, 2).await, 2);
    // A later run, and validate, say it too: the direction and the count,
    // and validate reports the dirty migration alone (its row exists while
    // the state row still says 1 applied: that is the dirty protocol, not a
    // hand edit).
    let err = PARTIAL.run(&db.pool).await.expect_err("dirty");
    let text = err.to_string();
    assert!(matches!(err, Error::Dirty { version: 2, .. }), "{text}");
    assert!(
        text.contains("its up run")
            && text
                .contains("statements 1-2 of 5 committed (lines 1, 4); nothing from statement 3 (line 9) on committed"),
        "{text}"
    );
    match PARTIAL.validate(&db.pool).await {
        Err(Error::Invalid { problems }) => {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(matches!(problems[0], Error::Dirty { version: 2, .. }), "{problems:?}");
        }
        other => panic!("expected the dirty migration alone, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_run_that_fails_halfway_is_reported_as_a_down_run() {
    let Some(db) = MyDb::create("down_fails").await else {
        return;
    };
    DOWN_FAILS.run(&db.pool).await.expect("both apply");
    let err = DOWN_FAILS
        .down(&db.pool, 1)
        .await
        .expect_err("the down file fails at its second statement");
    let text = err.to_string();
    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 2,
                line: 2,
                direction: embedded_migrations::Direction::Down,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("statements 1-1 committed; statement 2 failed"), "{text}");
    let err = DOWN_FAILS.run(&db.pool).await.expect_err("dirty");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Dirty {
                version: 2,
                direction: embedded_migrations::Direction::Down,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("its down run") && !text.contains("its up run"), "{text}");
    assert!(text.contains("statements 1-1 of 3 committed (lines 1)"), "{text}");
    match DOWN_FAILS.validate(&db.pool).await {
        Err(Error::Invalid { problems }) => assert_eq!(problems.len(), 1, "{problems:?}"),
        other => panic!("expected the dirty migration alone, got {other:?}"),
    }
}

/// A tracking table created before the dirty protocol counted statements
/// (no `dirty_direction`, no `committed_statements`): read-only operations
/// read it as it is, and the first run upgrades it under the lock, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_table_of_the_previous_release_is_upgraded_in_place() {
    let Some(db) = MyDb::create("upgrade").await else {
        return;
    };
    PARTIAL.run_to(&db.pool, 1).await.expect("001");
    db.exec("ALTER TABLE _embedded_migrations DROP COLUMN dirty_direction, DROP COLUMN committed_statements")
        .await;
    let columns = "SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                   AND TABLE_NAME = '_embedded_migrations' AND COLUMN_NAME IN ('dirty_direction', 'committed_statements')";
    assert_eq!(db.count(columns).await, 0);
    let status = PARTIAL.status(&db.pool).await.expect("status reads the old table");
    assert_eq!(status.entries[0].state, MigrationState::Applied);
    PARTIAL.validate(&db.pool).await.expect("validate reads the old table");
    assert_eq!(db.count(columns).await, 0, "read-only operations change nothing");
    PARTIAL
        .run(&db.pool)
        .await
        .expect_err("002 fails at its third statement");
    assert_eq!(db.count(columns).await, 2, "run upgraded the table");
    assert_eq!(committed_statements(&db, 2).await, 2);
    // Again: the upgrade is not repeated, and the row keeps its count.
    let err = PARTIAL.run(&db.pool).await.expect_err("dirty");
    assert!(err.to_string().contains("statements 1-2 of 5 committed"), "{err}");
    assert_eq!(db.count(columns).await, 2);
}

/// The dry run tells the truth about MySQL: its DDL commits implicitly, so
/// no migration runs in one transaction here; each is planned statement by
/// statement (as a `no-transaction` file is elsewhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_never_promises_a_transaction_on_mysql() {
    let Some(db) = MyDb::create("plan_truth").await else {
        return;
    };
    let plan = PARTIAL.plan(&db.pool).await.expect("plan");
    assert_eq!(plan.steps.len(), 2);
    assert!(plan.steps.iter().all(|step| step.no_transaction), "{plan:?}");
}
