//! Placeholders on every backend: `${name}` replaced from the settings in
//! statements and literals, `$${` kept as written, the values recorded in
//! the history (a secret one as `***`, nowhere else either), other values
//! on the next deploy not drift, and a missing value refused before the
//! database is touched.

use super::{Lang, SqlTestDb, TestDb, TestLanguage};
use embedded_migrations::{Error, Settings};

const TABLE: &str = "pl_items";

fn settings(owner: &str) -> Settings {
    Settings::default()
        .placeholder("table", TABLE)
        .placeholder("owner", owner)
        .secret_placeholder("token", "s3cr3t-t0ken")
}

async fn notes<D: TestDb>(db: &D, note: &str) -> i64 {
    db.count(&Lang::<D>::count_where(TABLE, "note", note)).await
}

async fn history_holding<D: TestDb>(db: &D, column: &str, text: &str) -> i64 {
    db.count(&Lang::<D>::count_history_holding(column, text)).await
}

pub async fn placeholders_are_substituted_escaped_and_recorded<D: TestDb>(db: &D) {
    let set = Lang::<D>::fixtures().placeholders;
    let ops = set.with(settings("ops"));

    // The dry run shows the text as it will run, the secret as `***`.
    let plan = ops.plan_to(db.pool(), 1).await.expect("plan");
    let statements = plan.steps[0].statements.join("\n");
    assert!(statements.contains("owned by ops"), "{statements}");
    assert!(statements.contains("'${owner} is written so'"), "{statements}");
    assert!(
        statements.contains("'***'") && !statements.contains("s3cr3t"),
        "{statements}"
    );
    assert!(!statements.contains("${table}"), "{statements}");

    ops.run_to(db.pool(), 1).await.expect("the first deploy applies 001");
    assert_eq!(db.rows(TABLE).await, 3);
    assert_eq!(notes(db, "owned by ops").await, 1, "a value in a literal");
    assert_eq!(
        notes(db, "${owner} is written so").await,
        1,
        "`$${{` is a literal `${{`"
    );
    assert_eq!(notes(db, "s3cr3t-t0ken").await, 1, "a secret runs like any value");

    // The history records the values used, the secret as `***`.
    let history = ops.history(db.pool()).await.expect("history");
    assert_eq!(
        history[0].placeholders.as_deref(),
        Some(r#"{"owner": "ops", "table": "pl_items", "token": "***"}"#)
    );
    assert_eq!(history_holding(db, "placeholders", "***").await, 1);

    // The next deploy gives other values: the applied file is not drift
    // (its checksum is the text as written), and 002 runs with them.
    let dev = set.with(settings("dev"));
    dev.validate(db.pool()).await.expect("other values are not drift");
    let report = dev.run_to(db.pool(), 2).await.expect("the next deploy");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    assert_eq!(notes(db, "added for dev").await, 1);
    assert_eq!(notes(db, "owned by ops").await, 1, "001 did not run again");

    // 003 fails, quoting the secret: neither the error nor any history
    // row shows it.
    let err = dev.run(db.pool()).await.expect_err("003 fails");
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, Error::MigrationFailed { version: 3, .. }), "{err:?}");
    assert!(shown.contains("***") && !shown.contains("s3cr3t"), "{shown}");
    for column in ["placeholders", "error", "reason", "name"] {
        assert_eq!(
            history_holding(db, column, "s3cr3t").await,
            0,
            "history column {column}"
        );
    }
    assert!(
        history_holding(db, "error", "***").await >= 1,
        "the failure is recorded, redacted"
    );

    // Down runs its files with the values too.
    dev.down_to(db.pool(), 0).await.expect("down to 0");
    if Lang::<D>::TABLES {
        assert!(!db.tables().await.iter().any(|t| t == TABLE), "the table is dropped");
    } else {
        assert_eq!(db.rows(TABLE).await, 0, "the nodes are deleted");
    }
    let history = dev.history(db.pool()).await.expect("history");
    let last = history.last().expect("a row for the down");
    assert_eq!(
        (last.version, last.placeholders.as_deref()),
        (1, Some(r#"{"table": "pl_items"}"#))
    );
}

pub async fn placeholders_missing_fail_before_anything<D: TestDb>(db: &D) {
    let set = Lang::<D>::fixtures().placeholders;
    let partial = set.with(Settings::default().placeholder("table", TABLE));
    let before = db.tables().await;
    for err in [
        partial.run(db.pool()).await.expect_err("values are missing"),
        partial.plan(db.pool()).await.expect_err("values are missing"),
        partial.down(db.pool(), 1).await.expect_err("values are missing"),
    ] {
        let Error::MissingPlaceholders { missing } = &err else {
            panic!("{err:?}")
        };
        let listed: Vec<(&str, Vec<&str>)> = missing.iter().map(|m| (m.name.as_str(), m.files.clone())).collect();
        let ext = Lang::<D>::fixtures().extension;
        let up = |stem: &str| format!("{stem}.up.{ext}");
        assert_eq!(
            listed,
            [
                (
                    "owner",
                    vec![up("001_create_items").leak() as &str, up("002_add_item").leak()]
                ),
                ("token", vec![up("001_create_items").leak(), up("003_fails").leak()]),
            ]
        );
        assert!(err.to_string().contains("`${owner}`"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
    // Nothing was created: no tracking table (node), no lock, no migration.
    assert_eq!(db.tables().await, before, "the database is as it was");
    assert!(!db
        .tables()
        .await
        .iter()
        .any(|t| t.eq_ignore_ascii_case(Lang::<D>::TRACKING)));
}

/// A history table written by a release before placeholders has no
/// column for them: reads go on without it, and the next run adds it.
pub async fn placeholders_history_of_an_older_release_is_upgraded<D: SqlTestDb>(db: &D) {
    let set = Lang::<D>::fixtures().placeholders;
    let ops = set.with(settings("ops"));
    ops.run_to(db.pool(), 1).await.expect("001");
    db.exec("ALTER TABLE _embedded_migrations_history DROP COLUMN placeholders")
        .await;
    let history = ops.history(db.pool()).await.expect("an older history table reads");
    assert_eq!((history.len(), history[0].placeholders.as_deref()), (1, None));
    ops.run_to(db.pool(), 2).await.expect("002, the column added back");
    let history = ops.history(db.pool()).await.expect("history");
    assert_eq!(
        history[1].placeholders.as_deref(),
        Some(r#"{"owner": "ops", "table": "pl_items"}"#)
    );
    assert_eq!(history_holding(db, "placeholders", "ops").await, 1);
}
