//! Other tools' folders read as they are (`layout = "diesel"`,
//! `layout = "refinery"`) on every SQL backend: applied and reverted, and
//! imported from the tool's own history table, built by hand as the tool
//! builds it, after which a boot has nothing to do and status and history
//! show the names the tool wrote. Instantiated per backend by
//! `layout_scenarios!`.

use super::adoption::{diesel_history, refinery_history};
use super::SqlTestDb;
use embedded_migrations::{embed_migrations, Direction, Migrations, Tool};

/// diesel's folders: `00000000000000_diesel_initial_setup` (diesel's 0,
/// version 1 here), `2024-01-01-000000_create_a`, `2024-01-02-000000_create_b`
/// and `20240103000000_seed_a`, whose `metadata.toml` says
/// `run_in_transaction = false`.
static DIESEL: Migrations = embed_migrations!("tests/fixtures/diesel_layout", layout = "diesel");

/// refinery's files: `V1__create_a.sql`, `archive/V2__create_b.sql` and
/// `U3__seed_a.sql` (`-- refinery:noTransaction`, irreversible), each with
/// a `.down.sql` of ours.
static REFINERY: Migrations = embed_migrations!("tests/fixtures/refinery_layout", layout = "refinery");

const DIESEL_NAMES: [&str; 4] = [
    "00000000000000_diesel_initial_setup",
    "2024-01-01-000000_create_a",
    "2024-01-02-000000_create_b",
    "20240103000000_seed_a",
];
const DIESEL_VERSIONS: [i64; 4] = [1, 20240101000000, 20240102000000, 20240103000000];

/// Rows of our tracking table (`_history`: of its history table) naming `name`.
async fn recorded_as<D: SqlTestDb>(db: &D, table: &str, name: &str) -> i64 {
    db.count(&format!("SELECT count(*) FROM {table} WHERE name = '{name}'"))
        .await
}

pub async fn diesel_folder_applies_and_reverts<D: SqlTestDb>(db: &D) {
    let no_transaction: Vec<bool> = DIESEL.migrations().iter().map(|m| m.up.no_transaction).collect();
    assert_eq!(
        no_transaction,
        [false, false, false, true],
        "metadata.toml maps to no-transaction"
    );

    let report = DIESEL.run(db.pool()).await.expect("run");
    let steps: Vec<(i64, &str)> = report.steps.iter().map(|s| (s.version, s.name.as_str())).collect();
    assert_eq!(steps, DIESEL_VERSIONS.into_iter().zip(DIESEL_NAMES).collect::<Vec<_>>());
    assert_eq!(db.rows("a").await, 2);
    assert!(DIESEL.run(db.pool()).await.expect("boot").is_empty());
    for name in DIESEL_NAMES {
        assert_eq!(recorded_as(db, "_embedded_migrations", name).await, 1, "{name}");
    }

    let down = DIESEL.down_to(db.pool(), 0).await.expect("down to 0");
    assert_eq!(down.steps.len(), 4);
    assert!(!db
        .tables()
        .await
        .iter()
        .any(|t| t == "a" || t == "b" || t == "setup_done"));
    let history = DIESEL.history(db.pool()).await.expect("history");
    let reverted: Vec<&str> = history
        .iter()
        .filter(|h| h.direction == Direction::Down)
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(
        reverted,
        [DIESEL_NAMES[3], DIESEL_NAMES[2], DIESEL_NAMES[1], DIESEL_NAMES[0]]
    );
}

/// A database diesel migrated: its tables, and `__diesel_schema_migrations`
/// as diesel creates and fills it (diesel_migrations'
/// setup_migration_table.sql: the version as text, the folder's digits, and
/// `run_on`; `diesel setup`'s folder is `00000000000000`).
pub async fn diesel_database_imports_and_boots_with_nothing_pending<D: SqlTestDb>(db: &D) {
    db.exec("CREATE TABLE setup_done (id INTEGER PRIMARY KEY)").await;
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(50))").await;
    db.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER)").await;
    db.exec("INSERT INTO a (id, v) VALUES (1, 'one')").await;
    db.exec("INSERT INTO a (id, v) VALUES (2, 'two')").await;
    diesel_history(
        db,
        &["00000000000000", "20240101000000", "20240102000000", "20240103000000"],
    )
    .await;

    let adoption = DIESEL.import(db.pool(), Tool::Diesel).await.expect("import");
    let recorded: Vec<(i64, &str, &str)> = adoption
        .recorded
        .iter()
        .map(|m| (m.version, m.name.as_str(), m.checksum.as_str()))
        .collect();
    let checksums: Vec<String> = DIESEL.migrations().iter().map(|m| m.checksum().to_hex()).collect();
    let embedded: Vec<(i64, &str, &str)> = DIESEL
        .migrations()
        .iter()
        .zip(&checksums)
        .map(|(m, sum)| (m.version, m.name, sum.as_str()))
        .collect();
    assert_eq!(recorded, embedded, "the import records what the binary carries");
    assert_eq!(
        embedded.iter().map(|m| m.1).collect::<Vec<_>>(),
        DIESEL_NAMES,
        "names as diesel wrote them"
    );

    let boot = DIESEL.run(db.pool()).await.expect("boot after the import");
    assert!(boot.is_empty(), "nothing pending: {:?}", boot.steps);
    assert_eq!(db.rows("a").await, 2, "the seed did not run again");
    let status = DIESEL.validate(db.pool()).await.expect("validate");
    assert!(status.is_up_to_date());
    let shown: Vec<(&str, bool)> = status
        .entries
        .iter()
        .map(|e| (e.name.as_str(), e.baseline.is_some()))
        .collect();
    assert_eq!(shown, DIESEL_NAMES.map(|name| (name, true)));
    for name in DIESEL_NAMES {
        assert_eq!(recorded_as(db, "_embedded_migrations", name).await, 1, "{name}");
        assert_eq!(recorded_as(db, "_embedded_migrations_history", name).await, 1, "{name}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM __diesel_schema_migrations").await,
        4,
        "diesel's table stays"
    );
}

pub async fn refinery_folder_applies<D: SqlTestDb>(db: &D) {
    let shown: Vec<(i64, &str, &str, bool)> = REFINERY
        .migrations()
        .iter()
        .map(|m| (m.version, m.name, m.up.file, m.up.no_transaction))
        .collect();
    assert_eq!(
        shown,
        [
            (1, "create_a", "V1__create_a.sql", false),
            (2, "create_b", "archive/V2__create_b.sql", false),
            (3, "seed_a", "U3__seed_a.sql", true),
        ]
    );
    let report = REFINERY.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(db.rows("a").await, 2);
    assert!(REFINERY.migrations()[2].irreversible);
    REFINERY
        .down_to(db.pool(), 2)
        .await
        .expect_err("U3__seed_a.down.sql says irreversible");
    assert_eq!(db.rows("a").await, 2);
}

/// A database refinery migrated to version 2: refinery_schema_history as
/// refinery_core creates and fills it (ASSERT_MIGRATIONS_TABLE_QUERY,
/// insert_migration_query).
pub async fn refinery_database_imports_then_runs_only_the_new<D: SqlTestDb>(db: &D) {
    db.exec("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(50))").await;
    db.exec("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER)").await;
    refinery_history(db, &[(1, "create_a"), (2, "create_b")]).await;
    let adoption = REFINERY.import(db.pool(), Tool::Refinery).await.expect("import");
    let recorded: Vec<(i64, &str)> = adoption.recorded.iter().map(|m| (m.version, m.name.as_str())).collect();
    assert_eq!(
        recorded,
        [(1, "create_a"), (2, "create_b")],
        "names as refinery recorded them"
    );
    let report = REFINERY.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert!(REFINERY.run(db.pool()).await.expect("boot").is_empty());
    let status = REFINERY.validate(db.pool()).await.expect("validate");
    assert_eq!(
        status.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["create_a", "create_b", "seed_a"]
    );
    for name in ["create_a", "create_b"] {
        assert_eq!(recorded_as(db, "_embedded_migrations", name).await, 1, "{name}");
    }
}

/// Instantiates the layout scenarios for `$db`.
#[macro_export]
macro_rules! layout_scenarios {
    ($db:ty) => {
        mod layouts {
            use super::*;
            use $crate::support::{layouts, TestDb};

            async fn fresh(test: &str) -> Option<$db> {
                <$db as TestDb>::fresh(test).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn diesel_folder_applies_and_reverts() {
                let Some(db) = fresh("diesel_layout_applies").await else {
                    return;
                };
                layouts::diesel_folder_applies_and_reverts(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn diesel_database_imports_and_boots_with_nothing_pending() {
                let Some(db) = fresh("diesel_layout_import").await else {
                    return;
                };
                layouts::diesel_database_imports_and_boots_with_nothing_pending(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn refinery_folder_applies() {
                let Some(db) = fresh("refinery_layout_applies").await else {
                    return;
                };
                layouts::refinery_folder_applies(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn refinery_database_imports_then_runs_only_the_new() {
                let Some(db) = fresh("refinery_layout_import").await else {
                    return;
                };
                layouts::refinery_database_imports_then_runs_only_the_new(&db).await;
            }
        }
    };
}
