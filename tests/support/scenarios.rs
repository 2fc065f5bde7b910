//! The Foundation's runtime rules, written once for every backend; the
//! fixture folders are the database language's (`TestLanguage`).

use super::fixtures::{Fixtures, BASE};
use super::{Lang, SqlTestDb, TestDb, TestLanguage};
use embedded_migrations::{embed_migrations, Direction, Error, MigrationState, Migrations, Settings};

/// 002 writes rows over several lines and statements (comments with `;`
/// in them, a line comment right before a `;`), then fails at line 10 on a
/// duplicate key, before one more statement; 003 creates `f`. (Here, not
/// in fixtures.rs, which tests/engine.rs shares without using it.)
static FAILING_BATCH: Migrations = embed_migrations!("tests/fixtures/failing_batch");

/// Another application's migrations: 001 create_orders, 002 create_order_lines.
static OTHER_APP: Migrations = embed_migrations!("tests/fixtures/other_app");

/// A group of four whose third migration fails at its line 5 on a
/// duplicate key; the first two create and fill tables.
static FAILING_GROUP: Migrations = embed_migrations!("tests/fixtures/failing_group");

/// Four migrations, the second of which takes a while (a recursive CTE
/// filling a table): a group's durations are each migration's own.
static TIMED_GROUP: Migrations = embed_migrations!("tests/fixtures/timed_group");

/// The default tracking table, read by hand in the SQL-only scenarios.
const TRACKING: &str = "_embedded_migrations";

fn fixtures<D: TestDb>() -> &'static Fixtures<Lang<D>> {
    Lang::<D>::fixtures()
}

fn has(tables: &[String], name: &str) -> bool {
    tables.iter().any(|t| t.eq_ignore_ascii_case(name))
}

async fn versions<D: TestDb>(db: &D) -> Vec<i64> {
    let f = fixtures::<D>();
    f.base
        .status(db.pool())
        .await
        .expect("status")
        .entries
        .iter()
        .filter(|e| e.state != MigrationState::Pending)
        .map(|e| e.version)
        .collect()
}

pub async fn applies_in_order_then_nothing<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let report = f.base.run(db.pool()).await.expect("first run applies everything");
    let applied: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(applied, [1, 2, 3]);
    assert!(report.steps.iter().all(|s| s.direction == Direction::Up));
    let tables = db.tables().await;
    assert!(has(&tables, "a") && has(&tables, "b"), "{tables:?}");
    assert_eq!(db.rows("a").await, 2);
    assert_eq!(db.tracking_records().await, 3);

    let again = f.base.run(db.pool()).await.expect("second run");
    assert!(again.is_empty(), "a second run applies nothing: {again:?}");

    let status = f.base.status(db.pool()).await.expect("status");
    assert!(status.is_up_to_date());
    assert_eq!(
        (
            status.current_version(),
            status.latest_version(),
            status.pending_count()
        ),
        (3, 3, 0)
    );
    assert_eq!(status.entries[0].description.as_deref(), Some("Table a"));
    assert!(status.entries.iter().all(|e| e.applied_at.is_some()));
    f.base
        .validate(db.pool())
        .await
        .expect("validate passes on a clean database");

    let history = f.base.history(db.pool()).await.expect("history");
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|h| h.success && h.direction == Direction::Up));
}

pub async fn drift_stops_the_run_before_anything_is_applied<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("run");
    let err = f
        .drifted
        .run(db.pool())
        .await
        .expect_err("an edited applied migration is drift");
    match &err {
        Error::Drift {
            version,
            file,
            recorded,
            embedded,
            ..
        } => {
            assert_eq!(*version, 2);
            assert_eq!(*file, f.file("002_create_b.up"));
            assert_ne!(recorded, embedded);
        }
        other => panic!("expected drift, got {other}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&f.file("002_create_b.up")) && message.contains("changed after it was applied"),
        "{message}"
    );
    assert!(!has(&db.tables().await, "d"), "004 must not run when drift is found");
    let status = f.drifted.status(db.pool()).await.expect("status");
    assert_eq!(status.entries[1].state, MigrationState::Drifted);
    assert_eq!(status.entries[3].state, MigrationState::Pending);
}

/// An older binary (001) on a database a newer release took to 003 is
/// *ahead*: refused by default naming 002 and 003, accepted with
/// `allow_ahead`. A binary lacking 002 inside its range (001, 003) is
/// *missing*, which `allow_ahead` does not accept.
pub async fn migrations_missing_from_the_binary<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("run");
    let err = f
        .short
        .run(db.pool())
        .await
        .expect_err("an older binary refuses by default");
    match &err {
        Error::Ahead { latest, migrations } => {
            assert_eq!(*latest, 1);
            assert_eq!(migrations.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [2, 3]);
        }
        other => panic!("expected ahead, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("ahead of this binary") && text.contains("allow_ahead"),
        "{text}"
    );
    let validate = f.short.validate(db.pool()).await.expect_err("validate says ahead too");
    assert!(
        matches!(&validate, Error::Invalid { problems } if matches!(problems[..], [Error::Ahead { .. }])),
        "{validate}"
    );
    let report = f
        .short
        .with(Settings::default().allow_ahead(true))
        .run(db.pool())
        .await
        .expect("allowed for a rolling deploy");
    assert!(report.is_empty());
    let report = f
        .short
        .with(Settings::default().allow_missing(true))
        .run(db.pool())
        .await
        .expect("allow_missing accepts everything unknown");
    assert!(report.is_empty());
    let status = f.short.status(db.pool()).await.expect("status");
    let states: Vec<_> = status.entries.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            MigrationState::Applied,
            MigrationState::Missing,
            MigrationState::Missing
        ]
    );

    // 002 deleted from a binary that still has 003: missing, even with allow_ahead.
    let err = f
        .gapped
        .with(Settings::default().allow_ahead(true))
        .run(db.pool())
        .await
        .expect_err("a gap is not ahead");
    match &err {
        Error::MissingInBinary { migrations } => {
            assert_eq!(migrations.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [2]);
        }
        other => panic!("expected missing, got {other}"),
    }
}

pub async fn out_of_order_migrations<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.gapped.run(db.pool()).await.expect("run 001 and 003");
    let err = f
        .base
        .run(db.pool())
        .await
        .expect_err("002 below 003 is refused by default");
    match &err {
        Error::OutOfOrder {
            version,
            highest_applied,
            file,
            ..
        } => {
            assert_eq!((*version, *highest_applied), (2, 3));
            assert_eq!(*file, f.file("002_create_b.up"));
        }
        other => panic!("expected out of order, got {other}"),
    }
    assert!(!has(&db.tables().await, "b"));
    let report = f
        .base
        .with(Settings::default().allow_out_of_order(true))
        .run(db.pool())
        .await
        .expect("allowed");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    assert!(has(&db.tables().await, "b"));
    // Once everything is applied the normal boot check is satisfied again.
    assert!(f.base.run(db.pool()).await.expect("run").is_empty());
    f.base.validate(db.pool()).await.expect("valid");
}

pub async fn failure_midway_rolls_back_and_is_not_recorded<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let err = f.failing.run(db.pool()).await.expect_err("002 fails");
    // The run applied 001 before 002 failed: the error says so, by API and
    // in its text, as the report of a successful run would have.
    let Error::Incomplete { applied, error } = &err else {
        panic!("expected the failure with the report of 001, got {err:?}");
    };
    let done: Vec<(i64, Direction)> = applied.steps.iter().map(|s| (s.version, s.direction)).collect();
    assert_eq!(done, [(1, Direction::Up)]);
    assert_eq!(err.applied().len(), 1);
    assert!(std::ptr::eq(err.cause(), &**error));
    match err.cause() {
        Error::MigrationFailed {
            version,
            file,
            statement,
            line,
            message,
            source,
            ..
        } => {
            assert_eq!(*version, 2);
            assert_eq!(*file, f.file("002_create_c_then_fail.up"));
            assert!(statement.contains("missing_table"), "{statement}");
            assert_eq!(*line, 2);
            assert!(!message.is_empty());
            // The driver's own error is kept, reachable by `source()`.
            let source = source.as_ref().expect("the driver's error is kept");
            assert!(D::driver_error(&***source), "{source:?}");
            let chained = std::error::Error::source(err.cause()).expect("source() gives it");
            assert!(D::driver_error(chained), "{chained:?}");
        }
        other => panic!("expected a failed migration, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("migration 2") && text.contains(f.failing_statement),
        "{text}"
    );
    assert!(
        text.contains("applied in this run before the failure, and kept: 1 (create_a)"),
        "{text}"
    );
    let tables = db.tables().await;
    assert!(has(&tables, "a"), "001 stays applied");
    assert!(!has(&tables, "d"), "003 never ran");
    let status = f.failing.status(db.pool()).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Applied);
    let history = f.failing.history(db.pool()).await.expect("history");
    let failure = history
        .iter()
        .find(|h| h.version == 2)
        .expect("the failure is in history");
    assert!(!failure.success);
    assert!(failure.error.as_deref().unwrap_or_default().contains("missing_table"));
    if D::TRANSACTIONAL_DDL {
        assert!(!has(&tables, "c"), "the failed migration's CREATE TABLE is rolled back");
        assert_eq!(status.entries[1].state, MigrationState::Pending);
        assert_eq!(db.tracking_records().await, 1);
    } else {
        assert_eq!(
            status.entries[1].state,
            MigrationState::Dirty,
            "a half-applied migration is dirty"
        );
        let again = f
            .failing
            .run(db.pool())
            .await
            .expect_err("a dirty migration stops the next run");
        assert!(matches!(again, Error::Dirty { version: 2, .. }), "{again}");
    }
}

/// Where a migration's statements are sent to the database at once
/// (transactional files on SQLite and PostgreSQL), a failure is still named
/// as precisely as when they go one by one: the migration, the statement,
/// the line it starts on and the database's own message; and nothing of the
/// migration, its statements or its tracking row, is left behind. Group mode
/// (one batch for every pending migration) names it the same way.
pub async fn batched_failure_names_its_statement_and_line<D: SqlTestDb>(db: &D) {
    let check = |err: &Error| match err.cause() {
        Error::MigrationFailed {
            version,
            file,
            statement,
            line,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(*version, 2, "{err}");
            assert_eq!(*file, "002_fill_a_then_fail.up.sql");
            assert_eq!(
                &**statement, "INSERT INTO a (id, v)\n  VALUES (1, 'duplicate')",
                "{err}"
            );
            assert_eq!(*line, 10, "{err}");
            let lower = message.to_lowercase();
            assert!(lower.contains("unique") || lower.contains("duplicate"), "{message}");
            assert_eq!(*rolled_back, D::TRANSACTIONAL_DDL, "{err}");
        }
        other => panic!("expected a failed migration, got {other}"),
    };
    if D::TRANSACTIONAL_DDL {
        let group = FAILING_BATCH
            .with(Settings::default().group(true))
            .run(db.pool())
            .await
            .expect_err("002 fails in the group");
        check(&group);
        let tables = db.tables().await;
        assert!(!has(&tables, "a") && !has(&tables, "e"), "the group left {tables:?}");
    }
    let err = FAILING_BATCH.run(db.pool()).await.expect_err("002 fails");
    check(&err);
    let tables = db.tables().await;
    assert!(has(&tables, "a"), "001 stays applied");
    assert!(!has(&tables, "f"), "003 never ran");
    let history = FAILING_BATCH.history(db.pool()).await.expect("history");
    let failure = history
        .iter()
        .rev()
        .find(|h| h.version == 2)
        .expect("the failure is in history");
    assert!(!failure.success);
    let status = FAILING_BATCH.status(db.pool()).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Applied);
    if D::TRANSACTIONAL_DDL {
        assert_eq!(
            db.count(&format!("SELECT count(*) FROM {TRACKING}")).await,
            1,
            "only 001 is recorded"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM a").await,
            0,
            "002's rows are rolled back"
        );
        assert!(!has(&tables, "e"), "002's CREATE TABLE is rolled back");
        assert_eq!(status.entries[1].state, MigrationState::Pending);
        assert_eq!((status.applied_count(), status.current_version()), (1, 1));
        assert_eq!(
            db.count(&format!("SELECT applied_count FROM {TRACKING}_state")).await,
            1,
            "the state row is 001's"
        );
    } else {
        // Statement by statement in autocommit: what ran before the failure
        // stays, and the migration is marked dirty.
        assert_eq!(db.count("SELECT count(*) FROM a").await, 3);
        assert_eq!(status.entries[1].state, MigrationState::Dirty);
    }
}

/// A group is one batch: when its third migration fails, the error names
/// that migration, the statement and its line with the database's message,
/// and nothing of the group stays (tables, rows, tracking rows, state);
/// the failure is in history. Where DDL is not transactional, group mode
/// is refused before anything runs.
pub async fn a_group_whose_third_migration_fails_names_it_and_leaves_nothing<D: SqlTestDb>(db: &D) {
    let group = FAILING_GROUP.with(Settings::default().group(true));
    let err = group.run(db.pool()).await.expect_err("003 fails");
    if !D::GROUP_MODE {
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(!has(&db.tables().await, "g1"), "nothing ran");
        return;
    }
    match &err {
        Error::MigrationFailed {
            version,
            file,
            statement,
            line,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(*version, 3, "{err}");
            assert_eq!(*file, "003_create_g3_then_fail.up.sql");
            assert_eq!(&**statement, "INSERT INTO g3 (id)\n  VALUES (1)", "{err}");
            assert_eq!(*line, 5, "{err}");
            let lower = message.to_lowercase();
            assert!(lower.contains("unique") || lower.contains("duplicate"), "{message}");
            assert!(*rolled_back, "{err}");
        }
        other => panic!("expected 003 to fail, got {other}"),
    }
    let tables = db.tables().await;
    for table in ["g1", "g2", "g3", "g3_after", "g4"] {
        assert!(!has(&tables, table), "{table} stayed: {tables:?}");
    }
    assert_eq!(db.count(&format!("SELECT count(*) FROM {TRACKING}")).await, 0);
    assert_eq!(
        db.count(&format!("SELECT applied_count FROM {TRACKING}_state")).await,
        0
    );
    let history = group.history(db.pool()).await.expect("history");
    assert!(history.iter().all(|h| !h.success), "no success recorded: {history:?}");
    assert!(
        history.iter().any(|h| h.version == 3),
        "the failure is in history: {history:?}"
    );
    let status = group.status(db.pool()).await.expect("status");
    assert!(status.entries.iter().all(|e| e.state == MigrationState::Pending));
}

/// A group's history rows hold each migration's own duration (not the time
/// since the group began), and each tracking row the duration of its own
/// history row. Checked without timing anything: the durations of a group
/// add up to no more than the run took.
pub async fn a_group_records_each_migration_with_its_own_duration<D: SqlTestDb>(db: &D) {
    let group = TIMED_GROUP.with(Settings::default().group(true));
    if !D::GROUP_MODE {
        let err = group.run(db.pool()).await.expect_err("no group mode");
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        return;
    }
    let started = std::time::Instant::now();
    let report = group.run(db.pool()).await.expect("group run");
    let took_ms = started.elapsed().as_millis() as i64;
    assert_eq!(report.steps.len(), 4);
    assert_eq!(db.count("SELECT count(*) FROM d2").await, 50_000);
    let history = group.history(db.pool()).await.expect("history");
    assert_eq!(history.iter().map(|h| h.version).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let total: i64 = history.iter().map(|h| h.duration_ms).sum();
    assert!(
        history.iter().all(|h| h.duration_ms >= 0) && total <= took_ms,
        "durations {:?} add up to more than the run's {took_ms} ms",
        history.iter().map(|h| h.duration_ms).collect::<Vec<_>>()
    );
    let status = group.status(db.pool()).await.expect("status");
    for (entry, h) in status.entries.iter().zip(&history) {
        assert_eq!(entry.version, h.version);
        assert_eq!(entry.execution_ms, Some(h.duration_ms), "{entry:?} / {h:?}");
    }
    group.validate(db.pool()).await.expect("valid");
}

/// The tracking writes travel as literal SQL inside the batch: a value with
/// quotes, backslashes, a `;` and comment markers is stored exactly.
pub async fn tracking_values_are_stored_exactly<D: SqlTestDb>(db: &D) {
    BASE.run(db.pool()).await.expect("run");
    let reason = "it's a \\ test; -- not a comment /* nor this */ $$ 'quoted' \\'";
    BASE.with(Settings::default())
        .reason(reason)
        .down(db.pool(), 1)
        .await
        .expect("down 1");
    let history = BASE.history(db.pool()).await.expect("history");
    let last = history.last().expect("a history row");
    assert_eq!((last.version, last.direction), (3, Direction::Down));
    assert_eq!(last.reason.as_deref(), Some(reason));
    assert!(history.iter().all(|h| h.success && h.duration_ms >= 0), "{history:?}");
    BASE.validate(db.pool())
        .await
        .expect("the state row agrees with the rows");
}

pub async fn down_and_down_to_revert_in_reverse_order<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("run");
    let report = f.base.down(db.pool(), 1).await.expect("down 1");
    assert_eq!(
        report
            .steps
            .iter()
            .map(|s| (s.version, s.direction))
            .collect::<Vec<_>>(),
        [(3, Direction::Down)]
    );
    assert_eq!(db.rows("a").await, 0, "003's down file ran");
    assert_eq!(versions(db).await, [1, 2]);

    let report = f.base.down_to(db.pool(), 0).await.expect("down to 0");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [2, 1]);
    let tables = db.tables().await;
    assert!(!has(&tables, "a") && !has(&tables, "b"), "{tables:?}");
    assert!(versions(db).await.is_empty());

    let history = f.base.history(db.pool()).await.expect("history");
    let downs: Vec<i64> = history
        .iter()
        .filter(|h| h.direction == Direction::Down)
        .map(|h| h.version)
        .collect();
    assert_eq!(downs, [3, 2, 1]);

    f.base.run(db.pool()).await.expect("re-apply");
    let report = f.base.down_to(db.pool(), 1).await.expect("down to 1");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3, 2]);
    assert!(matches!(
        f.base.down_to(db.pool(), 99).await,
        Err(Error::UnknownVersion { version: 99, .. })
    ));
    assert!(
        f.base
            .down(db.pool(), 5)
            .await
            .expect("down more than applied")
            .steps
            .len()
            == 1
    );
}

pub async fn irreversible_refuses_before_changing_anything<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.irreversible.run(db.pool()).await.expect("run");
    let err = f
        .irreversible
        .down(db.pool(), 2)
        .await
        .expect_err("002 is irreversible");
    match &err {
        Error::Irreversible { version, file, .. } => {
            assert_eq!(*version, 2);
            assert_eq!(*file, f.file("002_seed_a.down"));
        }
        other => panic!("expected irreversible, got {other}"),
    }
    assert!(
        has(&db.tables().await, "d"),
        "003 was not reverted either: the check comes first"
    );
    assert_eq!(versions(db).await, [1, 2, 3]);
    f.irreversible
        .down(db.pool(), 1)
        .await
        .expect("003 alone can be reverted");
    assert!(matches!(
        f.irreversible.down_to(db.pool(), 0).await,
        Err(Error::Irreversible { version: 2, .. })
    ));
    let plan = f.irreversible.plan_down(db.pool(), 1).await;
    assert!(matches!(plan, Err(Error::Irreversible { .. })));
}

pub async fn plans_change_nothing<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let before = db.tables().await;
    let plan = f.base.plan(db.pool()).await.expect("plan on an empty database");
    assert_eq!(plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(plan.steps[1].statements.len(), 2);
    assert!(plan.steps[1].statements[0].starts_with(f.create_b));
    assert_eq!(plan.steps[2].statements[1], f.seed_two);
    assert_eq!(
        db.tables().await,
        before,
        "plan creates nothing, not even the tracking table"
    );

    f.base.run(db.pool()).await.expect("run");
    let after_run = db.tables().await;
    let plan = f.base.plan_down_to(db.pool(), 0).await.expect("plan down");
    assert_eq!(
        plan.steps.iter().map(|s| (s.version, s.direction)).collect::<Vec<_>>(),
        [(3, Direction::Down), (2, Direction::Down), (1, Direction::Down)]
    );
    assert_eq!(plan.steps[0].file, f.file("003_seed_a.down"));
    assert_eq!(db.tables().await, after_run);
    assert_eq!(versions(db).await, [1, 2, 3]);
    assert!(f.base.plan(db.pool()).await.expect("plan").steps.is_empty());
}

pub async fn hand_edited_tracking_row_is_caught_by_validate<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("run");
    db.tamper_checksum(2, &"0".repeat(64)).await;
    // The boot check reads the one-row summary, which still matches.
    assert!(f.base.run(db.pool()).await.expect("boot").is_empty());
    let err = f
        .base
        .validate(db.pool())
        .await
        .expect_err("validate compares every row");
    let Error::Invalid { problems } = &err else {
        panic!("expected invalid, got {err}")
    };
    assert!(
        problems.iter().any(|p| matches!(p, Error::Drift { version: 2, .. })),
        "{err}"
    );
    let status = f.base.status(db.pool()).await.expect("status");
    assert_eq!(status.entries[1].state, MigrationState::Drifted);

    db.delete_record(3).await;
    let err = f
        .base
        .validate(db.pool())
        .await
        .expect_err("a deleted row disagrees with the summary");
    assert!(err.to_string().contains("edited by hand"), "{err}");
}

/// The newest tracking row deleted by hand: the boot check trusts the
/// state row, so `run` applies nothing, and `plan` says what `run` would
/// find under its lock (the state row disagrees with the rows) instead of
/// listing a migration that `run` would never apply.
pub async fn plan_refuses_a_stale_state_row_as_run_would<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("run");
    db.delete_record(3).await;
    assert!(f.base.run(db.pool()).await.expect("boot").is_empty(), "the premise");
    let err = f.base.plan(db.pool()).await.expect_err("the state row is stale");
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("`migrate repair --reason '...'`"), "{err}");
    let readiness = f.base.readiness(db.pool()).await;
    assert_eq!(readiness.state.exit_code(), 2, "check agrees: {readiness:?}");
}

pub async fn run_to_stops_at_the_version<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let report = f.base.run_to(db.pool(), 2).await.expect("run to 2");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(versions(db).await, [1, 2]);
    assert!(matches!(
        f.base.run_to(db.pool(), 7).await,
        Err(Error::UnknownVersion { version: 7, .. })
    ));
    let plan = f.base.plan(db.pool()).await.expect("plan");
    assert_eq!(plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3]);
    assert_eq!(f.base.run(db.pool()).await.expect("rest").steps.len(), 1);
}

pub async fn force_and_forget_adjust_the_record_only<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run_to(db.pool(), 1).await.expect("run to 1");
    f.base.force(db.pool(), 2).await.expect("force 2");
    assert_eq!(versions(db).await, [1, 2]);
    assert!(!has(&db.tables().await, "b"), "force runs no SQL");
    f.base.forget(db.pool(), 2).await.expect("forget 2");
    assert_eq!(versions(db).await, [1]);
    assert!(matches!(
        f.base.forget(db.pool(), 3).await,
        Err(Error::UnknownVersion { version: 3, .. })
    ));
    assert!(matches!(
        f.base.force(db.pool(), 42).await,
        Err(Error::UnknownVersion { version: 42, .. })
    ));
    assert_eq!(f.base.run(db.pool()).await.expect("run").steps.len(), 2);
    f.base
        .validate(db.pool())
        .await
        .expect("consistent after force and forget");
}

pub async fn custom_table_name_and_bad_names<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let settings = Settings::default().table("app_schema_versions");
    f.base
        .with(settings.clone())
        .run(db.pool())
        .await
        .expect("run with a custom table");
    let tables = db.tables().await;
    assert!(
        has(&tables, "app_schema_versions") && has(&tables, "app_schema_versions_history"),
        "{tables:?}"
    );
    assert!(!has(&tables, Lang::<D>::TRACKING));
    assert!(f.base.with(settings).run(db.pool()).await.expect("again").is_empty());
    for bad in ["", "drop table x; --", "1abc", "a-b", "x".repeat(49).as_str()] {
        let err = f
            .base
            .with(Settings::default().table(bad))
            .run(db.pool())
            .await
            .expect_err(bad);
        assert!(matches!(err, Error::InvalidSettings { .. }), "{bad}: {err}");
    }
}

pub async fn group_mode_is_all_or_nothing<D: TestDb>(db: &D) {
    let f = fixtures::<D>();
    let group = Settings::default().group(true);
    if !D::GROUP_MODE {
        let err = f.base.with(group).run(db.pool()).await.expect_err("no group mode here");
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        return;
    }
    let err = f
        .failing
        .with(group.clone())
        .run(db.pool())
        .await
        .expect_err("002 fails");
    assert!(
        matches!(err.cause(), Error::MigrationFailed { version: 2, .. }),
        "{err}"
    );
    let tables = db.tables().await;
    assert!(
        !has(&tables, "a") && !has(&tables, "c"),
        "nothing of the group stays: {tables:?}"
    );
    let report = f.base.with(group).run(db.pool()).await.expect("group run");
    assert_eq!(report.steps.len(), 3);
    assert!(f.base.run(db.pool()).await.expect("boot").is_empty());
    f.base.validate(db.pool()).await.expect("valid");
}

/// Two applications in one database with the default tracking table: the
/// second one is told the table is another migration set's and how to give
/// it its own, not that a migration "changed after it was applied"; with
/// its own table both run.
pub async fn another_applications_tracking_table_is_named<D: SqlTestDb>(db: &D) {
    let f = fixtures::<D>();
    f.base.run(db.pool()).await.expect("the first application");
    for err in [
        OTHER_APP
            .run(db.pool())
            .await
            .expect_err("the second application is refused"),
        OTHER_APP.validate(db.pool()).await.expect_err("validate says the same"),
    ] {
        let foreign = match &err {
            Error::Invalid { problems } if problems.len() == 1 => &problems[0],
            other => other,
        };
        match foreign {
            Error::ForeignTable { table, rows, count } => {
                assert_eq!(table, TRACKING);
                assert_eq!(*count, 3);
                assert_eq!(rows[0], (1, "create_a".to_string()));
            }
            other => panic!("expected another set's table, got {other}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("belongs to another migration set") && text.contains("Settings::table("),
            "{text}"
        );
        assert!(!text.contains("changed after it was applied"), "{text}");
    }
    assert!(
        !has(&db.tables().await, "orders"),
        "nothing of the second application ran"
    );
    let own = OTHER_APP.with(Settings::default().table("orders_migrations"));
    let report = own.run(db.pool()).await.expect("with its own table");
    assert_eq!(report.steps.len(), 2);
    f.base
        .validate(db.pool())
        .await
        .expect("the first application is untouched");
}
