//! Repeatable migrations on every SQL backend: a view and a function (on
//! SQLite, which has no stored functions, a trigger) whose text changes
//! between two builds of the same folder: `v1` and `v2` differ only there.

use super::SqlTestDb;
use embedded_migrations::{MigrationState, Migrations};

fn names(report: &embedded_migrations::Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.name.as_str()).collect()
}

/// `code` counts the stored function (or trigger) saying `{edition}`.
pub async fn follow_their_text<D: SqlTestDb>(db: &D, v1: &Migrations, v2: &Migrations, code: &str) {
    let code = |edition: &str| code.replace("{edition}", edition);
    let view = |edition: &str| format!("SELECT count(*) FROM a_view WHERE edition = '{edition}'");
    assert_eq!(v1.repeatables().len(), 2, "the premise: two repeatable files");
    assert_ne!(
        v1.repeatables()[1].checksum(),
        v2.repeatables()[1].checksum(),
        "the premise: the two builds differ"
    );

    // First run: the versioned migration, then the repeatables in name order.
    let report = v1.run(db.pool()).await.expect("first run");
    assert_eq!(names(&report), ["create_a", "a_code", "a_view"]);
    assert_eq!((db.count(&view("v1")).await, db.count(&code("v1")).await), (1, 1));
    // The state row sums up the three rows, the repeatables included, which
    // is what the boot check compares (tests/engine.rs counts its queries).
    assert_eq!(
        db.count("SELECT applied_count FROM _embedded_migrations_state").await,
        3
    );
    assert!(v1.run(db.pool()).await.expect("boot").is_empty(), "nothing changed");
    let status = v1.validate(db.pool()).await.expect("valid");
    assert!(status.is_up_to_date());
    assert_eq!(status.current_version(), 1, "a repeatable key is not a version");
    assert_eq!(
        status
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.repeatable))
            .collect::<Vec<_>>(),
        [("create_a", false), ("a_code", true), ("a_view", true)]
    );

    // The next build: its repeatables changed, so they are pending, planned
    // with their new text, valid (not drift), and applied again in place.
    let status = v2.validate(db.pool()).await.expect("a changed repeatable is not drift");
    assert_eq!(status.count(MigrationState::Pending), 2);
    let plan = v2.plan(db.pool()).await.expect("plan");
    assert_eq!(
        plan.steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["a_code", "a_view"]
    );
    assert!(
        plan.steps[1].statements.iter().any(|s| s.contains("'v2'")),
        "{:?}",
        plan.steps[1]
    );
    let report = v2.run(db.pool()).await.expect("second build");
    assert_eq!(names(&report), ["a_code", "a_view"]);
    assert_eq!((db.count(&view("v2")).await, db.count(&code("v2")).await), (1, 1));
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations").await,
        3,
        "rows replaced, not added"
    );
    assert!(v2.run(db.pool()).await.expect("boot").is_empty());
    assert!(v2.validate(db.pool()).await.expect("valid").is_up_to_date());
    let history = v2.history(db.pool()).await.expect("history");
    assert_eq!(history.len(), 5);

    // `down` reverts versioned migrations only: a repeatable has no down file.
    let plan = v2.plan_down(db.pool(), 1).await.expect("plan down");
    assert_eq!(plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1]);

    // `migrate forget` takes a repeatable by the name `status` lists, or by
    // its negative key (which a parser of flags would take for one).
    let migrate = |args: &[&str]| {
        let all: Vec<String> = ["app"].iter().chain(args).map(|a| a.to_string()).collect();
        embedded_migrations::cli::from_args(v2, embedded_migrations::Settings::default(), db.pool(), all)
    };
    assert_eq!(migrate(&["forget", "a_view"]).await, 0, "forget by name");
    let key = v2.repeatables()[0].version.to_string();
    assert!(key.starts_with('-'), "the premise: a negative key, {key}");
    assert_eq!(migrate(&["forget", &key]).await, 0, "forget by key");
    assert_eq!(migrate(&["forget", "no_such_view"]).await, 2);
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations").await,
        1,
        "both repeatables' rows removed, the versioned one kept"
    );
}

/// The test `repeatable_migrations_follow_their_text` for `$db`: the two
/// builds `$v1` and `$v2` (fixture folders) and `$code`, the query counting
/// the stored function (or trigger) saying `{edition}`.
#[macro_export]
macro_rules! repeatable_scenario {
    ($db:ty, $v1:tt, $v2:tt, $code:expr) => {
        /// A view and a function (SQLite: a trigger) as repeatable migrations,
        /// their text changed between two builds.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn repeatable_migrations_follow_their_text() {
            static V1: embedded_migrations::Migrations = embedded_migrations::embed_migrations!($v1);
            static V2: embedded_migrations::Migrations = embedded_migrations::embed_migrations!($v2);
            let Some(db) = <$db as $crate::support::TestDb>::fresh("repeatables").await else {
                return;
            };
            $crate::support::repeatable::follow_their_text(&db, &V1, &V2, $code).await;
        }
    };
}
