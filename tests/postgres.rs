//! The shared scenarios on a real PostgreSQL server, plus what is
//! PostgreSQL's own: the advisory lock (timeouts, release on every path),
//! the schema option, `migrate:no-transaction` with `CREATE INDEX
//! CONCURRENTLY`, dollar-quoted bodies, 16 processes booting at once and
//! SIGKILL at random moments.
//!
//! Needs `TEST_POSTGRES_URL` (e.g. postgres://postgres@127.0.0.1:5432/postgres);
//! without it every test skips loudly, or fails when `CI=true`. Each test
//! creates its own database and drops it when it passes.
#![cfg(feature = "postgres")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Error, MigrationState, Migrations, Settings};
use servers::dbs::{PgDb, POSTGRES_URL as URL_ENV};
use servers::{spawn_child, Rng};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, Postgres};
use sqlx::Connection;
use std::time::{Duration, Instant};
use support::fixtures::{BASE, FAILING, SHORT};
use support::TestDb;

static EXAMPLE: Migrations = embed_migrations!("migrations/postgres", database = postgres);
static NO_TRANSACTION: Migrations = embed_migrations!("tests/fixtures/postgres_no_transaction");
static NO_TRANSACTION_FAILING: Migrations = embed_migrations!("tests/fixtures/postgres_no_transaction_failing");
static CONCURRENTLY_IN_TRANSACTION: Migrations =
    embed_migrations!("tests/fixtures/postgres_transactional_concurrently");
static BODIES: Migrations = embed_migrations!("tests/fixtures/postgres_bodies");
static CRASH: Migrations = embed_migrations!("tests/fixtures/postgres_crash");
static SLOW: Migrations = embed_migrations!("tests/fixtures/postgres_slow");
static PREPARED: Migrations = embed_migrations!("tests/fixtures/postgres_prepared");

/// The server from `TEST_POSTGRES_URL`, or `None` after saying why.
fn server(test: &str) -> Option<PgConnectOptions> {
    servers::server(URL_ENV, test)
}

impl PgDb {
    /// Session advisory locks granted in this database.
    async fn advisory_locks(&self) -> i64 {
        self.count(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .await
    }

    async fn wait_for_no_advisory_lock(&self, within: Duration) {
        let started = Instant::now();
        while self.advisory_locks().await > 0 {
            assert!(started.elapsed() < within, "the advisory lock was not released");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn exists(&self, schema: &str, relation: &str) -> bool {
        sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("\"{schema}\".\"{relation}\""))
            .fetch_one(&self.pool)
            .await
            .expect("to_regclass")
    }
}

backend_scenarios!(PgDb);
fault_scenarios!(PgDb);
sql_fault_scenarios!(PgDb, transactional);

sql_scenarios!(PgDb);
code_scenarios!(
    PgDb,
    postgres,
    "tests/fixtures/code_postgres",
    "tests/fixtures/code_postgres_edited",
    "tests/fixtures/code_postgres_failing",
    "tests/fixtures/code_postgres_panicking"
);
adoption_scenarios!(PgDb, embedded_migrations::core::split::Dialect::Postgres);
layout_scenarios!(PgDb);

repeatable_scenario!(
    PgDb,
    "tests/fixtures/repeatable_postgres_v1",
    "tests/fixtures/repeatable_postgres_v2",
    "SELECT count(*) FROM (SELECT a_code() AS e) t WHERE e = '{edition}'"
);

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_PG_CHILD";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_PG_CHILD_DB";
const SCHEMA_ENV: &str = "EMBEDDED_MIGRATIONS_PG_CHILD_SCHEMA";
const CHILD_APPLICATION: &str = "em-test-child";

/// The child half of the process tests, started by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that the process tests of this file start; fails alone"]
async fn child_process_entry() {
    let role = servers::child_role(CHILD_ENV);
    let database = std::env::var(DB_ENV).expect("the parent names the database");
    let options = server("child_process_entry")
        .expect("the parent has a server")
        .database(&database)
        .application_name(CHILD_APPLICATION);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("the child connects");
    match role.as_str() {
        // SLOW holds the lock for 2 s: time for every child to meet it.
        "boot" => servers::boot_child(SLOW.run(&pool)).await,
        "crash" => {
            let schema = std::env::var(SCHEMA_ENV).expect("the parent names the schema");
            let settings = Settings::default().schema(schema).lock_timeout(Duration::from_secs(60));
            let report = CRASH
                .with(settings)
                .run(&pool)
                .await
                .unwrap_or_else(|err| panic!("child run: {err}"));
            servers::report_applied(&report);
        }
        other => panic!("unknown child role {other}"),
    }
}

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
    assert_eq!(db.advisory_locks().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_leaves_tracking_and_schema_in_agreement() {
    let Some(db) = PgDb::create("sigkill").await else {
        return;
    };
    let mut rng = Rng::seeded();
    let started = Instant::now();
    // How many of the 3 migrations each killed child had committed.
    let mut committed_at_kill = [0usize; 4];
    for round in 0..24 {
        let schema = format!("crash_{round}");
        let settings = Settings::default()
            .schema(schema.clone())
            .lock_timeout(Duration::from_secs(60));
        let mut child = spawn_child(
            "child_process_entry",
            &[
                (CHILD_ENV, "crash".to_string()),
                (DB_ENV, db.name.clone()),
                (SCHEMA_ENV, schema.clone()),
            ],
        );
        // Process start to last commit takes about a second here; kill
        // anywhere in it, including before the first statement and after
        // the last commit.
        tokio::time::sleep(Duration::from_millis(rng.below(900))).await;
        let _ = child.kill();
        let _ = child.wait();
        // The server ends the session once it sees the socket closed (after
        // a running pg_sleep); only then are its locks and transaction gone.
        let waiting = Instant::now();
        while db
            .count(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = '{CHILD_APPLICATION}'"
            ))
            .await
            > 0
        {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "the killed session lingers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let status = CRASH.with(settings.clone()).status(&db.pool).await.expect("status");
        let mut recorded = 0;
        for entry in &status.entries {
            let v = entry.version;
            let (a, b) = (
                db.exists(&schema, &format!("t{v}_a")).await,
                db.exists(&schema, &format!("t{v}_b")).await,
            );
            match entry.state {
                MigrationState::Applied => {
                    assert!(
                        a && b,
                        "round {round}: {v} is recorded but its tables are not all there"
                    );
                    recorded += 1;
                }
                MigrationState::Pending => {
                    assert!(!a && !b, "round {round}: {v} is not recorded but left tables behind");
                }
                other => panic!("round {round}: {v} is {other:?} after a kill"),
            }
        }
        committed_at_kill[recorded] += 1;
        let report = CRASH
            .with(settings.clone())
            .run(&db.pool)
            .await
            .unwrap_or_else(|err| panic!("round {round}: the run after the kill: {err}"));
        assert_eq!(report.steps.len(), 3 - recorded);
        CRASH
            .with(settings)
            .validate(&db.pool)
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        for v in 1..=3 {
            assert!(db.exists(&schema, &format!("t{v}_b")).await);
        }
    }
    eprintln!(
        "migrations committed when killed (0, 1, 2, 3): {committed_at_kill:?}; {:?} in all",
        started.elapsed()
    );
    assert_eq!(db.advisory_locks().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_makes_run_wait_then_fail_naming_the_holder() {
    let Some(db) = PgDb::create("lock_timeout").await else {
        return;
    };
    let holder_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options().application_name("em-lock-holder"))
        .await
        .expect("holder pool");
    let holder = tokio::spawn(async move { SLOW.run(&holder_pool).await });
    let waiting = Instant::now();
    while db.advisory_locks().await == 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "the holder never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = servers::lock_timeout_names_the_holder(&SLOW, &db.pool, holder).await;
    match &err {
        Error::LockTimeout {
            holder: Some(holder), ..
        } => assert!(holder.contains("em-lock-holder") && holder.contains("pid"), "{holder}"),
        other => panic!("expected a lock timeout naming the holder, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("held by") && message.contains("em-lock-holder"),
        "{message}"
    );
    assert_eq!(db.advisory_locks().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_released_after_errors_and_when_a_run_is_cancelled() {
    let Some(db) = PgDb::create("lock_release").await else {
        return;
    };
    FAILING.run(&db.pool).await.expect_err("002 fails");
    assert_eq!(db.advisory_locks().await, 0, "released after a failed migration");
    BASE.run(&db.pool).await.expect("the rest of BASE");
    let err = SHORT.run(&db.pool).await.expect_err("an older binary is refused");
    assert!(matches!(err, Error::Ahead { .. }), "{err}");
    assert_eq!(db.advisory_locks().await, 0, "released after a refused run");

    // A run dropped halfway (a caller's timeout) never gets to unlock: its
    // connection must be closed rather than pooled with the lock held.
    let elsewhere = Settings::default().schema("slow");
    let cancelled = tokio::time::timeout(Duration::from_millis(600), SLOW.with(elsewhere.clone()).run(&db.pool)).await;
    assert!(cancelled.is_err(), "the slow migration is still running: {cancelled:?}");
    db.wait_for_no_advisory_lock(Duration::from_secs(20)).await;
    let report = SLOW
        .with(elsewhere.clone().lock_timeout(Duration::from_secs(5)))
        .run(&db.pool)
        .await
        .expect("the next run takes the lock");
    // The cancelled run's batch carries its own COMMIT: the server runs it
    // to the end even though the client went away, so the migration is
    // either applied and recorded by it (nothing left to do) or not at all
    // (applied now). Either way once, and recorded.
    assert!(report.steps.len() <= 1, "{report:?}");
    let status = SLOW.with(elsewhere).status(&db.pool).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Applied);
    assert!(db.exists("slow", "slow_done").await);
    assert_eq!(db.advisory_locks().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_option_puts_tracking_tables_and_migrations_in_that_schema() {
    let Some(db) = PgDb::create("schema_option").await else {
        return;
    };
    let tenant_a = Settings::default().schema("tenant_a");
    let tenant_b = Settings::default().schema("tenant_b");
    assert_eq!(
        BASE.with(tenant_a.clone())
            .run(&db.pool)
            .await
            .expect("tenant_a")
            .steps
            .len(),
        3
    );
    assert_eq!(
        BASE.with(tenant_b.clone())
            .run(&db.pool)
            .await
            .expect("tenant_b")
            .steps
            .len(),
        3
    );
    for schema in ["tenant_a", "tenant_b"] {
        for relation in [
            "a",
            "b",
            "_embedded_migrations",
            "_embedded_migrations_history",
            "_embedded_migrations_state",
        ] {
            assert!(db.exists(schema, relation).await, "{schema}.{relation}");
        }
    }
    assert!(
        db.tables().await.is_empty(),
        "public stays empty: {:?}",
        db.tables().await
    );
    assert_eq!(db.count("SELECT count(*) FROM tenant_a.a").await, 2);
    assert_eq!(BASE.status(&db.pool).await.expect("public status").pending_count(), 3);
    assert!(BASE
        .with(tenant_a.clone())
        .run(&db.pool)
        .await
        .expect("boot")
        .is_empty());

    BASE.with(tenant_a.clone())
        .down_to(&db.pool, 0)
        .await
        .expect("down in tenant_a");
    assert!(!db.exists("tenant_a", "a").await);
    assert!(db.exists("tenant_b", "a").await, "the other schema is untouched");
    BASE.with(tenant_b).validate(&db.pool).await.expect("tenant_b valid");

    // The search path was changed for the migrations' transactions only.
    let path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&db.pool)
        .await
        .expect("search_path");
    assert!(!path.contains("tenant"), "{path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let Some(db) = PgDb::create("no_transaction").await else {
        return;
    };
    let report = NO_TRANSACTION.run(&db.pool).await.expect("run");
    assert_eq!(report.steps.len(), 2);
    let valid_indexes = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                         WHERE c.relname IN ('idx_events_kind', 'idx_events_kind_id') AND i.indisvalid";
    assert_eq!(db.count(valid_indexes).await, 2);
    NO_TRANSACTION.validate(&db.pool).await.expect("recorded clean");
    NO_TRANSACTION
        .down(&db.pool, 1)
        .await
        .expect("down runs outside a transaction too");
    assert_eq!(db.count(valid_indexes).await, 0);
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 1);

    // Without the directive the statement runs in the migration's
    // transaction, which PostgreSQL refuses: proof of the difference.
    let err = CONCURRENTLY_IN_TRANSACTION
        .run(&db.pool)
        .await
        .expect_err("CONCURRENTLY inside a transaction");
    match err.cause() {
        Error::MigrationFailed {
            version: 2,
            message,
            rolled_back: true,
            ..
        } => assert!(message.contains("transaction block"), "{message}"),
        other => panic!("expected a failed migration, got {other}"),
    }

    // A no-transaction file failing halfway keeps what ran and is dirty.
    let err = NO_TRANSACTION_FAILING
        .run(&db.pool)
        .await
        .expect_err("fails after the index");
    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 2,
                rolled_back: false,
                line: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("`force` 2"), "{err}");
    let status = NO_TRANSACTION_FAILING.status(&db.pool).await.expect("status");
    assert_eq!(status.entries[1].state, MigrationState::Dirty);
    let again = NO_TRANSACTION_FAILING
        .run(&db.pool)
        .await
        .expect_err("dirty stops the run");
    assert!(matches!(again, Error::Dirty { version: 2, .. }), "{again}");
    // Recovery: undo by hand, then forget the record.
    db.exec("DROP INDEX idx_events_kind").await;
    NO_TRANSACTION_FAILING.forget(&db.pool, 2).await.expect("forget");
    assert_eq!(
        NO_TRANSACTION_FAILING.status(&db.pool).await.expect("status").entries[1].state,
        MigrationState::Pending
    );

    // With a schema, the session's search path is set for the statements
    // and restored after them.
    let single = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options())
        .await
        .expect("one connection");
    let in_schema = Settings::default().schema("tenant_nt");
    NO_TRANSACTION
        .with(in_schema)
        .run(&single)
        .await
        .expect("run in a schema");
    assert!(db.exists("tenant_nt", "idx_events_kind").await);
    let path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&single)
        .await
        .expect("search_path");
    assert!(!path.contains("tenant_nt"), "{path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dollar_quoted_bodies_do_blocks_and_comments_run_as_written() {
    let Some(db) = PgDb::create("bodies").await else { return };
    let plan = BODIES.plan(&db.pool).await.expect("plan");
    assert_eq!(plan.steps[0].statements.len(), 5, "{:#?}", plan.steps[0].statements);
    BODIES.run(&db.pool).await.expect("run");
    assert_eq!(db.count("SELECT count(*) FROM notes").await, 4);
    assert_eq!(
        db.count("SELECT count(*) FROM notes WHERE body IN ('it''s; escaped', 'dollar; ''quoted''', 'plain ''doubled''; quote')")
            .await,
        3
    );
    assert_eq!(db.count("SELECT add_note('more')::bigint").await, 5);
    let shouted: String = sqlx::query_scalar("SELECT shout('hi')")
        .fetch_one(&db.pool)
        .await
        .expect("function");
    assert_eq!(shouted, "HI; !");
    BODIES.down(&db.pool, 1).await.expect("down");
    assert!(!db.tables().await.iter().any(|t| t == "notes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_set_applies_and_reverts_to_its_irreversible_migration() {
    let Some(db) = PgDb::create("example").await else {
        return;
    };
    servers::example_set_applies_and_reverts(&db, &EXAMPLE, Some("SELECT net_quantity::bigint FROM user_positions"))
        .await;
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
        // The server answers: no such database.
        format!("postgres://postgres:{secret}@{host}:{port}/em_no_such_database"),
        // Nobody answers.
        format!("postgres://postgres:{secret}@127.0.0.1:9/postgres"),
    ];
    servers::connection_errors_never_show_the_password::<Postgres>(&BASE, urls, secret).await;
}

/// An application role that owns its schema but may not create schemas
/// (the usual production grant) can run once the schema exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_create_on_the_database_runs_in_its_own_schema() {
    let Some(db) = PgDb::create("limited_role").await else {
        return;
    };
    let role = format!("{}_app", db.name);
    db.exec(&format!("CREATE ROLE \"{role}\" LOGIN")).await;
    db.exec(&format!("CREATE SCHEMA app AUTHORIZATION \"{role}\"")).await;
    let limited = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(db.options().username(&role))
        .await
        .expect("connect as the application role");
    let in_app = Settings::default().schema("app");
    let result = BASE.with(in_app.clone()).run(&limited).await;
    let denied = BASE.with(Settings::default().schema("elsewhere")).run(&limited).await;
    limited.close().await;
    db.exec(&format!("DROP OWNED BY \"{role}\"")).await;
    db.exec(&format!("DROP ROLE \"{role}\"")).await;
    assert_eq!(result.expect("run as the application role").steps.len(), 3);
    let err = denied.expect_err("may not create a schema");
    assert!(err.to_string().contains("permission denied"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_row_edited_by_hand_is_a_typed_error_not_an_endless_loop() {
    let Some(db) = <PgDb as TestDb>::fresh("state_row_edited").await else {
        return;
    };
    servers::state_row_edited_by_hand_is_a_typed_error(&db).await;
}

static GATED: Migrations = embed_migrations!("tests/fixtures/postgres_gated");

/// The batch checks the state row when it writes it, at its end (one
/// statement with the tracking rows): a state moved by someone else while
/// the migration's statements ran makes the batch fail, and it reads as a
/// conflict, not as a failed migration. The migration waits on an advisory
/// lock the test holds until the state row is moved, so the move happens
/// inside the batch. Nothing of the batch is committed; the engine then
/// plans again and meets a state row that disagrees with the tracking rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_moved_while_the_batch_runs_is_a_conflict_and_nothing_is_committed() {
    let Some(db) = PgDb::create("state_moved_mid_batch").await else {
        return;
    };
    let mut gate = sqlx::PgConnection::connect_with(&db.options()).await.expect("connect");
    sqlx::query("SELECT pg_advisory_lock(4242)")
        .execute(&mut gate)
        .await
        .expect("hold the gate");
    let run = tokio::spawn({
        let pool = db.pool.clone();
        async move { GATED.run(&pool).await }
    });
    let started = Instant::now();
    while db
        .count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 4242")
        .await
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30) && !run.is_finished(),
            "the migration never waited on the gate"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let moved = sqlx::query("UPDATE _embedded_migrations_state SET applied_count = 5 WHERE id = 1")
        .execute(&db.pool)
        .await
        .expect("move the state");
    assert_eq!(moved.rows_affected(), 1, "the state row exists while the batch runs");
    sqlx::query("SELECT pg_advisory_unlock(4242)")
        .execute(&mut gate)
        .await
        .expect("open the gate");
    let result = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run ends")
        .expect("the run does not panic");
    match result {
        Err(Error::StateMismatch { recorded, rows, .. }) => {
            assert_eq!((recorded.applied_count, rows.applied_count), (5, 0))
        }
        other => panic!("expected the moved state to stop the run, got {other:?}"),
    }
    assert!(!db.exists("public", "gated").await, "the migration is rolled back");
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations_history").await, 0);
}

static BATCH_FAILING: Migrations = embed_migrations!("tests/fixtures/postgres_batch_failing");
static BATCH_POSITION: Migrations = embed_migrations!("tests/fixtures/postgres_batch_position");

/// A transactional file goes to the server as one multi-statement query; a
/// failure is located by replaying it statement by statement in a
/// transaction that is rolled back. The sequence proves both happened (a
/// rollback does not undo `nextval`: the file's one call ran twice), and
/// the error is what the statement alone gives: its text, its line, the
/// server's message with SQLSTATE and detail. Nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_is_replayed_to_name_the_statement_with_sqlstate_and_detail() {
    let Some(db) = PgDb::create("batch_failing").await else {
        return;
    };
    let err = BATCH_FAILING.run(&db.pool).await.expect_err("002 fails");
    match err.cause() {
        Error::MigrationFailed {
            version: 2,
            statement,
            line,
            message,
            rolled_back: true,
            ..
        } => {
            assert_eq!(&**statement, "INSERT INTO items (id, qty)\nVALUES (2,\n        0)");
            assert_eq!(*line, 5);
            assert!(
                message.contains("items_qty_check") && message.contains("SQLSTATE 23514"),
                "{message}"
            );
            assert!(message.contains("detail: Failing row contains (2, 0)"), "{message}");
        }
        other => panic!("expected 002 to fail, got {other}"),
    }
    assert_eq!(
        db.count("SELECT last_value FROM calls").await,
        2,
        "the batch, then the replay"
    );
    assert!(!db.exists("public", "items").await, "002 is rolled back");
    assert!(db.exists("public", "calls").await, "001 stays");
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 1);
    assert_eq!(
        db.count("SELECT applied_count FROM _embedded_migrations_state").await,
        1
    );

    // An error with a position points at its line inside the statement.
    let err = BATCH_POSITION
        .with(Settings::default().table("position_migrations"))
        .run(&db.pool)
        .await
        .expect_err("001 fails");
    match err.cause() {
        Error::MigrationFailed { line, message, .. } => {
            assert_eq!(*line, 5, "{err}");
            assert!(
                message.contains("nmae") && message.contains("SQLSTATE 42703"),
                "{message}"
            );
        }
        other => panic!("expected 001 to fail, got {other}"),
    }
    assert!(!db.exists("public", "parts").await);
}

/// Each migration's tracking writes run as a statement prepared once per
/// run on the pool's connection (the literal form was planned again after
/// every migration's DDL: BENCHMARKS.md, sixth pass). The migrations see it
/// while they run; the connection goes back to the pool without it, after
/// a run that applied everything and after one that failed, and a second
/// run on the same connection prepares its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_statement_is_prepared_for_the_run_and_deallocated_after_it() {
    let Some(db) = PgDb::create("prepared_tracking").await else {
        return;
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.options())
        .await
        .expect("a pool of one connection");
    let backend_pid = || async { servers::count(&pool, "SELECT pg_backend_pid()::bigint".to_string()).await };
    let left_prepared = || async {
        servers::count(
            &pool,
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '\\_em\\_finish\\_%'".to_string(),
        )
        .await
    };
    let pid = backend_pid().await;

    PREPARED.run(&pool).await.expect("the two migrations apply");
    // sqlx's own prepared statements are there too: only ours are read.
    let ours = "SELECT migration, name FROM seen WHERE name LIKE '\\_em\\_finish\\_%' ORDER BY migration";
    let seen: Vec<(i32, String)> = sqlx::query_as(ours)
        .fetch_all(&pool)
        .await
        .expect("read what the migrations saw");
    assert_eq!(
        seen.iter().map(|(migration, _)| *migration).collect::<Vec<_>>(),
        [1, 2],
        "each migration saw one tracking statement: {seen:?}"
    );
    assert_eq!(seen[0].1, seen[1].1, "one statement for the whole run");
    assert_eq!(backend_pid().await, pid, "the same connection, back in the pool");
    assert_eq!(left_prepared().await, 0, "deallocated when the run ended");

    // A run that fails midway hands the connection back clean, too.
    let err = FAILING
        .with(Settings::default().table("failing_migrations"))
        .run(&pool)
        .await
        .expect_err("002 fails");
    assert!(
        matches!(err.cause(), Error::MigrationFailed { version: 2, .. }),
        "{err}"
    );
    assert_eq!(err.applied().len(), 1, "001 applied before the failure: {err}");
    assert_eq!(backend_pid().await, pid);
    assert_eq!(left_prepared().await, 0);
    assert_eq!(db.advisory_locks().await, 0);

    // And the next run on that connection prepares its own statement.
    PREPARED.down_to(&pool, 1).await.expect("002 reverted");
    PREPARED.run(&pool).await.expect("002 applied again");
    let seen: Vec<(i32, String)> = sqlx::query_as(ours)
        .fetch_all(&pool)
        .await
        .expect("read what the migrations saw");
    let names: Vec<&str> = seen.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names.len(), 2, "{seen:?}");
    assert_ne!(names[0], names[1], "a new name for the second run: {names:?}");
    assert_eq!(left_prepared().await, 0);
    pool.close().await;
}

/// `Settings::default()` and `.schema("public")` name the same tracking
/// tables (the connection's schema is `public`): their runs exclude each
/// other, whichever of the two holds the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_schema_and_the_same_schema_by_name_share_one_lock() {
    let Some(db) = PgDb::create("lock_resolved_schema").await else {
        return;
    };
    for (holder_settings, waiter_settings) in [
        (Settings::default(), Settings::default().schema("public")),
        (Settings::default().schema("public"), Settings::default()),
    ] {
        let holder_pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(db.options())
            .await
            .expect("holder pool");
        let holder = tokio::spawn(async move { SLOW.with(holder_settings).run(&holder_pool).await });
        let waiting = Instant::now();
        while db.advisory_locks().await == 0 {
            assert!(
                waiting.elapsed() < Duration::from_secs(20),
                "the holder never took the lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let err = SLOW
            .with(waiter_settings.lock_timeout(Duration::from_millis(300)))
            .run(&db.pool)
            .await
            .expect_err("the holder has the lock");
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
        holder.await.expect("holder task").expect("holder run");
        SLOW.down(&db.pool, 1).await.expect("revert for the next round");
    }
}

/// A pool whose server cannot be reached (created lazily, or the server went
/// away): the error names the cause the driver saw (refused, name not
/// resolved) instead of only the pool's acquire timeout, and never the
/// password of the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_reported_with_its_cause() {
    if server("an_unreachable_server_is_reported_with_its_cause").is_none() {
        return;
    }
    let secret = "s3cret-Pa55word";
    let cases = [
        (format!("postgres://app:{secret}@127.0.0.1:1/db"), "refused"),
        (
            format!("postgres://app:{secret}@no-such-host.invalid:5432/db"),
            "lookup",
        ),
    ];
    for (url, cause) in cases {
        // sqlx's default acquire timeout: 30 s of retrying, then "timed out".
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy(&url)
            .expect("lazy pool");
        let err = BASE.run(&pool).await.expect_err("cannot connect");
        let text = format!("{err} / {err:?}");
        assert!(!text.contains(secret), "{text}");
        assert!(text.to_lowercase().contains(cause), "{text}");
        assert!(!text.contains("pool's acquire timeout"), "{text}");
    }
}

/// A set whose code migration was written for SQLite, run on PostgreSQL
/// (both SQL, so the types allow it): refused before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_migration_for_another_database_is_refused_before_anything_runs() {
    static FOR_SQLITE: Migrations = embed_migrations!("tests/fixtures/code_sqlite", database = sqlite);
    let Some(db) = PgDb::create("code_for_another_database").await else {
        return;
    };
    let err = FOR_SQLITE.run(db.pool()).await.expect_err("written for SQLite");
    let Error::CodeForAnotherDatabase {
        ref file,
        written_for,
        database,
    } = err
    else {
        panic!("expected CodeForAnotherDatabase, got {err:?}")
    };
    assert_eq!(
        (file.as_str(), written_for, database),
        ("002_fill_items.rs", "SQLite", "PostgreSQL")
    );
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert!(
        db.tables().await.is_empty(),
        "no tracking table, no migration: {:?}",
        db.tables().await
    );
    let err = FOR_SQLITE.down(db.pool(), 1).await.expect_err("down too");
    assert!(matches!(err, Error::CodeForAnotherDatabase { .. }), "{err}");
}

/// A `no-transaction` code migration runs outside any transaction:
/// `CREATE INDEX CONCURRENTLY`, which refuses one, works from Rust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_transaction_code_migration_runs_outside_a_transaction() {
    static OUTSIDE: Migrations = embed_migrations!("tests/fixtures/code_postgres_no_transaction", database = postgres);
    let Some(db) = PgDb::create("code_no_transaction").await else {
        return;
    };
    assert_eq!(OUTSIDE.run(db.pool()).await.expect("run").steps.len(), 2);
    OUTSIDE.validate(db.pool()).await.expect("recorded clean");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_name'")
            .await,
        1
    );
    OUTSIDE.down(db.pool(), 1).await.expect("down");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_indexes WHERE indexname = 'items_name'")
            .await,
        0
    );
}
