//! TimescaleDB on a real engine: the example set in `migrations/timescaledb`
//! (hypertables, compression with `segmentby`, compression and retention
//! policies, a continuous aggregate with its refresh policy) applied,
//! proven reversible and reverted; what the schema snapshot reads of
//! TimescaleDB; a down that forgets a policy; a continuous aggregate
//! created `WITH DATA` inside a transaction.
//!
//! Needs `TEST_TIMESCALE_URL` (e.g.
//! postgres://postgres:any@127.0.0.1:5433/postgres?sslmode=disable, the
//! server `.ci/timescaledb.sh` starts); without it every test skips loudly,
//! or fails when `CI=true`. That server is one PostgreSQL session shared by
//! one connection at a time: each test holds the only connection (a pool of
//! one) in a schema of its own, and the tests take turns.
#![cfg(feature = "postgres")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::backend::Database;
use embedded_migrations::snapshot::SchemaSnapshot;
use embedded_migrations::{embed_migrations, Error, MigrationState, Migrations, Settings};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::time::Duration;

const URL_ENV: &str = "TEST_TIMESCALE_URL";

static EXAMPLE: Migrations = embed_migrations!("migrations/timescaledb");
static FORGOTTEN_POLICY: Migrations = embed_migrations!("tests/fixtures/timescaledb_forgotten_policy");
static CONTINUOUS_IN_TRANSACTION: Migrations =
    embed_migrations!("tests/fixtures/timescaledb_continuous_in_transaction");

/// The server takes one connection at a time: the tests of this binary take
/// turns (other binaries never connect to it).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One test's schema on the TimescaleDB server, and the only connection.
struct Timescale {
    pool: PgPool,
    settings: Settings,
    schema: String,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Timescale {
    async fn create(test: &str) -> Option<Timescale> {
        let server: PgConnectOptions = servers::server(URL_ENV, test)?;
        let turn = ONE_AT_A_TIME.lock().await;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(server)
            .await
            .expect("connect to the TimescaleDB server");
        let schema = support::unique_name(test);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&pool)
            .await
            .expect("create the test schema");
        let settings = Settings::default().schema(schema.clone());
        Some(Timescale {
            pool,
            settings,
            schema,
            _turn: turn,
        })
    }

    async fn snapshot(&self) -> SchemaSnapshot {
        self.pool
            .snapshots()
            .expect("PostgreSQL reads its schema")
            .snapshot(&self.settings)
            .await
            .expect("snapshot")
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace("{schema}", &self.schema)))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The policies (jobs) on this schema's hypertables and aggregates.
    async fn jobs(&self) -> i64 {
        self.count("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = '{schema}'")
            .await
    }

    async fn hypertables(&self) -> i64 {
        self.count("SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_schema = '{schema}'")
            .await
    }

    /// Drops the schema and closes the only connection, for the next test.
    async fn finish(self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{}\" CASCADE", self.schema)))
            .execute(&self.pool)
            .await
            .expect("drop the test schema");
        self.pool.close().await;
    }
}

fn keys(snapshot: &SchemaSnapshot, kind: &str) -> Vec<String> {
    snapshot
        .objects()
        .filter(|(key, _)| key.starts_with(kind))
        .map(|(key, definition)| format!("{key}: {definition}"))
        .collect()
}

#[tokio::test]
async fn the_example_set_applies_reverts_and_applies_again_with_its_policies_and_aggregate() {
    let Some(db) = Timescale::create("ts_example").await else {
        return;
    };
    let migrator = EXAMPLE.with(db.settings.clone());

    // Every down proven against the schema its up started from.
    let reversible = migrator.verify_reversible(&db.pool).await.expect("verify");
    assert!(reversible.failure.is_none(), "{:?}", reversible.failure);
    assert_eq!(reversible.checked.len(), 4, "{reversible:?}");
    assert_eq!(db.hypertables().await, 3);
    // Two policies on each memory table, one on the snapshots, the
    // aggregate's refresh.
    assert_eq!(db.jobs().await, 6);
    // The aggregate was created WITH DATA, outside a transaction.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM timescaledb_information.continuous_aggregates \
             WHERE view_schema = '{schema}' AND view_name = 'portfolio_daily'"
        )
        .await,
        1
    );

    let snapshot = db.snapshot().await;
    let hypertables = keys(&snapshot, "hypertable ");
    assert_eq!(hypertables.len(), 3, "{snapshot}");
    assert!(
        hypertables
            .iter()
            .any(|h| h.starts_with("hypertable episodic_memories:") && h.contains("occurred_at")),
        "{hypertables:?}"
    );
    let compression = keys(&snapshot, "compression ");
    assert!(
        compression
            .iter()
            .any(|c| c.starts_with("compression emotional_memories:") && c.contains("segmentby agent_id, emotion")),
        "{compression:?}"
    );
    let jobs = keys(&snapshot, "job ");
    assert_eq!(jobs.len(), 6, "{jobs:?}");
    assert!(
        jobs.iter()
            .any(|j| j.starts_with("job portfolio_daily.policy_refresh_continuous_aggregate:")),
        "{jobs:?}"
    );
    assert_eq!(keys(&snapshot, "continuous aggregate ").len(), 1, "{snapshot}");

    let status = migrator.status(&db.pool).await.expect("status");
    assert_eq!(status.pending_count(), 0);
    let plan = migrator.plan_down_to(&db.pool, 0).await.expect("plan down");
    assert_eq!(plan.steps.len(), 4, "{plan:?}");

    migrator.down_to(&db.pool, 0).await.expect("down to 0");
    assert_eq!((db.hypertables().await, db.jobs().await), (0, 0));
    let report = migrator.run(&db.pool).await.expect("up again");
    assert_eq!(report.steps.len(), 4);
    // The same schema as the first time: nothing in the snapshot carries
    // the ids TimescaleDB gives a new hypertable or job.
    assert_eq!(db.snapshot().await.text(), snapshot.text());
    db.finish().await;
}

#[tokio::test]
async fn a_down_that_forgets_a_policy_is_caught_by_verify_naming_the_policy() {
    let Some(db) = Timescale::create("ts_forgotten_policy").await else {
        return;
    };
    let reversible = FORGOTTEN_POLICY
        .with(db.settings.clone())
        .verify_reversible(&db.pool)
        .await
        .expect("verify runs");
    let failure = reversible.failure.expect("the forgotten policy is a failure");
    assert_eq!(
        (failure.version, failure.down_file.as_str()),
        (2, "002_readings_retention.down.sql")
    );
    let diff = failure.diff.to_string();
    assert!(diff.contains("job readings.policy_retention"), "{diff}");
    db.finish().await;
}

#[tokio::test]
async fn a_continuous_aggregate_with_data_in_a_transaction_names_the_statement_and_the_directive() {
    let Some(db) = Timescale::create("ts_continuous_in_tx").await else {
        return;
    };
    let migrator = CONTINUOUS_IN_TRANSACTION.with(db.settings.clone());
    let err = migrator
        .run(&db.pool)
        .await
        .expect_err("TimescaleDB refuses it in a transaction");
    let text = err.to_string();
    // 001 applied, then 002 failed.
    let Error::Incomplete { applied, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(applied.steps.len(), 1);
    assert!(
        matches!(
            **error,
            Error::MigrationFailed {
                version: 2,
                rolled_back: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(text.contains("002_readings_hourly.up.sql"), "{text}");
    assert!(text.contains("cannot run inside a transaction block"), "{text}");
    assert!(text.contains("-- migrate:no-transaction"), "{text}");
    // Rolled back with its record: 001 stays, 002 is pending, nothing half made.
    let status = migrator.status(&db.pool).await.expect("status");
    let pending: Vec<i64> = status
        .entries
        .iter()
        .filter(|e| e.state == MigrationState::Pending)
        .map(|e| e.version)
        .collect();
    assert_eq!(pending, [2]);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relname = 'readings_hourly'").await,
        0
    );
    db.finish().await;
}
