//! `LockMode::Table`: the migration lock as a leased row, on PostgreSQL
//! (directly, and behind a real PgBouncer in transaction mode) and on
//! MySQL/MariaDB: 16 processes booting at once apply each migration once,
//! a holder killed mid-migration is taken over once its lease expires, a
//! held row makes a run fail naming its holder, a cancelled run releases
//! the row; and the session advisory lock refused behind PgBouncer.
//!
//! Needs `TEST_POSTGRES_URL`, `TEST_PGBOUNCER_URL` (PgBouncer with
//! `pool_mode = transaction` in front of that server, forwarding every
//! database: `.ci/servers.sh` starts one on 127.0.0.1:6432) and
//! `TEST_MYSQL_URL`; without one, its tests skip loudly, or fail when
//! `CI=true`. Each test creates its own database (on PostgreSQL through the
//! server itself, reached through PgBouncer by name) and drops it when it
//! passes. What the tests check is read on direct connections: behind
//! PgBouncer only the code under test runs.
#![cfg(all(feature = "postgres", feature = "mysql"))]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Error, LockMode, MigrationState, Migrations, Settings};
use servers::dbs::{MyDb, PgDb, MYSQL_URL, POSTGRES_URL};
use servers::{spawn_child, Rng};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::time::{Duration, Instant};
use support::TestDb;

static PG_SLOW: Migrations = embed_migrations!("tests/fixtures/postgres_slow");
static PG_CRASH: Migrations = embed_migrations!("tests/fixtures/postgres_crash");
static MY_SLOW: Migrations = embed_migrations!("tests/fixtures/mysql_slow");

const PGBOUNCER_URL: &str = "TEST_PGBOUNCER_URL";

fn table_mode() -> Settings {
    Settings::default().lock_mode(LockMode::Table)
}

/// A PostgreSQL test database as the code under test reaches it: behind
/// PgBouncer (`under_test`), and directly (`db`) for what the test reads.
struct Bounced {
    db: PgDb,
    under_test: PgPool,
}

impl Bounced {
    async fn create(test: &str) -> Option<Bounced> {
        let through: PgConnectOptions = servers::server(PGBOUNCER_URL, test)?;
        let db = PgDb::create(test).await?;
        let under_test = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(through.database(&db.name))
            .await
            .expect("connect through PgBouncer");
        Some(Bounced { db, under_test })
    }
}

/// The lock row's owner, if there is one.
async fn lock_owner(db: &PgDb) -> Option<String> {
    sqlx::query_scalar("SELECT owner FROM _embedded_migrations_lock WHERE id = 1")
        .fetch_optional(&db.pool)
        .await
        .unwrap_or(None)
}

async fn exists(db: &PgDb, relation: &str) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
        .bind(relation)
        .fetch_one(&db.pool)
        .await
        .expect("to_regclass")
}

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_TABLE_LOCK_CHILD";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_TABLE_LOCK_DB";
/// The variable naming the URL the child connects with.
const URL_ENV: &str = "EMBEDDED_MIGRATIONS_TABLE_LOCK_URL";

/// The child half of the process tests, started by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that the process tests of this file start; fails alone"]
async fn child_process_entry() {
    let role = servers::child_role(CHILD_ENV);
    let database = std::env::var(DB_ENV).expect("the parent names the database");
    let url = std::env::var(URL_ENV).expect("the parent names the URL variable");
    if url == MYSQL_URL {
        let options: MySqlConnectOptions = servers::server(MYSQL_URL, "child").expect("the parent has a server");
        let pool = MySqlPoolOptions::new()
            .max_connections(2)
            .connect_with(options.database(&database))
            .await
            .expect("the child connects");
        assert_eq!(role, "boot");
        return servers::boot_child(MY_SLOW.with(table_mode()).run(&pool)).await;
    }
    let options: PgConnectOptions = servers::server(&url, "child").expect("the parent has a server");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.database(&database))
        .await
        .expect("the child connects");
    match role.as_str() {
        // SLOW holds the lock for 2 s: time for every child to meet it.
        "boot" => servers::boot_child(PG_SLOW.with(table_mode()).run(&pool)).await,
        "crash" => {
            let report = PG_CRASH
                .with(crash_settings())
                .run(&pool)
                .await
                .unwrap_or_else(|err| panic!("child run: {err}"));
            servers::report_applied(&report);
        }
        other => panic!("unknown child role {other}"),
    }
}

/// A lock timeout of 4 s: a lease of 2 s, which a killed holder's row
/// outlives by at most that.
fn crash_settings() -> Settings {
    table_mode().lock_timeout(Duration::from_secs(4))
}

fn boot_sixteen(database: &str, url: &str) -> Vec<usize> {
    // Time enough for 16 processes to start on two cores before the instant.
    servers::boot_at_once(
        "child_process_entry",
        &[
            (CHILD_ENV, "boot".to_string()),
            (DB_ENV, database.to_string()),
            (URL_ENV, url.to_string()),
        ],
        16,
        Duration::from_millis(2500),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_sixteen_processes_apply_each_migration_once() {
    let Some(Bounced { db, under_test: _ }) = Bounced::create("bouncer_sixteen").await else {
        return;
    };
    let applied = boot_sixteen(&db.name, PGBOUNCER_URL);
    servers::assert_each_applied_once(&db, &PG_SLOW, &applied).await;
    assert_eq!(lock_owner(&db).await, None, "the row is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sixteen_processes_apply_each_migration_once() {
    let Some(db) = PgDb::create("table_sixteen").await else {
        return;
    };
    let applied = boot_sixteen(&db.name, POSTGRES_URL);
    servers::assert_each_applied_once(&db, &PG_SLOW, &applied).await;
    assert_eq!(lock_owner(&db).await, None, "the row is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_sixteen_processes_apply_each_migration_once() {
    let Some(db) = MyDb::create("table_sixteen").await else {
        return;
    };
    let applied = boot_sixteen(&db.name, MYSQL_URL);
    servers::assert_each_applied_once(&db, &MY_SLOW, &applied).await;
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations_lock").await, 0);
}

/// Rounds of a holder killed at a random moment of its run (each migration
/// sleeps between its two tables): the schema and the records agree, and
/// the next run, in table mode through the same PgBouncer, completes the
/// set, taking the dead holder's row over once its lease expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_a_killed_holder_is_taken_over_after_its_lease() {
    let Some(Bounced { db, under_test }) = Bounced::create("bouncer_sigkill").await else {
        return;
    };
    // The lock table, for the rounds to watch.
    PG_CRASH
        .with(crash_settings())
        .run(&under_test)
        .await
        .expect("first run");
    PG_CRASH.down(&db.pool, 3).await.expect("back to nothing");
    let mut rng = Rng::seeded();
    let (mut taken_over, mut rounds) = (0, 0);
    for round in 0..10 {
        if round > 0 {
            PG_CRASH.down(&db.pool, 3).await.expect("back to nothing");
        }
        // A holder killed after its last migration leaves its row to
        // expire; this round's child need not wait for it.
        db.exec("DELETE FROM _embedded_migrations_lock").await;
        let mut child = spawn_child(
            "child_process_entry",
            &[
                (CHILD_ENV, "crash".to_string()),
                (DB_ENV, db.name.clone()),
                (URL_ENV, PGBOUNCER_URL.to_string()),
            ],
        );
        // Killed once it holds the row, somewhere in its three migrations
        // (about half a second of work).
        let waiting = Instant::now();
        while lock_owner(&db).await.is_none() {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "the child never took the lock"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(500))).await;
        let _ = child.kill();
        let _ = child.wait();
        rounds += 1;
        let dead_owner = lock_owner(&db).await;
        // PgBouncer drops the server connection once it sees the client
        // gone; a query already sent may still be running (and commit)
        // until then.
        let waiting = Instant::now();
        while db
            .count(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND state NOT IN ('idle') AND pid <> pg_backend_pid()",
            )
            .await
            > 0
        {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "the killed session's query lingers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let status = PG_CRASH.with(crash_settings()).status(&db.pool).await.expect("status");
        for entry in &status.entries {
            let v = entry.version;
            let (a, b) = (
                exists(&db, &format!("t{v}_a")).await,
                exists(&db, &format!("t{v}_b")).await,
            );
            match entry.state {
                MigrationState::Applied => assert!(a && b, "round {round}: {v} recorded without its tables"),
                MigrationState::Pending => assert!(!a && !b, "round {round}: {v} left tables unrecorded"),
                other => panic!("round {round}: {v} is {other:?} after a kill"),
            }
        }
        let recorded = status.applied_count();
        eprintln!("round {round}: {recorded} applied when killed, row held by {dead_owner:?}");
        let report = PG_CRASH
            .with(crash_settings())
            .run(&under_test)
            .await
            .unwrap_or_else(|err| panic!("round {round}: the run after the kill: {err}"));
        assert_eq!(report.steps.len(), 3 - recorded, "round {round}");
        // With nothing left to do the run takes no lock, and a dead
        // holder's row stays until it expires.
        if recorded < 3 {
            taken_over += usize::from(dead_owner.is_some());
            assert_eq!(lock_owner(&db).await, None, "round {round}: released after the run");
        }
    }
    eprintln!("{taken_over} of {rounds} rounds took over a dead holder's row");
    assert!(
        taken_over > 0,
        "premise: some holder was killed while it held the row with work left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_the_advisory_lock_is_refused_naming_the_table_mode() {
    let Some(Bounced { db, under_test }) = Bounced::create("bouncer_advisory").await else {
        return;
    };
    let err = PG_SLOW.run(&under_test).await.expect_err("refused behind PgBouncer");
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, Error::InvalidSettings { .. }), "{text}");
    assert!(text.contains("LockMode::Table"), "{text}");
    assert!(text.contains("pooled per transaction"), "{text}");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'slow_done'")
            .await,
        0
    );
    // Directly, the same settings take the advisory lock and apply.
    let direct = PG_SLOW.run(&db.pool).await.expect("direct run");
    assert_eq!(direct.steps.len(), 1);
}

/// A row held by another owner: a run waits for its lock timeout and fails
/// naming that owner; once the row's lease is past, the next run takes it
/// over and applies.
async fn held_row_then_expired<D: TestDb>(db: &D, table: &'static Migrations, expire: &str)
where
    D::Pool: embedded_migrations::backend::Database<Language = embedded_migrations::Sql>,
{
    table
        .with(table_mode())
        .run(db.pool())
        .await
        .expect("creates the lock table");
    table.down(db.pool(), 1).await.expect("back to nothing applied");
    db.exec(
        "INSERT INTO _embedded_migrations_lock (id, owner, acquired_at, expires_at) \
         VALUES (1, 'a process on another host', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await;
    db.exec(&format!("UPDATE _embedded_migrations_lock SET expires_at = {expire}"))
        .await;
    let err = table
        .with(table_mode().lock_timeout(Duration::from_millis(500)))
        .run(db.pool())
        .await
        .expect_err("the row is held");
    eprintln!("{err}");
    match &err {
        Error::LockTimeout {
            holder: Some(holder), ..
        } => {
            assert!(holder.contains("a process on another host"), "{holder}");
            assert!(holder.contains("DELETE FROM"), "{holder}");
        }
        other => panic!("expected a lock timeout naming the holder, got {other}"),
    }
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 0);
    db.exec("UPDATE _embedded_migrations_lock SET expires_at = '2000-01-01 00:00:00'")
        .await;
    let report = table
        .with(table_mode())
        .run(db.pool())
        .await
        .expect("takes the expired row over");
    assert_eq!(report.steps.len(), 1);
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations_lock").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_held_row_names_its_holder_and_an_expired_one_is_taken_over() {
    let Some(db) = PgDb::create("table_held").await else {
        return;
    };
    held_row_then_expired(&db, &PG_SLOW, "now() + interval '1 hour'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_held_row_names_its_holder_and_an_expired_one_is_taken_over() {
    let Some(db) = MyDb::create("table_held").await else {
        return;
    };
    held_row_then_expired(&db, &MY_SLOW, "UTC_TIMESTAMP(6) + INTERVAL 1 HOUR").await;
}

/// A run dropped while it holds the row (its migration sleeps 2 s) stops
/// renewing it: the next run takes it over once its lease (2 s, of a 4 s
/// lock timeout) is past, and the set ends applied once, the row released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_pgbouncer_a_cancelled_run_is_taken_over_after_its_lease() {
    let Some(Bounced { db, under_test }) = Bounced::create("bouncer_cancelled").await else {
        return;
    };
    let migrator = PG_SLOW.with(crash_settings());
    let run = migrator.run(&under_test);
    let row_taken = async {
        while lock_owner(&db).await.is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // The run is dropped once the row is seen held, two seconds before its
    // migration ends.
    tokio::select! {
        finished = run => panic!("premise: the run is dropped while it holds the row, but it ended: {finished:?}"),
        () = row_taken => {}
    }
    let dropped = lock_owner(&db)
        .await
        .expect("premise: the row is held when the run is dropped");
    let report = migrator
        .run(&under_test)
        .await
        .expect("the next run takes the row over");
    eprintln!("took over `{dropped}`; the next run applied {}", report.steps.len());
    // The dropped run's last statement ran on in the server: it may have
    // committed the migration first (the next run then finds it applied).
    if report.steps.len() == 1 {
        assert_eq!(lock_owner(&db).await, None, "released by the next run");
    }
    migrator.validate(&db.pool).await.expect("applied once");
    assert!(exists(&db, "slow_done").await);
}
