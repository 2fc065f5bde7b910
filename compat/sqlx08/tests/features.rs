//! What the shared suites do not reach, on sqlx 0.8 and each SQL database:
//! a test database copied from a template (`testkit`, `template`), the
//! command line (`cli`), the schema record and its check, a reversibility
//! check, and a batch migration run to its end.
//!
//! PostgreSQL and MariaDB need `TEST_POSTGRES_URL` and `TEST_MYSQL_URL`;
//! without one its test skips loudly, or fails when `CI=true`.

use embedded_migrations::template::Template;
use embedded_migrations::testkit::TestDatabase;
use embedded_migrations::{cli, embed_migrations, Migrations, Progress, ProgressEvent, Settings};
use std::sync::atomic::{AtomicU64, Ordering};

static BASE: Migrations = embed_migrations!("tests/fixtures/base");
static BATCH_SQLITE: Migrations = embed_migrations!("tests/fixtures/batch_sqlite");
static BATCH_POSTGRES: Migrations = embed_migrations!("tests/fixtures/batch_postgres");
static BATCH_MYSQL: Migrations = embed_migrations!("tests/fixtures/batch_mysql");

/// The server URL in `variable`, or `None` after saying loudly why (a
/// failure when `CI=true`: CI exercises every database).
fn server(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{variable} is not set, but CI=true"),
        _ => {
            eprintln!("\n*** SKIPPED: {variable} is not set; this test needs a real server ***\n");
            None
        }
    }
}

/// The one integer `sql` returns on `pool`, read through sqlx 0.8.
macro_rules! count {
    ($pool:expr, $sql:expr) => {
        sqlx::query_scalar::<_, i64>($sql).fetch_one($pool).await.expect($sql)
    };
}

/// The tour on one database: `from_template` and `fresh` make test
/// databases of the testkit (a template's copy and an empty one), `batch`
/// is the database's batch fixture with `total` rows.
macro_rules! tour {
    ($from_template:expr, $fresh:expr, $batch:expr, $total:expr) => {{
        // testkit and template: a copy of BASE migrated once, its records
        // came along.
        let db = $from_template.await.expect("a test database from the template");
        let status = BASE.status(db.pool()).await.expect("status");
        assert!(status.is_up_to_date(), "{status:?}");
        let total = BASE.migrations().len() as i64;
        assert_eq!(count!(db.pool(), "SELECT count(*) FROM _embedded_migrations"), total);

        // The command line, as the application's binary hands it over
        // (`app migrate down 1` comes as `app down 1`).
        fn args(words: &[&'static str]) -> Vec<&'static str> {
            std::iter::once("app").chain(words.iter().copied()).collect()
        }
        assert_eq!(
            cli::from_args(&BASE, Settings::default(), db.pool(), args(&["down", "1"])).await,
            0
        );
        assert_eq!(BASE.status(db.pool()).await.expect("status").pending_count(), 1);
        assert_eq!(
            cli::from_args(&BASE, Settings::default(), db.pool(), args(&["up"])).await,
            0
        );
        assert_eq!(
            cli::from_args(&BASE, Settings::default(), db.pool(), args(&["status"])).await,
            0
        );
        assert!(BASE.status(db.pool()).await.expect("status").is_up_to_date());

        // The schema record, then a change behind the migrations' back.
        BASE.record_schema(db.pool()).await.expect("record the schema");
        assert!(BASE.check_schema(db.pool()).await.expect("check").is_unchanged());
        sqlx::query("CREATE TABLE sneaky (id INTEGER)")
            .execute(db.pool())
            .await
            .expect("a table by hand");
        let check = BASE.check_schema(db.pool()).await.expect("check");
        assert!(!check.is_unchanged());
        assert!(
            check.diff.to_string().contains("sneaky"),
            "the diff names the table: {}",
            check.diff
        );
        db.close().await.expect("drop the test database");

        // Every down file undoes its up file.
        let scratch = $fresh.await.expect("an empty test database");
        let reversibility = BASE.verify_reversible(scratch.pool()).await.expect("verify");
        assert!(reversibility.is_reversible(), "{reversibility}");
        scratch.close().await.expect("drop the test database");

        // A batch migration: every row processed once, batch by batch.
        let db = $fresh.await.expect("an empty test database");
        let batches = AtomicU64::new(0);
        let progress = |p: &Progress| {
            if let ProgressEvent::Batch(batch) = &p.event {
                batches.store(batch.batches, Ordering::Relaxed);
            }
        };
        $batch
            .with(Settings::default())
            .on_progress(&progress)
            .run(db.pool())
            .await
            .expect("the batch runs");
        assert!(batches.load(Ordering::Relaxed) > 1, "more than one batch");
        assert_eq!(count!(db.pool(), "SELECT count(*) FROM items WHERE n = 1"), $total);
        assert_eq!(count!(db.pool(), "SELECT count(*) FROM items WHERE n <> 1"), 0);
        db.close().await.expect("drop the test database");
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_template_cli_snapshots_and_batches() {
    let template = Template::of(&BASE);
    tour!(
        TestDatabase::<sqlx::SqlitePool>::sqlite_from(&template),
        TestDatabase::<sqlx::SqlitePool>::sqlite(),
        BATCH_SQLITE,
        50_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_template_cli_snapshots_and_batches() {
    let Some(url) = server("TEST_POSTGRES_URL") else {
        return;
    };
    let template = Template::of(&BASE);
    tour!(
        TestDatabase::<sqlx::PgPool>::postgres_from(&url, &template),
        TestDatabase::<sqlx::PgPool>::postgres(&url),
        BATCH_POSTGRES,
        200_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_template_cli_snapshots_and_batches() {
    let Some(url) = server("TEST_MYSQL_URL") else {
        return;
    };
    let template = Template::of(&BASE);
    tour!(
        TestDatabase::<sqlx::MySqlPool>::mysql_from(&url, &template),
        TestDatabase::<sqlx::MySqlPool>::mysql(&url),
        BATCH_MYSQL,
        200_000
    );
}
