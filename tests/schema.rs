//! Schema snapshots, the reversibility check, the manual-change check and
//! the test kit, on every backend against real servers:
//! - every example set in migrations/ passes `verify_reversible`;
//! - the wrong-down fixtures (a forgotten index, column, constraint) are
//!   caught, and the migration and the object are named;
//! - a change made by hand after the last migration is caught by
//!   `check_schema` and `migrate schema check`;
//! - snapshots do not depend on creation order and leave the tracking
//!   tables out under a custom table name.
//!
//! Each test takes a fresh database from the test kit (SQLite file,
//! PostgreSQL/MySQL database; the one Neo4j graph, under the kit's file
//! lock, wiped). Server URLs: TEST_POSTGRES_URL, TEST_MYSQL_URL,
//! NEO4J_TEST_URI/USER/PASSWORD; without one its tests skip loudly, or fail
//! when CI=true.

#[macro_use]
#[allow(unused_macros)]
mod support;

use embedded_migrations::backend::Database;
use embedded_migrations::snapshot::{SchemaSnapshot, Snapshot};
use embedded_migrations::{Language, Migrations, Settings};

/// Runs `statement` the backend's way.
trait Exec {
    async fn exec(&self, statement: &str);
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl<DB: sqlx::Database> Exec for sqlx::Pool<DB>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    async fn exec(&self, statement: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
            .execute(self)
            .await
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

#[cfg(feature = "neo4j")]
impl Exec for embedded_migrations::neo4rs::Graph {
    async fn exec(&self, statement: &str) {
        self.run(embedded_migrations::neo4rs::query(statement))
            .await
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

async fn snapshot<D: Database>(db: &D) -> SchemaSnapshot {
    snapshots(db).snapshot(&Settings::default()).await.expect("snapshot")
}

/// The schema reader of `db`: every backend of this crate has one.
fn snapshots<D: Database>(db: &D) -> &dyn Snapshot {
    db.snapshots().expect("this backend reads its schema")
}

/// Nothing but Neo4j's built-in lookup indexes, which a fresh graph has.
fn built_in_only(snapshot: &SchemaSnapshot) -> bool {
    snapshot
        .objects()
        .all(|(key, definition)| key.starts_with("index ") && definition.starts_with("LOOKUP "))
}

/// Every migration of an example set reverts exactly; irreversible ones are
/// listed, not reverted.
async fn example_set_reverts<L: Language, D: Database<Language = L>>(db: &D, table: &Migrations<L>) {
    let empty = snapshot(db).await;
    assert!(built_in_only(&empty), "the scratch database starts empty:\n{empty}");
    let report = table.verify_reversible(db).await.expect("verify_reversible");
    assert!(report.is_reversible(), "{report}");
    let expected_irreversible: Vec<i64> = table
        .migrations()
        .iter()
        .filter(|m| m.irreversible)
        .map(|m| m.version)
        .collect();
    let checked: Vec<i64> = report.checked.iter().map(|(v, _)| *v).collect();
    let irreversible: Vec<i64> = report.irreversible.iter().map(|(v, _)| *v).collect();
    assert_eq!(irreversible, expected_irreversible);
    assert_eq!(checked.len() + irreversible.len(), table.migrations().len(), "{report}");
    let latest = table.migrations().last().expect("a non-empty set").version;
    let status = table.status(db).await.expect("status");
    assert_eq!(status.current_version(), latest, "left at the latest version");
    assert!(
        snapshot(db).await.len() > 3,
        "the migrations created objects the snapshot sees"
    );
}

/// The check stops at `version`, names its down file and `object`.
async fn wrong_down_is_named<L: Language, D: Database<Language = L>>(
    db: &D,
    table: &Migrations<L>,
    version: i64,
    object: &str,
) {
    let report = table.verify_reversible(db).await.expect("verify_reversible");
    let failure = report
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("not caught:\n{report}"));
    assert_eq!(failure.version, version, "{report}");
    assert!(failure.down_file.starts_with(&format!("00{version}_")), "{report}");
    assert!(
        failure.diff.objects().contains(&object),
        "`{object}` not named:\n{report}"
    );
    let checked: Vec<i64> = report.checked.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        checked,
        (1..version).collect::<Vec<_>>(),
        "checked up to the failure, not after"
    );
    let text = report.to_string();
    assert!(text.contains(&failure.down_file) && text.contains(object), "{text}");
}

/// A schema recorded by `run_recording_schema` matches until someone
/// changes it by hand; the check then names the changed object.
async fn manual_change_is_caught<L: Language, D: Database<Language = L> + Exec>(
    db: &D,
    table: &Migrations<L>,
    change: &str,
    object: &str,
) {
    let before = table.check_schema(db).await.expect("check_schema");
    assert!(
        before.record.is_none() && !before.is_unchanged(),
        "nothing recorded yet"
    );
    let report = table.run_recording_schema(db).await.expect("run_recording_schema");
    assert_eq!(report.steps.len(), table.migrations().len());
    let check = table.check_schema(db).await.expect("check_schema");
    assert!(check.is_unchanged(), "{check}");
    let record = check.record.as_ref().expect("recorded");
    assert_eq!(record.version, table.migrations().last().unwrap().version);
    assert_eq!(record.hash, record.snapshot.hash());

    db.exec(change).await;
    // With nothing pending, run_recording_schema records nothing: the
    // manual change is still reported after a boot.
    let report = table.run_recording_schema(db).await.expect("run_recording_schema");
    assert!(report.is_empty());
    let check = table.check_schema(db).await.expect("check_schema");
    assert!(!check.is_unchanged(), "the manual change went unnoticed:\n{check}");
    assert!(check.diff.objects().contains(&object), "`{object}` not named:\n{check}");
    let code = embedded_migrations::cli::from_args(table, Settings::default(), db, ["app", "schema", "check"]).await;
    assert_eq!(code, 2, "migrate schema check fails on a changed schema");

    // Accepting the change: record again, and the check passes.
    let code = embedded_migrations::cli::from_args(table, Settings::default(), db, ["app", "schema", "record"]).await;
    assert_eq!(code, 0);
    assert!(table.check_schema(db).await.expect("check_schema").is_unchanged());
}

/// The same objects created in two orders give the same text.
async fn creation_order_does_not_matter<D: Database + Exec>(a: &D, b: &D, (first, second): ([&str; 4], [&str; 4])) {
    assert_ne!(first, second, "in another order");
    for statement in first {
        a.exec(statement).await;
    }
    for statement in second {
        b.exec(statement).await;
    }
    let (a, b) = (snapshot(a).await, snapshot(b).await);
    assert!(a.len() >= first.len(), "the objects are in the snapshot:\n{a}");
    assert_eq!(a.text(), b.text());
    assert_eq!(a.hash(), b.hash());
}

/// Under a custom table name the tracking tables are still left out (and,
/// as the premise, the default settings do see them).
async fn tracking_is_excluded<L: Language, D: Database<Language = L>>(db: &D, table: &Migrations<L>, name: &str) {
    let settings = Settings::default().table(name);
    table.with(settings.clone()).run(db).await.expect("run");
    let own = snapshots(db).snapshot(&settings).await.expect("snapshot");
    assert!(!own.text().contains(name), "tracking in the snapshot:\n{own}");
    let other = snapshot(db).await;
    assert!(
        other.text().contains(name),
        "the premise: tracking exists under {name}:\n{other}"
    );
}

/// `migrate verify` wires the check: refuses without --yes, 0 when every
/// down reverts, 2 naming the migration when one does not.
async fn cli_verify<L: Language, D: Database<Language = L>>(
    good_db: &D,
    good: &Migrations<L>,
    bad_db: &D,
    bad: &Migrations<L>,
) {
    let verify =
        |table, db| embedded_migrations::cli::from_args(table, Settings::default(), db, ["app", "verify", "--yes"]);
    let code = embedded_migrations::cli::from_args(good, Settings::default(), good_db, ["app", "verify"]).await;
    assert_eq!(code, 2, "verify without --yes is refused");
    assert!(
        good.status(good_db).await.unwrap().current_version() == 0,
        "and changes nothing"
    );
    assert_eq!(verify(good, good_db).await, 0);
    assert_eq!(verify(bad, bad_db).await, 2);
}

/// What the snapshot, the record and the check cost on an example set
/// (printed; `--ignored --nocapture`, not part of the suite: no timing is
/// asserted).
async fn measure<L: Language, D: Database<Language = L>>(backend: &str, db: &D, scratch: &D, table: &Migrations<L>) {
    let started = std::time::Instant::now();
    let report = table.verify_reversible(scratch).await.expect("verify_reversible");
    assert!(report.is_reversible());
    println!(
        "{backend}: verify_reversible of {} migrations {:?}",
        table.migrations().len(),
        started.elapsed()
    );
    measure_on_migrated(backend, db, table).await;
}

/// Migrates `db`, then times the snapshot, the record, the check and the
/// boot with nothing pending, with and without recording.
async fn measure_on_migrated<L: Language, D: Database<Language = L>>(backend: &str, db: &D, table: &Migrations<L>) {
    use std::time::{Duration, Instant};
    const N: u32 = 20;
    async fn time<F: std::future::Future>(mut f: impl FnMut() -> F) -> Duration {
        let started = Instant::now();
        for _ in 0..N {
            f().await;
        }
        started.elapsed() / N
    }
    table.run(db).await.expect("run");
    let settings = Settings::default();
    let snapshot_time = time(|| async { snapshots(db).snapshot(&settings).await.unwrap() }).await;
    let record_time = time(|| async { table.record_schema(db).await.unwrap() }).await;
    let check_time = time(|| async { table.check_schema(db).await.unwrap() }).await;
    // Boots with nothing pending, interleaved so that both see the same
    // server conditions.
    let (mut boot, mut boot_recording) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..10 {
        boot += time(|| async { table.run(db).await.unwrap() }).await / 10;
        boot_recording += time(|| async { table.run_recording_schema(db).await.unwrap() }).await / 10;
    }
    let snapshot = snapshot(db).await;
    println!(
        "{backend}: {} objects, {} bytes of snapshot text; snapshot {snapshot_time:?}, record {record_time:?}, \
         check {check_time:?}; boot with nothing pending: run {boot:?}, run_recording_schema {boot_recording:?}",
        snapshot.len(),
        snapshot.text().len(),
    );
}

macro_rules! sql_backend_tests {
    (
        feature: $feature:literal,
        module: $module:ident,
        open: $open:expr,
        examples: $examples:literal,
        database: $database:ident,
        constraint_fixture: $constraint:literal,
        index_object: $index:literal,
        order_statements: $order:expr $(,)?
    ) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;
            use embedded_migrations::{embed_migrations, Migrations};

            static EXAMPLES: Migrations = embed_migrations!($examples, database = $database);
            static WRONG_INDEX: Migrations = embed_migrations!("tests/fixtures/wrong_down_index");
            static WRONG_COLUMN: Migrations = embed_migrations!("tests/fixtures/wrong_down_column");
            static WRONG_CONSTRAINT: Migrations = embed_migrations!($constraint);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn example_set_reverts() {
                let Some(db) = $open("example_set_reverts").await else {
                    return;
                };
                super::example_set_reverts(db.pool(), &EXAMPLES).await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forgotten_index_is_named() {
                let Some(db) = $open("forgotten_index_is_named").await else {
                    return;
                };
                wrong_down_is_named(db.pool(), &WRONG_INDEX, 2, $index).await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forgotten_column_is_named() {
                let Some(db) = $open("forgotten_column_is_named").await else {
                    return;
                };
                wrong_down_is_named(db.pool(), &WRONG_COLUMN, 2, "column accounts.nickname").await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forgotten_constraint_is_named() {
                let Some(db) = $open("forgotten_constraint_is_named").await else {
                    return;
                };
                wrong_down_is_named(
                    db.pool(),
                    &WRONG_CONSTRAINT,
                    2,
                    "constraint accounts.accounts_email_has_at",
                )
                .await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn manual_change_is_caught() {
                let Some(db) = $open("manual_change_is_caught").await else {
                    return;
                };
                let change = "ALTER TABLE users ADD COLUMN manual_note VARCHAR(20)";
                super::manual_change_is_caught(db.pool(), &EXAMPLES, change, "column users.manual_note").await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn creation_order_does_not_matter() {
                let Some(a) = $open("creation_order_a").await else {
                    return;
                };
                let Some(b) = $open("creation_order_b").await else {
                    return;
                };
                super::creation_order_does_not_matter(a.pool(), b.pool(), $order).await;
                a.close().await.unwrap();
                b.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tracking_is_excluded() {
                let Some(db) = $open("tracking_is_excluded").await else {
                    return;
                };
                super::tracking_is_excluded(db.pool(), &EXAMPLES, "custom_tracking").await;
                db.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "measurement: run with --ignored --nocapture"]
            async fn measure_cost() {
                let Some(db) = $open("measure_cost").await else {
                    return;
                };
                let Some(scratch) = $open("measure_cost_scratch").await else {
                    return;
                };
                measure($feature, db.pool(), scratch.pool(), &EXAMPLES).await;
                db.close().await.unwrap();
                scratch.close().await.unwrap();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cli_verify() {
                let Some(good) = $open("cli_verify_good").await else {
                    return;
                };
                let Some(bad) = $open("cli_verify_bad").await else {
                    return;
                };
                super::cli_verify(good.pool(), &EXAMPLES, bad.pool(), &WRONG_INDEX).await;
                good.close().await.unwrap();
                bad.close().await.unwrap();
            }
        }
    };
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(_test: &str) -> Option<embedded_migrations::testkit::TestDatabase<sqlx::SqlitePool>> {
    Some(
        embedded_migrations::testkit::TestDatabase::sqlite()
            .await
            .expect("a SQLite test database"),
    )
}

#[cfg(feature = "postgres")]
async fn open_postgres(test: &str) -> Option<embedded_migrations::testkit::TestDatabase<sqlx::PgPool>> {
    let url = server_url("TEST_POSTGRES_URL", test)?;
    Some(
        embedded_migrations::testkit::TestDatabase::postgres(&url)
            .await
            .expect("a PostgreSQL test database"),
    )
}

#[cfg(feature = "mysql")]
async fn open_mysql(test: &str) -> Option<embedded_migrations::testkit::TestDatabase<sqlx::MySqlPool>> {
    let url = server_url("TEST_MYSQL_URL", test)?;
    Some(
        embedded_migrations::testkit::TestDatabase::mysql(&url)
            .await
            .expect("a MySQL test database"),
    )
}

/// With `Settings::schema`, the migrations and their tracking live in that
/// schema, and the snapshot reads it (not `public`, which stays empty).
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_snapshot_reads_the_configured_schema() {
    use embedded_migrations::{embed_migrations, Migrations};
    static EXAMPLES: Migrations = embed_migrations!("migrations/postgres", database = postgres);
    let Some(db) = open_postgres("postgres_snapshot_reads_the_configured_schema").await else {
        return;
    };
    let settings = Settings::default().schema("app");
    let report = EXAMPLES
        .with(settings.clone())
        .verify_reversible(db.pool())
        .await
        .unwrap();
    assert!(report.is_reversible(), "{report}");
    let snapshot = db.pool().snapshot(&settings).await.unwrap();
    assert!(snapshot.objects().any(|(key, _)| key == "table users"), "{snapshot}");
    assert!(!snapshot.text().contains("_embedded_migrations"), "{snapshot}");
    assert!(super_snapshot_is_empty(db.pool()).await, "public holds nothing");
    db.close().await.unwrap();
}

#[cfg(feature = "postgres")]
async fn super_snapshot_is_empty(pool: &sqlx::PgPool) -> bool {
    snapshot(pool).await.is_empty()
}

#[allow(dead_code)]
fn server_url(variable: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_string()),
        _ => {
            support::missing_backend(variable, test);
            None
        }
    }
}

sql_backend_tests! {
    feature: "sqlite",
    module: sqlite,
    open: open_sqlite,
    examples: "migrations/sqlite",
    database: sqlite,
    constraint_fixture: "tests/fixtures/sqlite_wrong_down_constraint",
    index_object: "index accounts_email",
    order_statements: (
        [
            "CREATE TABLE p (id INTEGER PRIMARY KEY, v VARCHAR(10) CHECK (v <> ''))",
            "CREATE TABLE q (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id))",
            "CREATE INDEX q_p ON q (p_id)",
            "CREATE VIEW pv AS SELECT 1 AS one",
        ],
        [
            "CREATE VIEW pv AS SELECT 1 AS one",
            "CREATE TABLE q (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id))",
            "CREATE INDEX q_p ON q (p_id)",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, v VARCHAR(10) CHECK (v <> ''))",
        ],
    ),
}

sql_backend_tests! {
    feature: "postgres",
    module: postgres,
    open: open_postgres,
    examples: "migrations/postgres",
    database: postgres,
    constraint_fixture: "tests/fixtures/wrong_down_constraint",
    index_object: "index accounts_email",
    order_statements: (
        [
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id SERIAL PRIMARY KEY, m mood DEFAULT 'ok')",
            "CREATE TABLE q (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT UNIQUE)",
            "CREATE FUNCTION one() RETURNS integer LANGUAGE sql AS 'SELECT 1'; CREATE INDEX q_lower ON q (lower(v))",
            "CREATE VIEW ones AS SELECT 1 AS one; CREATE SEQUENCE counter START 10",
        ],
        [
            "CREATE VIEW ones AS SELECT 1 AS one; CREATE SEQUENCE counter START 10",
            "CREATE TABLE q (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT UNIQUE)",
            "CREATE FUNCTION one() RETURNS integer LANGUAGE sql AS 'SELECT 1'; CREATE INDEX q_lower ON q (lower(v))",
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE p (id SERIAL PRIMARY KEY, m mood DEFAULT 'ok')",
        ],
    ),
}

sql_backend_tests! {
    feature: "mysql",
    module: mysql,
    open: open_mysql,
    examples: "migrations/mysql",
    database: mysql,
    constraint_fixture: "tests/fixtures/wrong_down_constraint",
    index_object: "index accounts.accounts_email",
    order_statements: (
        [
            "CREATE TABLE p (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10)); INSERT INTO p (v) VALUES ('a'), ('b')",
            "CREATE TABLE q (id INTEGER PRIMARY KEY, v INTEGER, KEY q_v (v))",
            "CREATE VIEW pv AS SELECT 1 AS one",
            "CREATE FUNCTION one_more(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
        ],
        [
            "CREATE FUNCTION one_more(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
            "CREATE VIEW pv AS SELECT 1 AS one",
            "CREATE TABLE q (id INTEGER PRIMARY KEY, v INTEGER, KEY q_v (v))",
            // Without rows: the AUTO_INCREMENT counter differs, the schema does not.
            "CREATE TABLE p (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))",
        ],
    ),
}

#[cfg(feature = "neo4j")]
mod neo4j {
    use super::*;
    use embedded_migrations::neo4rs::Graph;
    use embedded_migrations::testkit::TestDatabase;
    use embedded_migrations::{embed_migrations, CypherMigrations};

    static EXAMPLES: CypherMigrations = embed_migrations!("migrations/neo4j", database = neo4j);
    static WRONG_INDEX: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_wrong_down_index");
    static WRONG_CONSTRAINT: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_wrong_down_constraint");
    static WRONG_LABEL: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_wrong_down_label");

    /// The graph, held alone through the kit's lock
    /// (/tmp/embedded-migrations-neo4j.lock) and wiped.
    async fn open(test: &str) -> Option<TestDatabase<Graph>> {
        let vars = ["NEO4J_TEST_URI", "NEO4J_TEST_USER", "NEO4J_TEST_PASSWORD"].map(|v| std::env::var(v).ok());
        let [Some(uri), Some(user), Some(password)] = vars else {
            support::missing_backend("NEO4J_TEST_URI", test);
            return None;
        };
        Some(
            TestDatabase::neo4j(&uri, &user, &password)
                .await
                .expect("the Neo4j test graph"),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn example_set_reverts() {
        let Some(db) = open("example_set_reverts").await else {
            return;
        };
        super::example_set_reverts(db.pool(), &EXAMPLES).await;
        let snapshot = snapshot(db.pool()).await;
        for object in [
            "constraint user_id",
            "index holds_since",
            "label Sector",
            "relationship type REQUIRES",
        ] {
            assert!(
                snapshot.objects().any(|(key, _)| key == object),
                "{object} missing:\n{snapshot}"
            );
        }
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forgotten_index_is_named() {
        let Some(db) = open("forgotten_index_is_named").await else {
            return;
        };
        wrong_down_is_named(db.pool(), &WRONG_INDEX, 2, "index person_name").await;
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forgotten_constraint_is_named() {
        let Some(db) = open("forgotten_constraint_is_named").await else {
            return;
        };
        wrong_down_is_named(db.pool(), &WRONG_CONSTRAINT, 2, "constraint company_id").await;
        db.close().await.unwrap();
    }

    /// A data migration whose down leaves its nodes behind: the label is
    /// still in use.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forgotten_nodes_are_named_by_label() {
        let Some(db) = open("forgotten_nodes_are_named_by_label").await else {
            return;
        };
        wrong_down_is_named(db.pool(), &WRONG_LABEL, 2, "label Tag").await;
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn manual_change_is_caught() {
        let Some(db) = open("manual_change_is_caught").await else {
            return;
        };
        let change = "CREATE INDEX manual_user_name FOR (u:User) ON (u.name)";
        super::manual_change_is_caught(db.pool(), &EXAMPLES, change, "index manual_user_name").await;
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tracking_is_excluded() {
        let Some(db) = open("tracking_is_excluded").await else {
            return;
        };
        super::tracking_is_excluded(db.pool(), &EXAMPLES, "custom_tracking").await;
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cli_verify() {
        let Some(db) = open("cli_verify").await else { return };
        let code =
            embedded_migrations::cli::from_args(&EXAMPLES, Settings::default(), db.pool(), ["app", "verify", "--yes"])
                .await;
        assert_eq!(code, 0);
        wipe(db.pool()).await;
        let code = embedded_migrations::cli::from_args(
            &WRONG_INDEX,
            Settings::default(),
            db.pool(),
            ["app", "verify", "--yes"],
        )
        .await;
        assert_eq!(code, 2);
        db.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "measurement: run with --ignored --nocapture"]
    async fn measure_cost() {
        let Some(db) = open("measure_cost").await else { return };
        let started = std::time::Instant::now();
        EXAMPLES.verify_reversible(db.pool()).await.expect("verify_reversible");
        println!("neo4j: verify_reversible {:?}", started.elapsed());
        measure_on_migrated("neo4j", db.pool(), &EXAMPLES).await;
        db.close().await.unwrap();
    }

    async fn wipe(graph: &Graph) {
        embedded_migrations::testkit::wipe_neo4j(graph).await.expect("wipe");
        let empty = snapshot(graph).await;
        assert!(built_in_only(&empty), "{empty}");
    }
}
