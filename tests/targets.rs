//! Several migration sets as one value (`Targets`) and one set on many
//! databases (`Tenants`), against real databases: SQLite files always,
//! PostgreSQL and MariaDB when `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` are set
//! (skipped loudly otherwise, failed under `CI=true`).
#![cfg(feature = "sqlite")]

mod servers;
#[allow(unused_macros)]
mod support;

use embedded_migrations::{
    embed_migrations, Error, Migrations, ReadinessState, Settings, Target, Targets, TenantOutcome, Tenants,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::path::{Path, PathBuf};

static APP: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);
static EVENTS: Migrations = embed_migrations!("migrations/events");
static FAILING: Migrations = embed_migrations!("tests/fixtures/failing");

/// A scratch folder, removed at the end unless the test failed.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(support::unique_name(test));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn sqlite_file(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
    SqlitePool::connect_with(options).await.unwrap()
}

async fn sqlite_tables(pool: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The migrations/sqlite set's 002 creates this table without `IF NOT
/// EXISTS`: a database that has it already fails there, after 001.
const BREAK_002: &str = "CREATE TABLE portfolio_holdings (id INTEGER)";

// ---------------------------------------------------------------------------
// Targets

#[tokio::test]
async fn sets_apply_in_declared_order_and_the_first_failure_names_its_set() {
    let dir = Scratch::new("targets_order");
    let (app, broken, events) = (
        sqlite_file(&dir.0.join("app.db")).await,
        sqlite_file(&dir.0.join("broken.db")).await,
        sqlite_file(&dir.0.join("events.db")).await,
    );
    let targets = Targets::new()
        .add("app", &APP, app.clone())
        .add("broken", &FAILING, broken.clone())
        .add("events", &EVENTS, events.clone());
    assert_eq!(targets.names(), ["app", "broken", "events"]);

    let plans = targets.plan().await.unwrap();
    let planned: Vec<(&str, usize)> = plans
        .iter()
        .map(|(name, plan)| (name.as_str(), plan.steps.len()))
        .collect();
    assert_eq!(planned, [("app", 8), ("broken", 3), ("events", 2)]);

    let err = targets.run().await.expect_err("the second set fails");
    match &err {
        Error::Target { name, error, .. } => {
            assert_eq!(name, "broken");
            assert!(
                matches!(error.cause(), Error::MigrationFailed { version: 2, .. }),
                "{error:?}"
            );
        }
        other => panic!("expected Error::Target, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with("migration set `broken`: migration 2 (create_c_then_fail)"),
        "{text}"
    );

    // Before the failure: applied. The failing set: up to its failure.
    // After it: not touched at all, not even its tracking tables.
    assert_eq!(APP.status(&app).await.unwrap().current_version(), 8);
    assert_eq!(FAILING.status(&broken).await.unwrap().current_version(), 1);
    assert_eq!(sqlite_tables(&events).await, Vec::<String>::new());
    let statuses = targets.status().await;
    let current: Vec<(&str, i64)> = statuses
        .iter()
        .map(|(name, status)| (name.as_str(), status.as_ref().unwrap().current_version()))
        .collect();
    assert_eq!(current, [("app", 8), ("broken", 1), ("events", 0)]);

    let readiness = targets.readiness().await;
    assert!(!readiness.ready);
    let states: Vec<(&str, ReadinessState)> = readiness
        .targets
        .iter()
        .map(|t| (t.name.as_str(), t.readiness.state))
        .collect();
    assert_eq!(
        states,
        [
            ("app", ReadinessState::Ready),
            ("broken", ReadinessState::Pending),
            ("events", ReadinessState::Pending)
        ]
    );
    assert_eq!(readiness.targets[1].readiness.current_version, Some(1));
    assert_eq!(readiness.targets[1].readiness.pending_count, 2);

    // Without the broken set, a second boot applies the rest and nothing twice.
    let fixed = Targets::new()
        .add("app", &APP, app.clone())
        .add("events", &EVENTS, events.clone());
    let reports = fixed.run().await.unwrap();
    assert_eq!(reports[0].name, "app");
    assert!(reports[0].report.is_empty(), "app was up to date");
    assert_eq!(reports[1].report.steps.len(), 2);
    assert!(fixed.readiness().await.ready);
}

#[tokio::test]
async fn a_target_reads_and_reverts_through_the_same_calls_as_its_table() {
    let dir = Scratch::new("targets_calls");
    let pool = sqlite_file(&dir.0.join("app.db")).await;
    let settings = Settings::default().table("app_migrations");
    let target = Target::new("app", &APP, pool.clone(), settings.clone());
    assert_eq!(target.latest_version(), 8);
    assert_eq!(target.plan().await.unwrap().steps.len(), 8);
    target.run_to(3).await.unwrap();
    assert_eq!(
        APP.with(settings.clone())
            .status(&pool)
            .await
            .unwrap()
            .current_version(),
        3,
        "the target's settings are used"
    );
    assert!(sqlite_tables(&pool).await.contains(&"app_migrations".to_string()));
    target.run().await.unwrap();
    let readiness = target.readiness().await;
    assert_eq!(readiness.state, ReadinessState::Ready);
    assert_eq!(readiness.current_version, Some(8));
    // 006 is irreversible: three steps back is refused before anything changes.
    assert!(matches!(target.down(3).await, Err(Error::Irreversible { .. })));
    assert_eq!(target.down(1).await.unwrap().steps.len(), 1);
    assert_eq!(target.readiness().await.state, ReadinessState::Pending);
    assert_eq!(target.history().await.unwrap().len(), 9);
}

#[test]
#[should_panic(expected = "two migration sets are named `app`")]
fn set_names_are_unique() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = Scratch::new("targets_unique");
    let pool = runtime.block_on(sqlite_file(&dir.0.join("a.db")));
    let _ = Targets::new().add("app", &APP, pool.clone()).add("app", &EVENTS, pool);
}

// ---------------------------------------------------------------------------
// Tenants on SQLite files

#[tokio::test]
async fn fifty_sqlite_files_one_broken() {
    let dir = Scratch::new("tenants_sqlite");
    let mut tenants = Tenants::new(&APP).concurrency(8);
    let mut pools = Vec::new();
    for i in 0..50 {
        let pool = sqlite_file(&dir.0.join(format!("tenant_{i:02}.db"))).await;
        if i == 17 {
            sqlx::query(BREAK_002).execute(&pool).await.unwrap();
        }
        tenants = tenants.tenant(format!("tenant_{i:02}"), pool.clone(), Settings::default());
        pools.push(pool);
    }
    assert_eq!(tenants.len(), 50);

    let report = tenants.run().await;
    assert_eq!(report.tenants.len(), 50);
    assert_eq!(report.applied_count(), 49);
    assert_eq!(report.failed_count(), 1);
    let failures = report.failures();
    assert_eq!(failures[0].0, "tenant_17");
    assert!(
        matches!(failures[0].1.cause(), Error::MigrationFailed { version: 2, .. }),
        "{:?}",
        failures[0].1
    );
    for (i, run) in report.tenants.iter().enumerate() {
        assert_eq!(run.name, format!("tenant_{i:02}"), "results in tenant order");
    }
    let err = report.into_result().unwrap_err();
    assert!(err.to_string().starts_with("tenant `tenant_17`: migration 2"), "{err}");

    // Every other file is really migrated.
    for (i, pool) in pools.iter().enumerate() {
        let current = APP.status(pool).await.unwrap().current_version();
        assert_eq!(current, if i == 17 { 1 } else { 8 }, "tenant_{i:02}");
    }

    let status = tenants.status().await;
    assert_eq!(
        (
            status.total,
            status.up_to_date,
            status.pending,
            status.failed,
            status.dirty
        ),
        (50, 49, 1, 0, 0)
    );
    assert_eq!(status.in_state(ReadinessState::Pending), ["tenant_17"]);
    assert!(!status.all_ready());
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["up_to_date"], 49);
    assert_eq!(json["tenants"][17]["name"], "tenant_17");
    assert_eq!(json["tenants"][17]["state"], "pending");
    assert_eq!(json["tenants"][17]["current_version"], 1);
}

#[tokio::test]
async fn stop_on_failure_starts_no_tenant_after_the_failure() {
    let dir = Scratch::new("tenants_stop");
    let mut tenants = Tenants::new(&APP).concurrency(1).stop_on_failure(true);
    let mut pools = Vec::new();
    for i in 0..10 {
        let pool = sqlite_file(&dir.0.join(format!("t{i}.db"))).await;
        if i == 3 {
            sqlx::query(BREAK_002).execute(&pool).await.unwrap();
        }
        tenants = tenants.tenant(format!("t{i}"), pool.clone(), Settings::default());
        pools.push(pool);
    }
    let report = tenants.run().await;
    let outcomes: Vec<&str> = report
        .tenants
        .iter()
        .map(|run| match run.outcome {
            TenantOutcome::Applied(_) => "applied",
            TenantOutcome::Failed(_) => "failed",
            TenantOutcome::Skipped => "skipped",
        })
        .collect();
    assert_eq!(
        outcomes,
        ["applied", "applied", "applied", "failed", "skipped", "skipped", "skipped", "skipped", "skipped", "skipped"]
    );
    for pool in &pools[4..] {
        assert_eq!(
            sqlite_tables(pool).await,
            Vec::<String>::new(),
            "a skipped tenant is untouched"
        );
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        (
            json["applied"].as_u64(),
            json["failed"].as_u64(),
            json["skipped"].as_u64()
        ),
        (Some(3), Some(1), Some(6))
    );
    assert_eq!(json["tenants"][3]["outcome"], "failed");
    assert!(json["tenants"][3]["error"].as_str().unwrap().contains("migration 2"));
    assert_eq!(json["tenants"][0]["steps"], 8);
}

// ---------------------------------------------------------------------------
// PostgreSQL and MariaDB

#[cfg(feature = "postgres")]
mod pg {
    pub use crate::servers::dbs::PgDb;
    use sqlx::postgres::{PgPool, PgPoolOptions};

    impl PgDb {
        /// Another pool on the database, of `connections`.
        pub async fn pool_of(&self, connections: u32) -> PgPool {
            PgPoolOptions::new()
                .max_connections(connections)
                .connect_with(self.options())
                .await
                .unwrap()
        }
    }
}

#[cfg(feature = "mysql")]
mod my {
    use crate::servers::dbs::MyDb;
    use sqlx::mysql::MySqlPool;

    /// Databases of their own on the server, dropped when the test passes.
    pub struct MyDatabases(Vec<MyDb>);

    impl MyDatabases {
        pub async fn create(test: &str, count: usize) -> Option<MyDatabases> {
            let mut dbs = Vec::new();
            for i in 0..count {
                dbs.push(MyDb::create(&format!("{test}_{i}")).await?);
            }
            Some(MyDatabases(dbs))
        }

        pub fn pool(&self, index: usize) -> MySqlPool {
            self.0[index].pool.clone()
        }

        pub fn names(&self) -> Vec<String> {
            self.0.iter().map(|db| db.name.clone()).collect()
        }
    }
}

#[cfg(all(feature = "postgres", feature = "mysql"))]
#[tokio::test]
async fn one_value_spans_sqlite_postgresql_and_mariadb() {
    static PG: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    static MY: Migrations = embed_migrations!("migrations/mysql", database = mysql);
    let test = "targets_three_backends";
    let (Some(pg), Some(my)) = (pg::PgDb::create(test).await, my::MyDatabases::create(test, 1).await) else {
        return;
    };
    let dir = Scratch::new(test);
    let (lite, pg_pool, my_pool) = (
        sqlite_file(&dir.0.join("app.db")).await,
        pg.pool_of(3).await,
        my.pool(0),
    );
    let targets = Targets::new()
        .add("sqlite", &APP, lite.clone())
        .add_with("postgres", &PG, pg_pool.clone(), Settings::default().schema("app"))
        .add("mariadb", &MY, my_pool.clone());

    let reports = targets.run().await.unwrap();
    let applied: Vec<(&str, usize)> = reports
        .iter()
        .map(|r| (r.name.as_str(), r.report.steps.len()))
        .collect();
    assert_eq!(applied, [("sqlite", 8), ("postgres", 8), ("mariadb", 8)]);
    // Really there, each in its own database (and the PostgreSQL set in its schema).
    assert_eq!(APP.status(&lite).await.unwrap().current_version(), 8);
    let in_schema: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app' AND table_name = 'users'",
    )
    .fetch_one(&pg_pool)
    .await
    .unwrap();
    assert_eq!(in_schema, 1);
    assert_eq!(MY.status(&my_pool).await.unwrap().current_version(), 8);
    assert!(targets.readiness().await.ready);

    // A second boot applies nothing anywhere.
    assert!(targets.run().await.unwrap().iter().all(|r| r.report.is_empty()));

    // One set stepped back: only that one is no longer ready.
    targets.get("mariadb").unwrap().down(1).await.unwrap();
    let readiness = targets.readiness().await;
    assert!(!readiness.ready);
    let pending: Vec<&str> = readiness
        .targets
        .iter()
        .filter(|t| !t.readiness.up_to_date)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(pending, ["mariadb"]);
    drop((lite, pg_pool, my_pool));
}

/// 200 schemas in one database, one broken; twice at once, to show that each
/// tenant's lock keeps each migration applied once.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn two_hundred_postgresql_schemas_one_broken() {
    static PG: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    let Some(db) = pg::PgDb::create("tenants_pg").await else {
        return;
    };
    let pool = db.pool_of(16).await;
    sqlx::raw_sql("CREATE SCHEMA t_137; CREATE TABLE t_137.portfolio_holdings (id INTEGER)")
        .execute(&pool)
        .await
        .unwrap();
    let mut tenants = Tenants::new(&PG).concurrency(8);
    for i in 0..200 {
        let name = format!("t_{i:03}");
        tenants = tenants.tenant(&name, pool.clone(), Settings::default().schema(&name));
    }

    let (first, second) = tokio::join!(tenants.run(), tenants.run());
    for report in [&first, &second] {
        assert_eq!(report.failed_count(), 1);
        assert_eq!(report.applied_count(), 199);
        let (name, err) = report.failures()[0];
        assert_eq!(name, "t_137");
        assert!(
            matches!(err.cause(), Error::MigrationFailed { version: 2, .. }),
            "{err:?}"
        );
    }
    let steps: usize = [&first, &second]
        .iter()
        .flat_map(|r| &r.tenants)
        .map(|run| match &run.outcome {
            TenantOutcome::Applied(report) => report.steps.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(steps, 199 * 8, "each migration of each tenant applied by one run only");
    // A new tenant is provisioned in one transaction: t_137's failure at
    // 002 took back its 001 and its tracking tables, leaving its schema as
    // the test made it.
    let (tracking, users): (bool, bool) = sqlx::query_as(
        "SELECT to_regclass('t_137._embedded_migrations') IS NOT NULL, to_regclass('t_137.users') IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((tracking, users), (false, false), "t_137 left as it was");
    for i in (0..200).filter(|i| *i != 137) {
        let (ups, tables): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT (SELECT count(*) FROM t_{i:03}._embedded_migrations_history WHERE direction = 'up' AND success), \
                    (SELECT count(*) FROM information_schema.tables WHERE table_schema = 't_{i:03}' \
                     AND table_name = 'skill_progressions')"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!((ups, tables), (8, 1), "t_{i:03}");
    }

    let status = tenants.status().await;
    assert_eq!(
        (
            status.total,
            status.up_to_date,
            status.pending,
            status.failed,
            status.dirty
        ),
        (200, 199, 1, 0, 0)
    );
    assert_eq!(status.in_state(ReadinessState::Pending), ["t_137"]);
    pool.close().await;
}

/// MariaDB databases as tenants: a migration failing after a statement
/// that committed cannot roll back, so it shows as dirty in the counts.
#[cfg(feature = "mysql")]
#[tokio::test]
async fn mariadb_databases_as_tenants_count_the_dirty_one() {
    // 002 creates `half`, then inserts into `half_log`: it fails halfway
    // where `half_log` does not exist.
    static HALF: Migrations = embed_migrations!("tests/fixtures/mysql_dirty");
    let Some(dbs) = my::MyDatabases::create("tenants_my", 6).await else {
        return;
    };
    let mut tenants = Tenants::new(&HALF).concurrency(3);
    for i in 0..6 {
        let pool = dbs.pool(i);
        if i != 4 {
            sqlx::query("CREATE TABLE half_log (id INTEGER)")
                .execute(&pool)
                .await
                .unwrap();
        }
        tenants = tenants.tenant(format!("db{i}"), pool, Settings::default());
    }
    let report = tenants.run().await;
    assert_eq!(report.applied_count(), 5);
    assert_eq!(report.failures()[0].0, "db4");
    let status = tenants.status().await;
    assert_eq!((status.up_to_date, status.dirty, status.pending), (5, 1, 0));
    assert_eq!(status.in_state(ReadinessState::Dirty), ["db4"]);
    let dirty = &status.tenants[4].readiness;
    assert!(dirty.dirty && !dirty.up_to_date);
    assert!(dirty.error.as_deref().unwrap_or("").contains("is dirty"), "{dirty:?}");
}

/// Not a test of behaviour: the wall time of 200 PostgreSQL schemas at the
/// concurrency levels in `TENANTS_CONCURRENCY` (default "1,8"), for
/// BENCHMARKS.md. Run with `--ignored --nocapture`.
#[cfg(feature = "postgres")]
#[tokio::test]
#[ignore = "a measurement for BENCHMARKS.md, run by hand"]
async fn tenants_wall_time() {
    static PG: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    let levels = std::env::var("TENANTS_CONCURRENCY").unwrap_or_else(|_| "1,8".to_string());
    for level in levels.split(',').map(|l| l.trim().parse::<usize>().unwrap()) {
        let Some(db) = pg::PgDb::create("tenants_wall_time").await else {
            return;
        };
        let pool = db.pool_of(level as u32 + 1).await;
        let mut tenants = Tenants::new(&PG).concurrency(level);
        for i in 0..200 {
            let name = format!("t_{i:03}");
            tenants = tenants.tenant(&name, pool.clone(), Settings::default().schema(&name));
        }
        let started = std::time::Instant::now();
        let report = tenants.run().await;
        let fresh = started.elapsed();
        assert_eq!(report.applied_count(), 200);
        let started = std::time::Instant::now();
        let report = tenants.run().await;
        let again = started.elapsed();
        assert_eq!(report.applied_count(), 200);
        let started = std::time::Instant::now();
        let status = tenants.status().await;
        let read = started.elapsed();
        assert!(status.all_ready());
        println!(
            "200 tenants, concurrency {level}: fresh run {:.2} s, nothing pending {:.3} s, status {:.3} s",
            fresh.as_secs_f64(),
            again.as_secs_f64(),
            read.as_secs_f64()
        );
        pool.close().await;
    }
}

/// PostgreSQL and Neo4j sets in one value, as `examples/pg_and_neo4j.rs`
/// declares them. The Neo4j server is shared with the Neo4j suite: this test
/// holds `/tmp/embedded-migrations-neo4j.lock` while it uses it, and keeps its
/// tracking under its own labels (`Settings::table`).
#[cfg(all(feature = "postgres", feature = "neo4j"))]
#[tokio::test]
async fn one_value_spans_postgresql_and_neo4j() {
    use embedded_migrations::neo4rs::{query, Graph};
    use embedded_migrations::CypherMigrations;
    static PG: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    static PROBE: CypherMigrations = embed_migrations!("tests/fixtures/targets_graph");
    let test = "targets_pg_neo4j";
    let (Ok(uri), Ok(user), Ok(password)) = (
        std::env::var("NEO4J_TEST_URI"),
        std::env::var("NEO4J_TEST_USER"),
        std::env::var("NEO4J_TEST_PASSWORD"),
    ) else {
        support::missing_backend("NEO4J_TEST_URI", test);
        return;
    };
    let Some(pg) = pg::PgDb::create(test).await else {
        return;
    };
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/embedded-migrations-neo4j.lock")
        .unwrap();
    // The Neo4j suite holds it for its whole run: wait, but not forever.
    let started = std::time::Instant::now();
    while let Err(err) = lock.try_lock() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "waited 600 s for /tmp/embedded-migrations-neo4j.lock (held by another Neo4j test run): {err}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let graph = Graph::new(uri, user, password)
        .await
        .expect("connect to NEO4J_TEST_URI");
    let tracking = Settings::default().table("em_targets_migrations");
    let targets = Targets::new().add("postgres", &PG, pg.pool_of(3).await).add_with(
        "graph",
        &PROBE,
        graph.clone(),
        tracking.clone(),
    );

    let result = targets.run().await;
    let readiness = targets.readiness().await;
    let probes = async {
        let mut rows = graph
            .execute(query("MATCH (n:EmTargetsProbe) RETURN count(n) AS n"))
            .await
            .unwrap();
        let row = rows.next().await.unwrap().expect("one row");
        row.get::<i64>("n").unwrap()
    };
    let applied_probes = probes.await;
    // Leave the shared server as found, whatever the assertions say.
    let reverted = targets.get("graph").unwrap().down_to(0).await;
    for label in [
        "em_targets_migrations",
        "em_targets_migrations_history",
        "em_targets_migrations_state",
    ] {
        let _ = graph.run(query(&format!("MATCH (n:{label}) DELETE n"))).await;
    }
    drop(lock);

    let reports = result.unwrap();
    let applied: Vec<(&str, usize)> = reports
        .iter()
        .map(|r| (r.name.as_str(), r.report.steps.len()))
        .collect();
    assert_eq!(applied, [("postgres", 8), ("graph", 1)]);
    assert!(readiness.ready, "{readiness:?}");
    assert_eq!(applied_probes, 1);
    assert_eq!(reverted.unwrap().steps.len(), 1);
}

/// A tenant set mounted in a `Targets` value: `run` applies the sets before
/// it, then every tenant (a broken one does not stop the others), and fails
/// naming the tenant; the sets after it are not touched. Names are unique
/// across sets, tenants and tenant sets.
#[tokio::test]
async fn a_tenant_set_in_targets_runs_every_tenant_and_names_the_failure() {
    let dir = Scratch::new("targets_tenants");
    let app = sqlite_file(&dir.0.join("app.db")).await;
    let events = sqlite_file(&dir.0.join("events.db")).await;
    let mut tenants = Tenants::new(&APP).concurrency(2);
    let mut pools = Vec::new();
    for i in 0..5 {
        let pool = sqlite_file(&dir.0.join(format!("t_{i}.db"))).await;
        if i == 2 {
            sqlx::query(BREAK_002).execute(&pool).await.unwrap();
        }
        tenants = tenants.tenant(format!("t_{i}"), pool.clone(), Settings::default());
        pools.push(pool);
    }
    let targets = Targets::new()
        .add("app", &APP, app.clone())
        .tenants("tenants", tenants)
        .add("events", &EVENTS, events.clone());
    assert_eq!(targets.len(), 7, "each tenant is a target");
    assert_eq!(targets.tenant_set_names(), ["tenants"]);
    assert_eq!(targets.get("t_3").and_then(|t| t.group()), Some("tenants"));

    let err = targets.run().await.unwrap_err();
    assert!(
        matches!(&err, Error::Target { name, error, .. } if name == "t_2" && matches!(error.cause(), Error::MigrationFailed { version: 2, .. })),
        "{err:?}"
    );
    assert_eq!(APP.status(&app).await.unwrap().current_version(), 8);
    for (i, pool) in pools.iter().enumerate() {
        let current = APP.status(pool).await.unwrap().current_version();
        assert_eq!(current, if i == 2 { 1 } else { 8 }, "t_{i}");
    }
    assert!(
        sqlite_tables(&events).await.is_empty(),
        "the set after the tenants is not started"
    );

    sqlx::query("DROP TABLE portfolio_holdings")
        .execute(&pools[2])
        .await
        .unwrap();
    let reports = targets.run().await.unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["app", "t_0", "t_1", "t_2", "t_3", "t_4", "events"]);
    assert_eq!(reports[3].report.steps.len(), 7);
    assert_eq!(reports[6].report.steps.len(), 2);
}

#[tokio::test]
#[should_panic(expected = "`app` names a migration set already")]
async fn a_tenant_set_cannot_take_a_set_name() {
    let app = SqlitePool::connect_lazy("sqlite::memory:").unwrap();
    let tenants = Tenants::new(&APP).tenant("t_1", app.clone(), Settings::default());
    let _ = Targets::new().add("app", &APP, app).tenants("app", tenants);
}

// ---------------------------------------------------------------------------
// Many tenants read together

/// A database handle that counts the sessions opened on it, and how many
/// were open at once: what the shared reads and the per-server limit
/// promise, seen from outside the crate.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod counted {
    use embedded_migrations::backend::{
        BatchSupport, BoxFuture, Change, Database, ForeignHistory, GroupApply, RecordEdit, Session, SharedReads, State,
    };
    use embedded_migrations::core::split::Dialect;
    use embedded_migrations::{AppliedMigration, Error, HistoryEntry, Settings, Sql};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Sessions opened, open now, and the most open at once.
    #[derive(Default)]
    pub struct Counts {
        pub opened: AtomicUsize,
        pub open: AtomicUsize,
        pub most: AtomicUsize,
    }

    pub struct Counted<D> {
        pub db: D,
        pub counts: Arc<Counts>,
    }

    impl<D: Database<Language = Sql>> Database for Counted<D> {
        type Language = Sql;

        fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
            Box::pin(async move {
                let now = self.counts.open.fetch_add(1, Ordering::SeqCst) + 1;
                self.counts.opened.fetch_add(1, Ordering::SeqCst);
                self.counts.most.fetch_max(now, Ordering::SeqCst);
                match self.db.open(settings).await {
                    Ok(inner) => {
                        let session: Box<dyn Session + 'a> = Box::new(CountedSession {
                            inner,
                            counts: self.counts.clone(),
                        });
                        Ok(session)
                    }
                    Err(err) => {
                        self.counts.open.fetch_sub(1, Ordering::SeqCst);
                        Err(err)
                    }
                }
            })
        }

        fn shared_reads(&self) -> Option<&dyn SharedReads> {
            self.db.shared_reads()
        }
    }

    struct CountedSession<'a> {
        inner: Box<dyn Session + 'a>,
        counts: Arc<Counts>,
    }

    impl Drop for CountedSession<'_> {
        fn drop(&mut self) {
            self.counts.open.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Session for CountedSession<'_> {
        fn backend(&self) -> &'static str {
            self.inner.backend()
        }
        fn dialect(&self) -> Dialect {
            self.inner.dialect()
        }
        fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
            self.inner.read_state()
        }
        fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
            self.inner.read_applied()
        }
        fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
            self.inner.read_history()
        }
        fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
            self.inner.lock(timeout)
        }
        fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
            self.inner.unlock()
        }
        fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
            self.inner.create_tracking()
        }
        fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
            self.inner.apply(change)
        }
        fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
            self.inner.write_history(entry)
        }
        fn rewrite_record<'a>(
            &'a mut self,
            edit: RecordEdit<'a>,
            state: &'a State,
        ) -> BoxFuture<'a, Result<(), Error>> {
            self.inner.rewrite_record(edit, state)
        }
        fn runs_in_transaction(&self, script: &embedded_migrations::Script) -> bool {
            self.inner.runs_in_transaction(script)
        }
        fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
            self.inner.record_applied(changes)
        }
        fn group(&mut self) -> Option<&mut dyn GroupApply> {
            self.inner.group()
        }
        fn batches(&mut self) -> Option<BatchSupport<'_>> {
            self.inner.batches()
        }
        fn foreign_history(&mut self) -> Option<&mut dyn ForeignHistory> {
            self.inner.foreign_history()
        }
    }
}

/// How each tenant of a mixed set is left, by its index: up to date,
/// pending (its last migration reverted, or never run), dirty, drifted,
/// and damaged three ways (the state row edited by hand, the tracking
/// table dropped beside its state row, a checksum that is not hex).
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Left {
    UpToDate,
    Reverted,
    Never,
    Dirty,
    Drifted,
    StateEdited,
    TableDropped,
    CorruptChecksum,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl Left {
    fn of(index: usize) -> Left {
        match index % 23 {
            3 => Left::Reverted,
            5 => Left::Never,
            7 => Left::Dirty,
            11 => Left::Drifted,
            13 => Left::StateEdited,
            17 => Left::TableDropped,
            19 => Left::CorruptChecksum,
            _ => Left::UpToDate,
        }
    }

    /// The statements that leave a provisioned tenant so, its tracking
    /// table being `table` (qualified).
    fn damage(self, table: &str) -> Vec<String> {
        match self {
            Left::UpToDate | Left::Reverted | Left::Never => vec![],
            Left::Dirty => vec![format!("UPDATE {table} SET dirty = TRUE WHERE version = 3")],
            Left::Drifted => vec![format!(
                "UPDATE {table} SET checksum = '{}' WHERE version = 1",
                "0".repeat(64)
            )],
            Left::StateEdited => vec![format!("UPDATE {table}_state SET applied_count = 7")],
            Left::TableDropped => vec![format!("DROP TABLE {table}")],
            Left::CorruptChecksum => vec![format!("UPDATE {table} SET checksum = 'not hex' WHERE version = 2")],
        }
    }
}

/// Each tenant's readiness read alone, as before shared reads existed.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn one_by_one(tenants: &Tenants<'_, embedded_migrations::Sql>) -> Vec<embedded_migrations::Readiness> {
    let mut each = Vec::new();
    for tenant in tenants.iter() {
        each.push(tenant.readiness().await);
    }
    each
}

/// The shared read's answers are the per-tenant path's, tenant by tenant,
/// among every state a tenant can be in; each state occurs (the premise),
/// and only the tenants a shared read cannot judge are read alone.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn assert_same_answers(
    together: &embedded_migrations::TenantsStatus,
    alone: &[embedded_migrations::Readiness],
    left: &[Left],
) {
    let states: std::collections::BTreeSet<&str> = alone.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(
        states,
        ["dirty", "drifted", "error", "invalid", "pending", "ready"]
            .into_iter()
            .collect(),
        "every state occurs"
    );
    for ((named, alone), left) in together.tenants.iter().zip(alone).zip(left) {
        assert_eq!(&named.readiness, alone, "{} ({left:?})", named.name);
    }
    let unjudged = left
        .iter()
        .filter(|l| matches!(l, Left::TableDropped | Left::CorruptChecksum))
        .count();
    assert_eq!(together.read_together, left.len() - unjudged);
}

/// PostgreSQL schemas of one database: `status` (and `check`, the same
/// reads) answer every tenant from one query exactly as each tenant's own
/// reads do, with up to date, pending, dirty, drifted and damaged tenants
/// mixed among them; the boot check opens only the tenants that differ.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgresql_schemas_read_together_answer_as_each_alone() {
    static SET: Migrations = embed_migrations!("tests/fixtures/tenants");
    const COUNT: usize = 300;
    let Some(db) = pg::PgDb::create("tenants_together_pg").await else {
        return;
    };
    let pool = db.pool_of(9).await;
    let counts = std::sync::Arc::new(counted::Counts::default());
    let mut tenants = Tenants::new(&SET).concurrency(8);
    let left: Vec<Left> = (0..COUNT).map(Left::of).collect();
    for i in 0..COUNT {
        let name = format!("t_{i:04}");
        let db = counted::Counted {
            db: pool.clone(),
            counts: counts.clone(),
        };
        tenants = tenants.tenant(&name, db, Settings::default().schema(&name));
    }
    // Provisioned, then each tenant left as its index says.
    for (tenant, left) in tenants.iter().zip(&left) {
        match left {
            Left::Never => continue,
            Left::Reverted => {
                tenant.run().await.unwrap();
                tenant.down(1).await.unwrap();
            }
            _ => drop(tenant.run().await.unwrap()),
        }
        let table = format!("\"{}\"._embedded_migrations", tenant.name());
        for statement in left.damage(&table) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        }
    }

    let alone = one_by_one(&tenants).await;
    let together = tenants.status().await;
    assert_same_answers(&together, &alone, &left);

    // The boot check: the tenants at the latest version are not opened.
    let opened_before = counts.opened.load(std::sync::atomic::Ordering::SeqCst);
    let report = tenants.run().await;
    let opened = counts.opened.load(std::sync::atomic::Ordering::SeqCst) - opened_before;
    let current = left.iter().filter(|l| **l == Left::UpToDate).count();
    assert!(
        opened <= COUNT - current,
        "{opened} sessions for {} tenants not current",
        COUNT - current
    );
    assert!(opened > 0, "the tenants that differ are opened");
    assert_eq!(report.applied_count() + report.failed_count(), COUNT);
    pool.close().await;
}

/// MariaDB databases on one server, each tenant on its own pool: the same
/// answers from one query per server as from each database's own reads.
#[cfg(feature = "mysql")]
#[tokio::test]
async fn mariadb_databases_read_together_answer_as_each_alone() {
    static SET: Migrations = embed_migrations!("tests/fixtures/tenants");
    const COUNT: usize = 46;
    let Some(dbs) = my::MyDatabases::create("tenants_together_my", COUNT).await else {
        return;
    };
    let mut tenants = Tenants::new(&SET).concurrency(4);
    let left: Vec<Left> = (0..COUNT).map(Left::of).collect();
    let mut pools = Vec::new();
    for i in 0..COUNT {
        let pool = dbs.pool(i);
        tenants = tenants.tenant(format!("db{i}"), pool.clone(), Settings::default());
        pools.push(pool);
    }
    for ((tenant, left), pool) in tenants.iter().zip(&left).zip(&pools) {
        match left {
            Left::Never => continue,
            Left::Reverted => {
                tenant.run().await.unwrap();
                tenant.down(1).await.unwrap();
            }
            _ => drop(tenant.run().await.unwrap()),
        }
        for statement in left.damage("_embedded_migrations") {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let alone = one_by_one(&tenants).await;
    let together = tenants.status().await;
    assert_same_answers(&together, &alone, &left);
    for pool in pools {
        pool.close().await;
    }
}

/// Tenants spanning two servers (two host names of one PostgreSQL server
/// stand in for two servers: the limit goes by `host:port`): at most
/// `per_server` of one server run at once, and that many do.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn the_per_server_limit_bounds_each_server() {
    static SET: Migrations = embed_migrations!("tests/fixtures/tenants");
    let Some(db) = pg::PgDb::create("tenants_per_server").await else {
        return;
    };
    let first = db.pool_of(8).await;
    let options = db.options();
    let other_host = if options.get_host() == "localhost" {
        "127.0.0.1"
    } else {
        "localhost"
    };
    let second = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.host(other_host))
        .await
        .unwrap();
    use embedded_migrations::backend::Database;
    assert_ne!(
        first.shared_reads().unwrap().server(),
        second.shared_reads().unwrap().server(),
        "two servers by their keys"
    );
    let counts = [
        std::sync::Arc::new(counted::Counts::default()),
        std::sync::Arc::new(counted::Counts::default()),
    ];
    let mut tenants = Tenants::new(&SET).concurrency(8).per_server(3);
    for i in 0..24 {
        let pool = if i % 2 == 0 { first.clone() } else { second.clone() };
        let db = counted::Counted {
            db: pool,
            counts: counts[i % 2].clone(),
        };
        let name = format!("s_{i:02}");
        tenants = tenants.tenant(&name, db, Settings::default().schema(&name));
    }
    let report = tenants.run().await;
    assert_eq!(report.applied_count(), 24, "{:?}", report.failures());
    for counts in &counts {
        assert_eq!(counts.opened.load(std::sync::atomic::Ordering::SeqCst), 12);
        assert_eq!(
            counts.most.load(std::sync::atomic::Ordering::SeqCst),
            3,
            "the limit reached, never exceeded"
        );
    }
    first.close().await;
    second.close().await;
}

// ---------------------------------------------------------------------------
// New tenants in one transaction

/// A tenant's records without their clocks (times and durations): its
/// tracking rows, its history rows and its state row, as text.
#[cfg(feature = "postgres")]
async fn pg_records(pool: &sqlx::PgPool, schema: &str) -> Vec<String> {
    let queries = [
        format!(
            "SELECT concat_ws('|', version, name, checksum, dirty, dirty_direction, committed_statements) \
             FROM {schema}._embedded_migrations ORDER BY version"
        ),
        format!(
            "SELECT concat_ws('|', version, name, direction, success, error, reason) \
             FROM {schema}._embedded_migrations_history ORDER BY id"
        ),
        format!(
            "SELECT concat_ws('|', applied_count, last_version, chain, dirty) FROM {schema}._embedded_migrations_state"
        ),
    ];
    let mut records = Vec::new();
    for query in queries {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_all(pool)
            .await
            .unwrap();
        records.extend(rows);
    }
    records
}

/// The transactions that wrote a tenant's tracking rows (by their `xmin`),
/// and whether the first of them created the tracking tables too.
#[cfg(feature = "postgres")]
async fn pg_writers(pool: &sqlx::PgPool, schema: &str) -> (i64, bool) {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(DISTINCT xmin::text), \
                bool_or(xmin::text = (SELECT xmin::text FROM pg_class WHERE oid = '{schema}._embedded_migrations_state'::regclass)) \
         FROM {schema}._embedded_migrations"
    )))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A new PostgreSQL tenant gets its tracking tables and every migration in
/// one transaction (its rows written by the transaction that created its
/// tables), with exactly the records of a one-by-one run; from a
/// `no-transaction` migration on, one transaction per migration again.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_new_postgresql_tenant_is_provisioned_in_one_transaction() {
    static SET: Migrations = embed_migrations!("tests/fixtures/tenants");
    static NO_TX: Migrations = embed_migrations!("tests/fixtures/tenants_no_transaction");
    let Some(db) = pg::PgDb::create("tenants_provision").await else {
        return;
    };
    let pool = db.pool_of(4).await;
    let one_by_one = Settings::default().provision_in_one_transaction(false);
    for (set, whole) in [(&SET, 3), (&NO_TX, 1)] {
        let tenants = Tenants::new(set)
            .tenant("whole", pool.clone(), Settings::default().schema("whole"))
            .tenant("each", pool.clone(), one_by_one.clone().schema("each"));
        let report = tenants.run().await;
        assert_eq!(report.applied_count(), 2, "{:?}", report.failures());
        assert_eq!(pg_records(&pool, "whole").await, pg_records(&pool, "each").await);
        let migrations = set.migrations().len() as i64;
        assert_eq!(pg_writers(&pool, "each").await, (migrations, false), "one by one");
        // The leading `whole` migrations in the transaction that created the
        // tables; the ones from a no-transaction file on, each in its own.
        assert_eq!(pg_writers(&pool, "whole").await, (migrations - whole + 1, true));
        sqlx::raw_sql("DROP SCHEMA whole CASCADE; DROP SCHEMA each CASCADE")
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

/// A one-transaction provisioning that fails at migration 3 names the
/// statement as a one-by-one run would, and leaves the tenant as it found
/// it: no schema, no table, nothing recorded.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_provisioning_that_fails_at_migration_k_leaves_the_tenant_empty() {
    static FAILING_GROUP: Migrations = embed_migrations!("tests/fixtures/failing_group");
    let Some(db) = pg::PgDb::create("tenants_provision_fails").await else {
        return;
    };
    let pool = db.pool_of(4).await;
    let tenants = Tenants::new(&FAILING_GROUP).tenant("fresh", pool.clone(), Settings::default().schema("fresh"));
    let report = tenants.run().await;
    let (_, err) = report.failures()[0];
    match err {
        Error::MigrationFailed {
            version,
            statement,
            line,
            rolled_back,
            ..
        } => {
            assert_eq!((*version, *line, *rolled_back), (3, 5, true), "{err}");
            assert_eq!(&**statement, "INSERT INTO g3 (id)\n  VALUES (1)");
        }
        other => panic!("expected 003 to fail, got {other}"),
    }
    let (schema, tables): (bool, i64) = sqlx::query_as(
        "SELECT to_regnamespace('fresh') IS NOT NULL, \
                (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'fresh')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((schema, tables), (false, 0), "the tenant is left empty");
    let status = tenants.status().await;
    assert_eq!(status.tenants[0].readiness.pending_count, 4, "nothing recorded");
    pool.close().await;
}

/// SQLite files as tenants provision in one transaction in group mode
/// only: a failure at migration 3 leaves a group-mode tenant's file without
/// tracking tables, and a tenant outside group mode with its first two
/// migrations applied, as before.
#[tokio::test]
async fn a_new_sqlite_tenant_in_group_mode_is_provisioned_in_one_transaction() {
    static FAILING_GROUP: Migrations = embed_migrations!("tests/fixtures/failing_group");
    let scratch = Scratch::new("tenants_sqlite_provision");
    let grouped = sqlite_file(&scratch.0.join("grouped.db")).await;
    let each = sqlite_file(&scratch.0.join("each.db")).await;
    let tenants = Tenants::new(&FAILING_GROUP)
        .tenant("grouped", grouped.clone(), Settings::default().group(true))
        .tenant("each", each.clone(), Settings::default());
    let report = tenants.run().await;
    assert_eq!(report.failed_count(), 2);
    assert_eq!(sqlite_tables(&grouped).await, Vec::<String>::new(), "nothing left");
    let tables = sqlite_tables(&each).await;
    assert!(
        tables.contains(&"g2".to_string()) && tables.contains(&"_embedded_migrations".to_string()),
        "{tables:?}"
    );
    grouped.close().await;
    each.close().await;
}

/// Not a test of behaviour: the figures of BENCHMARKS.md's "A thousand
/// tenants", in one run (release build, `--ignored --nocapture`): 1,000
/// PostgreSQL schemas of one database, 200 PostgreSQL databases of one
/// server, 1,000 SQLite files; each provisioned from empty, booted with
/// nothing pending, read by `status` (what `check` reads too), and given
/// one new migration. `TENANTS_SCALE` scales the counts down ("0.1").
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for BENCHMARKS.md, run by hand"]
async fn tenants_at_scale() {
    static PG: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    static PG_NEXT: Migrations = embed_migrations!("tests/fixtures/example_next_postgres", database = postgres);
    static LITE_NEXT: Migrations = embed_migrations!("tests/fixtures/example_next_sqlite", database = sqlite);
    let scale: f64 = std::env::var("TENANTS_SCALE").map_or(1.0, |s| s.parse().unwrap());
    let count = |n: f64| ((n * scale) as usize).max(2);

    // 1,000 schemas of one database, one pool of 9 connections.
    let schemas = count(1000.0);
    let Some(db) = pg::PgDb::create("tenants_at_scale").await else {
        return;
    };
    let pool = db.pool_of(9).await;
    let names: Vec<String> = (0..schemas).map(|i| format!("t_{i:04}")).collect();
    let floor = psql_floor(&db, &PG, &names);
    let tenants_of = |set: &'static Migrations| {
        let mut tenants = Tenants::new(set).concurrency(8);
        for name in &names {
            tenants = tenants.tenant(name, pool.clone(), Settings::default().schema(name));
        }
        tenants
    };
    measure(
        &format!("{schemas} PostgreSQL schemas"),
        tenants_of(&PG),
        tenants_of(&PG_NEXT),
    )
    .await;
    println!("{schemas} PostgreSQL schemas: the same DDL in one psql session: {floor:.3} s");
    pool.close().await;
    drop(db);

    // 200 databases of one server, a pool of one connection each.
    let count_dbs = count(200.0);
    let mut dbs = Vec::new();
    let mut pools = Vec::new();
    for i in 0..count_dbs {
        let db = pg::PgDb::create(&format!("tenants_scale_db{i}")).await.unwrap();
        pools.push(db.pool_of(1).await);
        dbs.push(db);
    }
    let tenants_of = |set: &'static Migrations| {
        let mut tenants = Tenants::new(set).concurrency(8);
        for (i, pool) in pools.iter().enumerate() {
            tenants = tenants.tenant(format!("db{i}"), pool.clone(), Settings::default());
        }
        tenants
    };
    measure(
        &format!("{count_dbs} PostgreSQL databases"),
        tenants_of(&PG),
        tenants_of(&PG_NEXT),
    )
    .await;
    for pool in pools {
        pool.close().await;
    }
    drop(dbs);

    // 1,000 SQLite files, a pool of one connection each.
    let files = count(1000.0);
    let scratch = Scratch::new("tenants_at_scale");
    let mut pools = Vec::new();
    for i in 0..files {
        let options = SqliteConnectOptions::new()
            .filename(scratch.0.join(format!("t{i:04}.db")))
            .create_if_missing(true);
        pools.push(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options),
        );
    }
    let tenants_of = |set: &'static Migrations| {
        let mut tenants = Tenants::new(set).concurrency(8);
        for (i, pool) in pools.iter().enumerate() {
            tenants = tenants.tenant(format!("f{i:04}"), pool.clone(), Settings::default());
        }
        tenants
    };
    measure(
        &format!("{files} SQLite files"),
        tenants_of(&APP),
        tenants_of(&LITE_NEXT),
    )
    .await;
    for pool in pools {
        pool.close().await;
    }
}

/// Provisioning from empty, the boot with nothing pending, `status`, and
/// one new migration (`next` is `set` and one more), printed in seconds.
#[cfg(feature = "postgres")]
async fn measure(what: &str, set: Tenants<'_, embedded_migrations::Sql>, next: Tenants<'_, embedded_migrations::Sql>) {
    let timed = std::time::Instant::now();
    let report = set.run().await;
    let provision = timed.elapsed().as_secs_f64();
    assert_eq!(report.applied_count(), set.len(), "{:?}", report.failures().first());
    let mut boots = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..5 {
        let timed = std::time::Instant::now();
        let report = set.run().await;
        boots.push(timed.elapsed().as_secs_f64());
        assert_eq!(report.applied_count(), set.len());
        let timed = std::time::Instant::now();
        let status = set.status().await;
        reads.push(timed.elapsed().as_secs_f64());
        assert!(status.all_ready(), "{status:?}");
    }
    let timed = std::time::Instant::now();
    let report = next.run().await;
    let one_more = timed.elapsed().as_secs_f64();
    assert_eq!(report.applied_count(), next.len());
    boots.sort_by(f64::total_cmp);
    reads.sort_by(f64::total_cmp);
    println!(
        "{what}: provisioning {provision:.3} s; boot, nothing pending: median {:.4} s (min {:.4}); \
         status/check: median {:.4} s (min {:.4}); one new migration {one_more:.3} s",
        boots[2], boots[0], reads[2], reads[0]
    );
}

/// The server's own time for the migrations' statements of every schema in
/// one psql session, one transaction per schema (the Rust code migration's
/// SQL written out: its column and its read of an empty table).
#[cfg(feature = "postgres")]
fn psql_floor(db: &pg::PgDb, set: &Migrations, names: &[String]) -> f64 {
    let mut script = String::new();
    for name in names {
        script.push_str(&format!(
            "BEGIN;\nCREATE SCHEMA floor_{name};\nSET LOCAL search_path TO floor_{name};\n"
        ));
        for migration in set.migrations() {
            script.push_str(migration.up.text);
            script.push_str(";\n");
        }
        script.push_str("ALTER TABLE users ADD COLUMN email_hash TEXT;\nSELECT id, email FROM users;\nCOMMIT;\n");
    }
    let path = std::env::temp_dir().join(format!("{}.sql", db.name));
    std::fs::write(&path, script).unwrap();
    let timed = std::time::Instant::now();
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(db.server.get_host())
        .arg("-p")
        .arg(db.server.get_port().to_string())
        .arg("-U")
        .arg(db.server.get_username())
        .arg("-d")
        .arg(&db.name)
        .arg("-f")
        .arg(&path)
        .output()
        .expect("psql");
    let floor = timed.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    floor
}

// ---------------------------------------------------------------------------
// Placeholders per tenant

/// `${tenant}` (the tenant's name, unless its settings give another) and
/// `${plan}` (each tenant's own setting).
static TENANT_PLACEHOLDERS: Migrations = embed_migrations!("tests/fixtures/tenants_placeholders");

/// The tenants of [`tenants_with_their_own_values`], each placed by
/// `settings`: `a` and `b` with a plan each, `c` naming itself `renamed`,
/// `d` without a plan.
fn placeholder_tenants<D>(pools: [D; 4], settings: fn(&str) -> Settings) -> Tenants<'static, embedded_migrations::Sql>
where
    D: embedded_migrations::backend::Database<Language = embedded_migrations::Sql> + Send + 'static,
{
    let [a, b, c, d] = pools;
    Tenants::new(&TENANT_PLACEHOLDERS)
        .tenant("a", a, settings("a").placeholder("plan", "free"))
        .tenant("b", b, settings("b").placeholder("plan", "pro"))
        .tenant(
            "c",
            c,
            settings("c")
                .placeholder("plan", "pro")
                .placeholder("tenant", "renamed"),
        )
        .tenant("d", d, settings("d"))
}

/// Each tenant runs the file with its own values; the one without a value
/// fails before its database is touched, on every run, while the others
/// apply; the history of each records its values.
async fn tenants_with_their_own_values<D>(
    pools: [D; 4],
    settings: fn(&str) -> Settings,
    accounts: impl AsyncFn(&str) -> Option<(String, String)>,
) where
    D: embedded_migrations::backend::Database<Language = embedded_migrations::Sql> + Send + 'static,
{
    let tenants = placeholder_tenants(pools, settings);
    for round in ["first", "second"] {
        let report = tenants.run().await;
        assert_eq!(report.applied_count(), 3, "{round}: {:?}", report.failures());
        let (name, err) = report.failures()[0];
        assert_eq!(name, "d", "{round}");
        let Error::MissingPlaceholders { missing } = err.cause() else {
            panic!("{round}: {err:?}")
        };
        assert_eq!(
            (missing.len(), missing[0].name.as_str(), missing[0].files.as_slice()),
            (1, "plan", &["001_accounts.up.sql"][..])
        );
    }
    assert_eq!(accounts("a").await, Some(("a".to_string(), "free".to_string())));
    assert_eq!(accounts("b").await, Some(("b".to_string(), "pro".to_string())));
    assert_eq!(accounts("c").await, Some(("renamed".to_string(), "pro".to_string())));
    assert_eq!(accounts("d").await, None, "d was not touched");
    let history = tenants.get("c").unwrap().history().await.expect("history of c");
    assert_eq!(
        history[0].placeholders.as_deref(),
        Some(r#"{"plan": "pro", "tenant": "renamed"}"#)
    );
}

#[tokio::test]
async fn sqlite_tenants_run_with_their_own_placeholder_values() {
    let scratch = Scratch::new("tenant_placeholders");
    let mut pools = Vec::new();
    for name in ["a", "b", "c", "d"] {
        pools.push(sqlite_file(&scratch.0.join(format!("{name}.db"))).await);
    }
    let pools: [SqlitePool; 4] = pools.clone().try_into().unwrap();
    let dir = scratch.0.clone();
    tenants_with_their_own_values(
        pools,
        |_| Settings::default(),
        async |name: &str| {
            let pool = sqlite_file(&dir.join(format!("{name}.db"))).await;
            if !sqlite_tables(&pool).await.iter().any(|t| t == "accounts") {
                assert!(sqlite_tables(&pool).await.is_empty(), "{name}: nothing created");
                return None;
            }
            sqlx::query_as("SELECT tenant, plan FROM accounts")
                .fetch_optional(&pool)
                .await
                .unwrap()
        },
    )
    .await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgresql_tenants_run_with_their_own_placeholder_values() {
    let Some(db) = pg::PgDb::create("tenant_placeholders_pg").await else {
        return;
    };
    let pool = db.pool_of(8).await;
    let pools = [pool.clone(), pool.clone(), pool.clone(), pool.clone()];
    let check = pool.clone();
    let schema = |name: &str| Settings::default().schema(name);
    tenants_with_their_own_values(pools, schema, async |name: &str| {
        let exists: bool = sqlx::query_scalar("SELECT to_regnamespace($1) IS NOT NULL")
            .bind(name)
            .fetch_one(&check)
            .await
            .unwrap();
        if !exists {
            return None;
        }
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT tenant, plan FROM {name}.accounts")))
            .fetch_optional(&check)
            .await
            .unwrap()
    })
    .await;
    // A tenant already up to date, read together with the others, still
    // fails when its settings lose a value: as a run of its own would.
    let again = Tenants::new(&TENANT_PLACEHOLDERS)
        .tenant("a", pool.clone(), schema("a"))
        .tenant("b", pool.clone(), schema("b").placeholder("plan", "pro"));
    let report = again.run().await;
    assert_eq!(report.applied_count(), 1, "{:?}", report.failures());
    let (name, err) = report.failures()[0];
    assert_eq!(name, "a");
    assert!(matches!(err.cause(), Error::MissingPlaceholders { .. }), "{err:?}");
    pool.close().await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mariadb_tenants_run_with_their_own_placeholder_values() {
    let Some(dbs) = my::MyDatabases::create("tenant_placeholders_my", 4).await else {
        return;
    };
    let mut pools = Vec::new();
    for i in 0..4 {
        pools.push(dbs.pool(i));
    }
    let pools: [sqlx::MySqlPool; 4] = pools.try_into().unwrap();
    let check = dbs.pool(0);
    let names = dbs.names();
    tenants_with_their_own_values(
        pools,
        |_| Settings::default(),
        async |name: &str| {
            let database = &names[["a", "b", "c", "d"].iter().position(|n| *n == name).unwrap()];
            let tables: i64 =
                sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = ?")
                    .bind(database)
                    .fetch_one(&check)
                    .await
                    .unwrap();
            if tables == 0 {
                return None;
            }
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT tenant, plan FROM `{database}`.accounts"
            )))
            .fetch_optional(&check)
            .await
            .unwrap()
        },
    )
    .await;
}
