//! The shared scenarios on a real PostgreSQL server through a
//! tokio-postgres `Client` (no sqlx in the migration's path; the test's
//! own reads and tampering go through the sqlx pool of `PgDb`), plus
//! sixteen processes booting at once.
//!
//! Needs `TEST_POSTGRES_URL`; without it every test skips loudly, or fails
//! when `CI=true`. Rust code migrations are not run here (their functions
//! take sqlx connections); a set holding one is refused, which a test says.
#![cfg(all(feature = "tokio-postgres", feature = "postgres"))]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::tokio_postgres::{Client, NoTls};
use embedded_migrations::{embed_migrations, Error, Migrations, Settings};
use servers::dbs::{PgDb, POSTGRES_URL};
use std::str::FromStr;
use std::time::Duration;
use support::TestDb;

/// A test database of its own: the client the library takes, and `PgDb`'s
/// sqlx pool beside it for what the test reads and tampers with.
struct TokioPgDb {
    client: Client,
    pg: PgDb,
}

/// A client on database `name` of the server of `TEST_POSTGRES_URL`, its
/// connection driven by a task of the current runtime.
async fn connect(name: &str) -> Client {
    let url = std::env::var(POSTGRES_URL).expect("the server's URL");
    let mut config = embedded_migrations::tokio_postgres::Config::from_str(url.trim()).expect("a postgres URL");
    config.dbname(name);
    let (client, connection) = config.connect(NoTls).await.expect("connect to the test database");
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            eprintln!("the test's connection ended: {err}");
        }
    });
    client
}

impl TestDb for TokioPgDb {
    type Pool = Client;
    const TRANSACTIONAL_DDL: bool = true;

    async fn fresh(test: &str) -> Option<Self> {
        let pg = PgDb::create(test).await?;
        Some(TokioPgDb {
            client: connect(&pg.name).await,
            pg,
        })
    }

    fn pool(&self) -> &Client {
        &self.client
    }

    async fn tables(&self) -> Vec<String> {
        self.pg.tables().await
    }

    async fn exec(&self, sql: &str) {
        self.pg.exec(sql).await
    }

    async fn count(&self, sql: &str) -> i64 {
        self.pg.count(sql).await
    }

    fn driver_error(err: &(dyn std::error::Error + 'static)) -> bool {
        err.is::<embedded_migrations::tokio_postgres::Error>()
    }
}

backend_scenarios!(TokioPgDb);
fault_scenarios!(TokioPgDb);
sql_fault_scenarios!(TokioPgDb, transactional);
sql_scenarios!(TokioPgDb);
layout_scenarios!(TokioPgDb);

async fn count_on(client: &Client, sql: &str) -> i64 {
    let row = client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|err| panic!("count {sql}: {err}"));
    row.get::<_, i64>(0)
}

impl support::faults::SqlFaults for TokioPgDb {
    const ENDS_ITS_TRANSACTION: &'static str =
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nEND;\nINSERT INTO nosuch (id) VALUES (1);\n";
    const ENDED_AT: (&'static str, u32) = ("END", 1);
    const POISON: &'static str = "SET session_replication_role = replica;\nBEGIN;\n\
                                  CREATE TABLE t_new (id INTEGER PRIMARY KEY);\nINSERT INTO nosuch (id) VALUES (1);\n\
                                  COMMIT;\nSET session_replication_role = origin;\n";
    const SLOW: &'static str = "SELECT pg_sleep(5)";

    /// The application's one connection, which it hands the library and
    /// then goes on using.
    async fn one_connection(&self) -> Client {
        connect(&self.pg.name).await
    }

    async fn exec_on(client: &Client, sql: &str) {
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|err| panic!("exec {sql}: {err}"))
    }

    async fn count_on(client: &Client, sql: &str) -> i64 {
        count_on(client, sql).await
    }

    async fn close(client: Client) {
        drop(client)
    }
}

static SLOW: Migrations = embed_migrations!("tests/fixtures/postgres_slow");
static EXAMPLE: Migrations = embed_migrations!("migrations/postgres", database = postgres);
static NO_TRANSACTION: Migrations = embed_migrations!("tests/fixtures/postgres_no_transaction");

/// Session advisory locks granted in the test database.
async fn advisory_locks(db: &TokioPgDb) -> i64 {
    db.count(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_with_a_code_migration_is_refused_before_anything_runs() {
    let Some(db) = TokioPgDb::fresh("tpg_code_refused").await else {
        return;
    };
    match EXAMPLE.run(&db.client).await {
        Err(Error::CodeForAnotherDatabase { file, database, .. }) => {
            assert!(file.ends_with(".rs"), "{file}");
            assert_eq!(database, "PostgreSQL (tokio-postgres)");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_transaction_files_run_outside_a_transaction() {
    let Some(db) = TokioPgDb::fresh("tpg_no_transaction").await else {
        return;
    };
    let report = NO_TRANSACTION.run(&db.client).await.expect("run");
    assert!(NO_TRANSACTION.migrations().iter().any(|m| m.up.no_transaction));
    assert_eq!(report.steps.len(), NO_TRANSACTION.migrations().len());
    NO_TRANSACTION.validate(&db.client).await.expect("clean, not dirty");
    assert_eq!(advisory_locks(&db).await, 0, "the lock is released");
}

/// The lock is the sqlx backend's, with the same key: a sqlx run holding
/// it keeps this one waiting until the timeout, which names the holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advisory_lock_is_shared_with_the_sqlx_backend() {
    let Some(db) = TokioPgDb::fresh("tpg_shared_lock").await else {
        return;
    };
    let pool = db.pg.pool.clone();
    let holder = tokio::spawn(async move { SLOW.run(&pool).await });
    // The sqlx run holds the lock for the two seconds of its migration.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let settings = Settings::default().lock_timeout(Duration::from_millis(300));
    let err = SLOW
        .with(settings)
        .run(&db.client)
        .await
        .expect_err("waits, then times out");
    match &err {
        Error::LockTimeout {
            holder: Some(holder), ..
        } => assert!(holder.contains("backend pid"), "{holder}"),
        other => panic!("{other:?}"),
    }
    holder.await.expect("the sqlx run's task").expect("the sqlx run");
    assert!(SLOW.run(&db.client).await.expect("then up to date").steps.is_empty());
    SLOW.validate(&db.client).await.expect("each reads the other's records");
    assert_eq!(advisory_locks(&db).await, 0);
}

/// After a failed run the program's client is usable: nothing left open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_goes_on_working_after_a_failed_run() {
    let Some(db) = TokioPgDb::fresh("tpg_failed_then_works").await else {
        return;
    };
    let set = &support::fixtures::FAILING;
    let err = set.run(&db.client).await.expect_err("the failing set fails");
    assert!(
        matches!(err.cause(), Error::MigrationFailed { rolled_back: true, .. }),
        "{err:?}"
    );
    assert_eq!(
        count_on(&db.client, "SELECT 1::bigint").await,
        1,
        "no transaction left aborted"
    );
    assert_eq!(advisory_locks(&db).await, 0);
}

/// `LockMode::Table` is refused, plainly, before anything is changed; the
/// boot check, which takes no lock, still reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_lock_mode_is_refused_not_ignored() {
    let Some(db) = TokioPgDb::fresh("tpg_table_lock").await else {
        return;
    };
    let set = SLOW.with(Settings::default().lock_mode(embedded_migrations::LockMode::Table));
    match set.run(&db.client).await {
        Err(Error::Unsupported { what, .. }) => assert!(what.contains("LockMode::Table"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(db.tables().await.is_empty(), "nothing created");
    assert_eq!(set.status(&db.client).await.expect("status reads").pending_count(), 1);
}

/// `Settings::provision_in_one_transaction`: a database with nothing applied
/// is provisioned in one transaction, the tracking tables with the
/// migrations, so a failure leaves it as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_run_leaves_the_database_as_it_found_it() {
    let Some(db) = TokioPgDb::fresh("tpg_provision").await else {
        return;
    };
    let provision = Settings::default().provision_in_one_transaction(true);
    let err = support::fixtures::FAILING
        .with(provision.clone())
        .run(&db.client)
        .await
        .expect_err("the failing set fails");
    assert!(matches!(err.cause(), Error::MigrationFailed { .. }), "{err:?}");
    let tables = db.tables().await;
    assert!(
        !tables.iter().any(|t| t == "a" || t == "_embedded_migrations_state"),
        "nothing of the run is left: {tables:?}"
    );
    let report = support::fixtures::BASE
        .run(&db.client)
        .await
        .expect("a good set then applies");
    assert_eq!(report.steps.len(), 3);
}

const CHILD_ENV: &str = "EMBEDDED_MIGRATIONS_TOKIO_PG_CHILD_DB";

/// Child half of `sixteen_processes_booting_at_once_apply_each_migration_once`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that sixteen_processes_booting_at_once starts; fails alone"]
async fn child_process_entry() {
    let database = servers::child_role(CHILD_ENV);
    let client = connect(&database).await;
    servers::boot_child(SLOW.run(&client)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let Some(db) = TokioPgDb::fresh("tpg_sixteen_processes").await else {
        return;
    };
    // Time enough for 16 processes to start on two cores before the instant.
    let applied = servers::boot_at_once(
        "child_process_entry",
        &[(CHILD_ENV, db.pg.name.clone())],
        16,
        Duration::from_millis(2500),
    );
    servers::assert_each_applied_once(&db, &SLOW, &applied).await;
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history WHERE NOT success")
            .await,
        0
    );
    assert_eq!(advisory_locks(&db).await, 0);
}

/// `Settings::statement_timeout` stops a migration's statement in its
/// transaction (`SET LOCAL`), as a typed `TimedOut`, and nothing is
/// recorded; without it the same set applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_timeout_stops_the_migration_and_says_so() {
    let Some(db) = TokioPgDb::fresh("tpg_statement_timeout").await else {
        return;
    };
    let settings = Settings::default().statement_timeout(Duration::from_millis(300));
    let err = SLOW
        .with(settings)
        .run(&db.client)
        .await
        .expect_err("pg_sleep(2) outlives 300 ms");
    assert!(
        matches!(
            err.cause(),
            Error::TimedOut {
                timeout: embedded_migrations::Timeout::Statement(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, 0);
    assert_eq!(
        count_on(&db.client, "SELECT 1::bigint").await,
        1,
        "the client still works"
    );
    assert_eq!(SLOW.run(&db.client).await.expect("then it applies").steps.len(), 1);
}

/// `baseline` records without running, in one transaction; the next run
/// applies only what follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_records_without_running() {
    let Some(db) = TokioPgDb::fresh("tpg_baseline").await else {
        return;
    };
    let set = &support::fixtures::BASE;
    let last = set.migrations().last().expect("a migration").version;
    set.baseline(&db.client, last).await.expect("baseline");
    assert_eq!(db.tracking_records().await, set.migrations().len() as i64);
    set.validate(&db.client).await.expect("baselined rows validate");
    assert!(set.run(&db.client).await.expect("nothing pending").steps.is_empty());
}

/// `Settings::schema`: the tracking tables in that schema, and the
/// migrations' unqualified names there too (the schema first on the search
/// path while they run), as the sqlx backend does: sqlx reads the records
/// as its own. The client's search path is as it was afterwards, also after
/// a `no-transaction` file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_holds_the_tracking_tables_and_the_migrations_tables() {
    let Some(db) = TokioPgDb::fresh("tpg_schema").await else {
        return;
    };
    let path_before: String = db
        .client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .expect("search path")
        .get(0);
    let settings = Settings::default().schema("tenant_a");
    let set = support::fixtures::BASE.with(settings.clone());
    assert_eq!(set.run(&db.client).await.expect("run").steps.len(), 3);
    assert_eq!(db.count("SELECT count(*) FROM tenant_a._embedded_migrations").await, 3);
    // Fails unless the migration created `a` in the schema.
    db.count("SELECT count(*) FROM tenant_a.a").await;
    assert_eq!(
        db.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'a'")
            .await,
        0,
        "the migration's table is in the schema"
    );
    set.validate(&db.pg.pool).await.expect("sqlx validates the records");
    let no_transaction = NO_TRANSACTION.with(Settings::default().schema("tenant_b"));
    no_transaction.run(&db.client).await.expect("the no-transaction set");
    let path_after: String = db
        .client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .expect("search path")
        .get(0);
    assert_eq!(path_after, path_before, "the client's search path is as it was");
}

/// The shared suites on a deadpool-postgres `Pool`: a client of the pool
/// per operation, handed back at its end (also by a run dropped midway).
#[cfg(feature = "deadpool-postgres")]
mod deadpool {
    use super::*;
    use embedded_migrations::deadpool_postgres::{Manager, Pool};

    /// A pool of `size` clients on the test database.
    fn pool(name: &str, size: usize) -> Pool {
        let url = std::env::var(POSTGRES_URL).expect("the server's URL");
        let mut config = embedded_migrations::tokio_postgres::Config::from_str(url.trim()).expect("a postgres URL");
        config.dbname(name);
        Pool::builder(Manager::new(config, NoTls))
            .max_size(size)
            .build()
            .expect("a pool")
    }

    struct DeadpoolDb {
        pool: Pool,
        pg: PgDb,
    }

    impl TestDb for DeadpoolDb {
        type Pool = Pool;
        const TRANSACTIONAL_DDL: bool = true;

        async fn fresh(test: &str) -> Option<Self> {
            let pg = PgDb::create(test).await?;
            Some(DeadpoolDb {
                pool: pool(&pg.name, 2),
                pg,
            })
        }

        fn pool(&self) -> &Pool {
            &self.pool
        }

        async fn tables(&self) -> Vec<String> {
            self.pg.tables().await
        }

        async fn exec(&self, sql: &str) {
            self.pg.exec(sql).await
        }

        async fn count(&self, sql: &str) -> i64 {
            self.pg.count(sql).await
        }

        fn driver_error(err: &(dyn std::error::Error + 'static)) -> bool {
            err.is::<embedded_migrations::tokio_postgres::Error>()
        }
    }

    backend_scenarios!(DeadpoolDb);
    fault_scenarios!(DeadpoolDb);
    sql_fault_scenarios!(DeadpoolDb, transactional);

    impl support::faults::SqlFaults for DeadpoolDb {
        const ENDS_ITS_TRANSACTION: &'static str = <TokioPgDb as support::faults::SqlFaults>::ENDS_ITS_TRANSACTION;
        const ENDED_AT: (&'static str, u32) = <TokioPgDb as support::faults::SqlFaults>::ENDED_AT;
        const POISON: &'static str = <TokioPgDb as support::faults::SqlFaults>::POISON;
        const SLOW: &'static str = <TokioPgDb as support::faults::SqlFaults>::SLOW;

        /// The application's pool of one client, which it hands the
        /// library and then goes on using.
        async fn one_connection(&self) -> Pool {
            pool(&self.pg.name, 1)
        }

        async fn exec_on(pool: &Pool, sql: &str) {
            let client = pool.get().await.expect("a client");
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|err| panic!("exec {sql}: {err}"))
        }

        async fn count_on(pool: &Pool, sql: &str) -> i64 {
            let client = pool.get().await.expect("a client");
            count_on(&client, sql).await
        }

        async fn close(pool: Pool) {
            pool.close()
        }
    }

    /// The advisory lock is released with every client handed back: none
    /// is left granted once the suites' runs are over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_on_a_pool_leave_no_lock_behind() {
        let Some(db) = DeadpoolDb::fresh("dp_no_lock_behind").await else {
            return;
        };
        assert_eq!(SLOW.run(&db.pool).await.expect("run").steps.len(), 1);
        assert!(SLOW.run(&db.pool).await.expect("boot").steps.is_empty());
        SLOW.validate(&db.pool).await.expect("validate");
        assert_eq!(
            db.count(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await,
            0
        );
    }
}
