//! Rust code migrations on the SQL servers: each backend's test file
//! instantiates these with its own fixture sets (`code_scenarios!`), since a
//! code migration is typed to its database. Each set is `001` SQL, `002` a
//! Rust file, `003` SQL.

use crate::support::TestDb;
use embedded_migrations::backend::Database;
use embedded_migrations::{Error, Migrations, Settings, Sql, Tool};
use std::time::Duration;

/// One backend's code migration sets.
pub struct CodeSets {
    /// 002 fills `items` in Rust; its down empties it.
    pub good: &'static Migrations,
    /// `good` with 002's source edited (a comment added).
    pub edited: &'static Migrations,
    /// 002 writes a row, then returns an error.
    pub failing: &'static Migrations,
    /// 002 writes a row, then panics.
    pub panicking: &'static Migrations,
}

/// Applied in its place between two SQL files, shown in the plan as code,
/// reverted by down, and an edit after it was applied is drift.
pub async fn applies_in_order_reverts_and_drifts<D: TestDb<Pool: Database<Language = Sql>>>(db: &D, sets: &CodeSets) {
    let plan = sets.good.plan(db.pool()).await.expect("plan");
    let step = &plan.steps[1];
    assert!(step.code, "{step:?}");
    assert_eq!(step.file, "002_fill_items.rs");
    assert!(step.statements.is_empty(), "no SQL to show: {step:?}");

    let report = sets.good.run(db.pool()).await.expect("run");
    let versions: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [1, 2, 3], "in the folder's order");
    assert_eq!(
        db.count("SELECT count(*) FROM items WHERE name IN ('ALPHA', 'BETA')")
            .await,
        2
    );
    assert_eq!(
        db.count("SELECT count(*) FROM items WHERE note IS NULL").await,
        2,
        "003 ran after the rows were written"
    );
    sets.good.validate(db.pool()).await.expect("recorded clean");
    let history = sets.good.history(db.pool()).await.expect("history");
    assert!(history.iter().any(|h| h.version == 2 && h.success), "{history:?}");

    sets.good
        .down(db.pool(), 2)
        .await
        .expect("down reverts 003 and the code migration");
    assert_eq!(db.rows("items").await, 0, "its down function ran");
    assert_eq!(db.tracking_records().await, 1);

    sets.good.run(db.pool()).await.expect("applies again");
    let err = sets
        .edited
        .run(db.pool())
        .await
        .expect_err("an edited code migration is drift");
    assert!(matches!(err, Error::Drift { version: 2, .. }), "{err}");
    assert!(err.to_string().contains("002_fill_items.rs"), "{err}");
}

/// An error from the function comes back naming the migration, its source
/// kept; its write is rolled back, and with it the record where the
/// database can (elsewhere the migration is left dirty).
pub async fn a_failure_rolls_back_its_writes<D: TestDb<Pool: Database<Language = Sql>>>(db: &D, sets: &CodeSets) {
    let err = sets.failing.run(db.pool()).await.expect_err("002 fails");
    let Error::CodeFailed {
        version: 2,
        panicked: false,
        rolled_back,
        ref message,
        ref file,
        ..
    } = *err.cause()
    else {
        panic!("expected the code migration's failure, got {err:?}")
    };
    assert_eq!(file, "002_fill_items.rs");
    assert!(message.contains("stopped halfway on purpose"), "{err}");
    let source = std::error::Error::source(err.cause()).expect("the function's error is the source");
    assert_eq!(source.to_string(), "stopped halfway on purpose");
    assert_eq!(db.rows("items").await, 0, "the function's write was rolled back");
    assert_eq!(rolled_back, D::TRANSACTIONAL_DDL, "{err}");
    settle(db, sets).await;
}

/// A panic inside `up` fails the migration like an error: the lock is
/// released (a second run does not wait for it), nothing is recorded
/// applied, and once the code is fixed the next run applies.
pub async fn a_panic_leaves_no_lock_and_no_record<D: TestDb<Pool: Database<Language = Sql>>>(db: &D, sets: &CodeSets) {
    let err = sets.panicking.run(db.pool()).await.expect_err("002 panics");
    let Error::CodeFailed {
        version: 2,
        panicked: true,
        ref message,
        ..
    } = *err.cause()
    else {
        panic!("expected the code migration's panic, got {err:?}")
    };
    assert!(message.contains("a bug in the migration"), "{err}");
    assert_eq!(db.rows("items").await, 0, "the function's write was rolled back");
    let short = Settings::default().lock_timeout(Duration::from_secs(5));
    let again = sets
        .panicking
        .with(short)
        .run(db.pool())
        .await
        .expect_err("still panics");
    assert!(
        !matches!(again.cause(), Error::LockTimeout { .. }),
        "the lock was released: {again}"
    );
    settle(db, sets).await;
}

/// Group mode (every pending migration in one transaction) takes a code
/// migration in its place: applied with the SQL around it; a failing one
/// takes the whole group back, 001 included. MySQL, whose DDL commits
/// implicitly, has no group mode and says so.
pub async fn group_mode_runs_code_in_the_one_transaction<D: TestDb<Pool: Database<Language = Sql>>>(
    db: &D,
    sets: &CodeSets,
) {
    let group = Settings::default().group(true);
    let failed = sets.failing.with(group.clone()).run(db.pool()).await;
    if !D::GROUP_MODE {
        let err = failed.expect_err("no group mode on MySQL");
        assert!(matches!(err.cause(), Error::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("group mode"), "{err}");
        return;
    }
    let err = failed.expect_err("002 fails inside the group");
    assert!(
        matches!(
            err.cause(),
            Error::CodeFailed {
                version: 2,
                rolled_back: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(db.tracking_records().await, 0, "the group rolled back as one: 001 too");
    let report = sets.good.with(group).run(db.pool()).await.expect("the group applies");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(db.rows("items").await, 2, "the function ran in the group");
    assert_eq!(
        db.count("SELECT count(*) FROM items WHERE note IS NULL").await,
        2,
        "003 ran after it"
    );
    sets.good.validate(db.pool()).await.expect("recorded clean");
    let history = sets.good.history(db.pool()).await.expect("history");
    assert!(history.iter().any(|h| h.version == 2 && h.success), "{history:?}");
}

/// A database that refinery migrated up to a Rust migration (refinery has
/// them too: `V2__fill_items.rs`) is adopted by `import`: the code
/// migration is recorded with this binary's checksum and never run again;
/// the run applies only 003, and `down` runs its `down` function.
pub async fn import_records_a_code_migration_without_running_it<D: TestDb<Pool: Database<Language = Sql>>>(
    db: &D,
    sets: &CodeSets,
) {
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)")
        .await;
    db.exec("INSERT INTO items (id, name) VALUES (1, 'ALPHA'), (2, 'BETA')")
        .await;
    db.exec(
        "CREATE TABLE refinery_schema_history(version INT PRIMARY KEY, name VARCHAR(255), \
         applied_on VARCHAR(255), checksum VARCHAR(255))",
    )
    .await;
    db.exec(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES \
         (1, 'create_items', '2024-01-01T00:00:00Z', '1'), (2, 'fill_items', '2024-01-01T00:00:01Z', '2')",
    )
    .await;
    let adoption = sets.good.import(db.pool(), Tool::Refinery).await.expect("import");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 2]);
    // Had 002's `up` run again, its inserts would have hit the primary key.
    let report = sets.good.run(db.pool()).await.expect("run");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert_eq!(db.rows("items").await, 2);
    sets.good
        .validate(db.pool())
        .await
        .expect("recorded with this binary's checksum");
    sets.good
        .down(db.pool(), 2)
        .await
        .expect("down reverts 003 and the code migration");
    assert_eq!(db.rows("items").await, 0, "its down function ran");
}

/// After a failure of 002: nothing of it applied, and the fixed set
/// applies. Where the migration was left dirty (MySQL), the next run says
/// so until `forget` clears it (its transaction rolled back: nothing of it
/// stayed).
async fn settle<D: TestDb<Pool: Database<Language = Sql>>>(db: &D, sets: &CodeSets) {
    if D::TRANSACTIONAL_DDL {
        assert_eq!(db.tracking_records().await, 1, "only 001 recorded");
    } else {
        let err = sets.good.run(db.pool()).await.expect_err("left dirty");
        assert!(matches!(err.cause(), Error::Dirty { version: 2, .. }), "{err}");
        sets.good.forget(db.pool(), 2).await.expect("forget");
    }
    let report = sets.good.run(db.pool()).await.expect("the fixed set applies");
    assert_eq!(report.steps.len(), 2);
    assert_eq!(db.rows("items").await, 2);
}

/// Instantiates the scenarios above for `$db`, with its fixture sets
/// `tests/fixtures/code_<db>{,_edited,_failing,_panicking}`.
#[macro_export]
macro_rules! code_scenarios {
    ($db:ty, $database:ident, $good:literal, $edited:literal, $failing:literal, $panicking:literal) => {
        mod code_migrations {
            use super::*;
            use servers::code::{self, CodeSets};

            static GOOD: Migrations = embed_migrations!($good, database = $database);
            static EDITED: Migrations = embed_migrations!($edited, database = $database);
            static FAILING: Migrations = embed_migrations!($failing, database = $database);
            static PANICKING: Migrations = embed_migrations!($panicking, database = $database);
            static SETS: CodeSets = CodeSets {
                good: &GOOD,
                edited: &EDITED,
                failing: &FAILING,
                panicking: &PANICKING,
            };

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_code_migration_applies_in_order_reverts_and_drifts() {
                let Some(db) = <$db as support::TestDb>::fresh("code_applies").await else {
                    return;
                };
                code::applies_in_order_reverts_and_drifts(&db, &SETS).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failing_code_migration_rolls_back_its_writes() {
                let Some(db) = <$db as support::TestDb>::fresh("code_fails").await else {
                    return;
                };
                code::a_failure_rolls_back_its_writes(&db, &SETS).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_panicking_code_migration_leaves_no_lock_and_no_record() {
                let Some(db) = <$db as support::TestDb>::fresh("code_panics").await else {
                    return;
                };
                code::a_panic_leaves_no_lock_and_no_record(&db, &SETS).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn import_records_a_code_migration_without_running_it() {
                let Some(db) = <$db as support::TestDb>::fresh("code_import").await else {
                    return;
                };
                code::import_records_a_code_migration_without_running_it(&db, &SETS).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn group_mode_runs_a_code_migration_in_the_one_transaction() {
                let Some(db) = <$db as support::TestDb>::fresh("code_group").await else {
                    return;
                };
                code::group_mode_runs_code_in_the_one_transaction(&db, &SETS).await;
            }
        }
    };
}
