//! The engine's rules against an in-memory database: no server, a few
//! milliseconds. The database is defined here, outside the runtime crate,
//! which also proves that `Database` and `Session` can be implemented by a
//! third party.
//!
//! The fake behaves like a database with transactional DDL: a change is
//! all or nothing, and it compares the state row with the plan's before
//! writing, as the real backends do. It logs every call and every statement
//! sent, so the tests can check what the engine asked for, not only what it
//! returned.

// The fake returns `Result<_, embedded_migrations::Error>` from its own
// functions, as a third-party backend does; `Error` is 128 bytes (as it was
// before this file), where clippy's default `result_large_err` starts.
#![allow(clippy::result_large_err)]

// Only the SQL folders are used here; the Cypher ones serve the Neo4j suite.
#[allow(dead_code)]
#[path = "support/fixtures.rs"]
mod fixtures;

use embedded_migrations::backend::{BoxFuture, Change, Database, GroupApply, RecordEdit, Session, State};
use embedded_migrations::core::split::{split, Dialect};
use embedded_migrations::core::{chain_step, time};
use embedded_migrations::embed_migrations;
use embedded_migrations::{
    AppliedMigration, Checksum, Direction, Error, HistoryEntry, MigrationState, Migrations, Settings, Sql,
};
use fixtures::{BASE, DRIFTED, FAILING, GAPPED, IRREVERSIBLE, SHORT};
use std::collections::{BTreeMap, VecDeque};
use std::future::ready;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// BASE plus 004 create_d: a new release after BASE.
static EXTENDED: Migrations = embed_migrations!("tests/fixtures/extended");

/// What another process does just before one of our changes reaches the
/// database.
type Interference = Box<dyn FnOnce(&mut Store) + Send>;

/// More session calls than any test makes: past it, the engine is looping.
const CALLS_LIMIT: usize = 10_000;

struct Store {
    /// The tracking tables exist.
    prepared: bool,
    state: State,
    rows: BTreeMap<i64, AppliedMigration>,
    history: Vec<HistoryEntry>,
    locked: bool,
    /// Every session call, in order.
    calls: Vec<&'static str>,
    /// (version, direction) of every script sent, committed or not.
    sent: Vec<(i64, Direction)>,
    /// Run before the next `apply`/`apply_group` calls, one each.
    interference: VecDeque<Interference>,
    /// Run before every `apply`/`apply_group` call: a process that never stops.
    perpetual: Option<fn(&mut Store)>,
}

#[derive(Clone)]
struct MemoryDb(Arc<Mutex<Store>>);

struct MemorySession(MemoryDb);

impl MemoryDb {
    fn new() -> Self {
        MemoryDb(Arc::new(Mutex::new(Store {
            prepared: false,
            state: State::EMPTY,
            rows: BTreeMap::new(),
            history: Vec::new(),
            locked: false,
            calls: Vec::new(),
            sent: Vec::new(),
            interference: VecDeque::new(),
            perpetual: None,
        })))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.0.lock().expect("store")
    }

    fn versions(&self) -> Vec<i64> {
        self.store().rows.keys().copied().collect()
    }

    /// How many times the script of `version` was sent in `direction`.
    fn sent(&self, version: i64, direction: Direction) -> usize {
        self.store()
            .sent
            .iter()
            .filter(|sent| **sent == (version, direction))
            .count()
    }

    fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.store().calls)
    }
}

/// No schema to read: `snapshots()` keeps its default, so the snapshot
/// operations answer `Error::Unsupported`.
impl Database for MemoryDb {
    type Language = Sql;

    fn open<'a>(&'a self, _settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        self.store().calls.push("open");
        let session: Box<dyn Session + 'a> = Box::new(MemorySession(self.clone()));
        Box::pin(ready(Ok(session)))
    }
}

impl Store {
    /// Runs a change's script; a statement naming `missing_table` fails,
    /// as it would on a real database.
    fn run_script(&mut self, change: &Change<'_>) -> Result<(), Error> {
        self.sent.push((change.migration.version, change.direction));
        for statement in split(change.text(), Dialect::Sqlite) {
            if statement.text.contains("missing_table") {
                let message = "no such table: missing_table".to_string();
                return Err(change.failed(statement.text, statement.line, message, true));
            }
        }
        Ok(())
    }

    fn record(&mut self, change: &Change<'_>) {
        match &change.record {
            Some(row) => self.rows.insert(row.version, row.clone()),
            None => self.rows.remove(&change.migration.version),
        };
        self.state = change.state_after;
        self.history.push(change.history.clone());
    }

    fn interfere(&mut self) {
        if let Some(other_process) = self.interference.pop_front() {
            other_process(self);
        }
        if let Some(other_process) = self.perpetual {
            other_process(self);
        }
    }
}

impl MemorySession {
    fn call<T: Send + 'static>(&mut self, name: &'static str, body: impl FnOnce(&mut Store) -> T) -> BoxFuture<'_, T> {
        let mut store = self.0.store();
        store.calls.push(name);
        assert!(
            store.calls.len() < CALLS_LIMIT,
            "the engine is looping: {CALLS_LIMIT} session calls"
        );
        let result = body(&mut store);
        Box::pin(ready(result))
    }
}

impl Session for MemorySession {
    fn backend(&self) -> &'static str {
        "Memory"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        self.call("read_state", |store| Ok(store.prepared.then_some(store.state)))
    }

    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        self.call("create_tracking", |store| {
            store.prepared = true;
            Ok(())
        })
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        self.call("lock", |store| {
            if store.locked {
                return Err(Error::LockTimeout {
                    backend: "Memory",
                    waited: timeout,
                    holder: None,
                });
            }
            store.locked = true;
            Ok(())
        })
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        self.call("unlock", |store| {
            store.locked = false;
            Ok(())
        })
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        self.call("read_applied", |store| Ok(store.rows.values().cloned().collect()))
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        self.call("read_history", |store| Ok(store.history.clone()))
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
        self.call("apply", |store| {
            store.interfere();
            if store.state != change.state_before {
                return Err(Error::Conflict);
            }
            store.run_script(change)?;
            store.record(change);
            Ok(())
        })
    }

    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        self.call("write_history", |store| {
            store.history.push(entry.clone());
            Ok(())
        })
    }

    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>> {
        self.call("rewrite_record", |store| {
            match edit {
                RecordEdit::Put(row) => {
                    store.rows.insert(row.version, row.clone());
                }
                RecordEdit::Remove(version) => {
                    store.rows.remove(&version);
                }
                RecordEdit::StateOnly => {}
            }
            store.state = *state;
            Ok(())
        })
    }

    fn group(&mut self) -> Option<&mut dyn GroupApply> {
        Some(self)
    }
}

/// Transactional DDL: every change of a group, or none.
impl GroupApply for MemorySession {
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        self.call("apply_group", |store| {
            store.interfere();
            let Some(first) = changes.first() else { return Ok(()) };
            if store.state != first.state_before {
                return Err(Error::Conflict);
            }
            // All or nothing: record only once every script ran.
            for change in changes {
                store.run_script(change)?;
            }
            for change in changes {
                store.record(change);
            }
            Ok(())
        })
    }
}

fn steps(report: &embedded_migrations::Report) -> Vec<(i64, Direction)> {
    report.steps.iter().map(|s| (s.version, s.direction)).collect()
}

/// What another process that applied the first `count` migrations of
/// `table` leaves in the database.
fn applied_elsewhere(table: &'static Migrations, count: usize) -> Interference {
    Box::new(move |store: &mut Store| {
        let mut chain = Checksum::ZERO;
        for migration in &table.migrations()[..count] {
            chain = chain_step(&chain, migration.version, &migration.checksum());
            store.rows.insert(
                migration.version,
                AppliedMigration {
                    version: migration.version,
                    name: migration.name.to_string(),
                    checksum: migration.checksum(),
                    applied_at: time::now_iso8601(),
                    execution_ms: 0,
                    dirty: false,
                    dirty_run: None,
                },
            );
        }
        store.state = State {
            applied_count: count as i64,
            last_version: table.migrations()[count - 1].version,
            chain,
            dirty: false,
        };
    })
}

#[tokio::test]
async fn applies_in_order_then_the_boot_check_reads_one_row() {
    let db = MemoryDb::new();
    let report = BASE.run(&db).await.expect("run");
    assert_eq!(
        steps(&report),
        [(1, Direction::Up), (2, Direction::Up), (3, Direction::Up)]
    );
    assert_eq!(db.versions(), [1, 2, 3]);
    assert_eq!(db.store().history.len(), 3);
    assert!(!db.store().locked, "the lock is released");

    db.take_calls();
    assert!(BASE.run(&db).await.expect("boot").is_empty());
    assert_eq!(
        db.take_calls(),
        ["open", "read_state"],
        "a boot with nothing pending reads the state row and nothing else"
    );
    BASE.validate(&db).await.expect("valid");
}

#[tokio::test]
async fn drift_is_refused_before_anything_runs() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    let err = DRIFTED.run(&db).await.expect_err("002 changed after it was applied");
    assert!(
        matches!(&err, Error::Drift { version: 2, file, recorded, embedded, .. }
            if file == "002_create_b.up.sql" && recorded != embedded),
        "{err}"
    );
    assert_eq!(db.sent(4, Direction::Up), 0, "the pending 004 did not run");
    assert_eq!(db.versions(), [1, 2, 3]);
    assert!(matches!(DRIFTED.plan(&db).await, Err(Error::Drift { version: 2, .. })));
    assert_eq!(
        DRIFTED.status(&db).await.expect("status").entries[1].state,
        MigrationState::Drifted
    );
    assert!(!db.store().locked);
}

#[tokio::test]
async fn migrations_missing_from_the_binary_are_refused_unless_allowed() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    // 002 and 003 are above SHORT's latest: the database is ahead of it.
    match SHORT.run(&db).await {
        Err(Error::Ahead { latest: 1, migrations }) => {
            assert_eq!(migrations.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [2, 3])
        }
        other => panic!("expected missing migrations, got {other:?}"),
    }
    let report = SHORT
        .with(Settings::default().allow_missing(true))
        .run(&db)
        .await
        .expect("allowed");
    assert!(report.is_empty());
    let status = SHORT.status(&db).await.expect("status");
    assert_eq!(status.count(MigrationState::Missing), 2);
    // Reverting a migration the binary does not have is refused too.
    assert!(matches!(SHORT.down(&db, 1).await, Err(Error::MissingInBinary { .. })));
}

#[tokio::test]
async fn out_of_order_migrations_are_refused_unless_allowed() {
    let db = MemoryDb::new();
    GAPPED.run(&db).await.expect("001 and 003");
    let err = BASE.run(&db).await.expect_err("002 below 003");
    assert!(
        matches!(
            err,
            Error::OutOfOrder {
                version: 2,
                highest_applied: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(db.sent(2, Direction::Up), 0);
    match BASE.validate(&db).await {
        Err(Error::Invalid { problems }) => {
            assert!(
                matches!(problems[..], [Error::OutOfOrder { version: 2, .. }]),
                "{problems:?}"
            )
        }
        other => panic!("expected validate to report it, got {other:?}"),
    }
    let report = BASE
        .with(Settings::default().allow_out_of_order(true))
        .run(&db)
        .await
        .expect("allowed");
    assert_eq!(steps(&report), [(2, Direction::Up)]);
}

#[tokio::test]
async fn a_dirty_migration_stops_every_change_until_repaired() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    {
        let mut store = db.store();
        store.rows.get_mut(&2).expect("row 2").dirty = true;
        store.state.dirty = true;
    }
    let sent_before = db.store().sent.len();
    assert!(matches!(DRIFTED.run(&db).await, Err(Error::Dirty { version: 2, .. })));
    assert!(matches!(BASE.down(&db, 1).await, Err(Error::Dirty { version: 2, .. })));
    assert!(matches!(BASE.plan(&db).await, Err(Error::Dirty { version: 2, .. })));
    assert!(matches!(
        BASE.plan_down(&db, 1).await,
        Err(Error::Dirty { version: 2, .. })
    ));
    assert_eq!(db.store().sent.len(), sent_before, "no script ran");
    assert_eq!(
        BASE.status(&db).await.expect("status").entries[1].state,
        MigrationState::Dirty
    );
    assert!(!db.store().locked);

    // Repaired by hand and forced: clean again, and the state row follows.
    BASE.force(&db, 2).await.expect("force");
    BASE.validate(&db).await.expect("valid after force");
    assert!(BASE.run(&db).await.expect("boot").is_empty());
}

#[tokio::test]
async fn an_irreversible_migration_stops_down_before_anything_is_reverted() {
    let db = MemoryDb::new();
    IRREVERSIBLE.run(&db).await.expect("run");
    let err = IRREVERSIBLE.down_to(&db, 0).await.expect_err("002 is irreversible");
    assert!(
        matches!(&err, Error::Irreversible { version: 2, file, .. } if file == "002_seed_a.down.sql"),
        "{err}"
    );
    assert_eq!(db.versions(), [1, 2, 3], "003 was not reverted either");
    assert_eq!(db.sent(3, Direction::Down), 0);
    assert!(matches!(
        IRREVERSIBLE.plan_down_to(&db, 0).await,
        Err(Error::Irreversible { version: 2, .. })
    ));
    // Above it, down works.
    let report = IRREVERSIBLE.down(&db, 1).await.expect("003 reverts");
    assert_eq!(steps(&report), [(3, Direction::Down)]);
}

#[tokio::test]
async fn down_targets_revert_newest_first() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    let plan = BASE.plan_down_to(&db, 1).await.expect("plan");
    assert_eq!(plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [3, 2]);
    assert_eq!(db.versions(), [1, 2, 3], "a plan changes nothing");
    assert_eq!(steps(&BASE.down(&db, 1).await.expect("down 1")), [(3, Direction::Down)]);
    assert!(matches!(
        BASE.down_to(&db, 42).await,
        Err(Error::UnknownVersion { version: 42, .. })
    ));
    assert_eq!(
        steps(&BASE.down_to(&db, 0).await.expect("down to 0")),
        [(2, Direction::Down), (1, Direction::Down)]
    );
    assert!(db.versions().is_empty());
    assert!(BASE.down(&db, 5).await.expect("nothing left").is_empty());
    assert_eq!(db.store().state, State::EMPTY);
    // A reason given for a down is kept in history.
    BASE.run(&db).await.expect("again");
    BASE.with(Settings::default())
        .reason("rollback drill")
        .down(&db, 1)
        .await
        .expect("down with a reason");
    let last = db.store().history.last().cloned().expect("history");
    assert_eq!(
        (last.direction, last.reason.as_deref()),
        (Direction::Down, Some("rollback drill"))
    );
}

#[tokio::test]
async fn run_to_stops_at_the_version_and_refuses_unknown_ones() {
    let db = MemoryDb::new();
    let report = BASE.run_to(&db, 2).await.expect("run to 2");
    assert_eq!(steps(&report), [(1, Direction::Up), (2, Direction::Up)]);
    let plan = BASE.plan_to(&db, 3).await.expect("plan_to on the table itself");
    assert_eq!(plan.steps.len(), 1);
    assert!(matches!(
        BASE.run_to(&db, 7).await,
        Err(Error::UnknownVersion { version: 7, .. })
    ));
}

#[tokio::test]
async fn a_failed_statement_is_rolled_back_recorded_in_history_and_named() {
    let db = MemoryDb::new();
    let err = FAILING.run(&db).await.expect_err("002 fails");
    match err.cause() {
        Error::MigrationFailed {
            version: 2,
            statement,
            line: 2,
            rolled_back: true,
            file,
            ..
        } => {
            assert_eq!(*file, "002_create_c_then_fail.up.sql");
            assert!(statement.starts_with("INSERT INTO missing_table"), "{statement}");
        }
        other => panic!("expected a failed migration, got {other}"),
    }
    assert_eq!(db.versions(), [1], "001 stays applied, 002 is not recorded");
    let history = db.store().history.clone();
    assert_eq!(history.len(), 2);
    assert!(!history[1].success && history[1].error.as_deref().is_some_and(|e| e.contains("missing_table")));
    assert!(!db.store().locked, "the lock is released after a failure");
    assert_eq!(db.sent(3, Direction::Up), 0, "nothing after the failure runs");
}

#[tokio::test]
async fn group_mode_is_all_or_nothing() {
    let db = MemoryDb::new();
    let group = Settings::default().group(true);
    let err = FAILING.with(group.clone()).run(&db).await.expect_err("002 fails");
    assert!(
        matches!(err.cause(), Error::MigrationFailed { version: 2, .. }),
        "{err}"
    );
    assert!(db.versions().is_empty(), "001 went back with the group");
    assert_eq!(db.store().state, State::EMPTY);
    db.take_calls();
    let report = BASE.with(group).run(&db).await.expect("group");
    assert_eq!(steps(&report).len(), 3);
    assert_eq!(db.versions(), [1, 2, 3]);
    let calls = db.take_calls();
    assert_eq!(calls.iter().filter(|c| **c == "apply_group").count(), 1, "{calls:?}");
    assert!(!calls.contains(&"apply"), "{calls:?}");
    BASE.validate(&db).await.expect("valid");
}

#[tokio::test]
async fn a_concurrent_change_makes_the_engine_plan_again_and_apply_the_rest_once() {
    let db = MemoryDb::new();
    // Another process applies 001 between our plan and our first change.
    db.store().interference.push_back(applied_elsewhere(&BASE, 1));
    let report = BASE.run(&db).await.expect("run");
    assert_eq!(
        steps(&report),
        [(2, Direction::Up), (3, Direction::Up)],
        "001 was applied by the other process"
    );
    assert_eq!(db.sent(1, Direction::Up), 0, "001's statements never ran here");
    assert_eq!((db.sent(2, Direction::Up), db.sent(3, Direction::Up)), (1, 1));
    BASE.validate(&db).await.expect("valid");

    // The same in group mode.
    let db = MemoryDb::new();
    db.store().interference.push_back(applied_elsewhere(&BASE, 2));
    let report = BASE
        .with(Settings::default().group(true))
        .run(&db)
        .await
        .expect("group run");
    assert_eq!(steps(&report), [(3, Direction::Up)]);
    assert_eq!(db.sent(1, Direction::Up) + db.sent(2, Direction::Up), 0);

    // And for down: the other process reverted 003 already; ours reverts
    // the one more it was asked for.
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    db.store().interference.push_back(Box::new(|store: &mut Store| {
        store.rows.remove(&3);
        let rows = store.rows.clone();
        let mut chain = Checksum::ZERO;
        for row in rows.values() {
            chain = chain_step(&chain, row.version, &row.checksum);
        }
        store.state = State {
            applied_count: 2,
            last_version: 2,
            chain,
            dirty: false,
        };
    }));
    let report = BASE.down(&db, 1).await.expect("down");
    assert_eq!(steps(&report), [(2, Direction::Down)]);
    assert_eq!(db.versions(), [1]);
}

#[tokio::test]
async fn a_state_row_that_disagrees_with_the_rows_is_reported_by_validate() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    db.store().state.applied_count = 2;
    match BASE.validate(&db).await {
        Err(Error::Invalid { problems }) => {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            assert!(
                text.iter()
                    .any(|p| p.contains("says 2 migration(s) applied") && p.contains("edited by hand")),
                "{text:?}"
            );
            assert!(matches!(problems[..], [Error::StateMismatch { .. }]), "{text:?}");
        }
        other => panic!("expected validate to catch the edit, got {other:?}"),
    }
    // The boot check does not trust that row: it falls through to the full
    // check under the lock, which names the disagreement and its fix
    // instead of running on a table it cannot trust.
    assert!(matches!(BASE.run(&db).await, Err(Error::StateMismatch { .. })));
    assert_eq!(db.sent(1, Direction::Up), 1, "nothing ran twice");
}

#[tokio::test]
async fn force_and_forget_rewrite_records_and_run_nothing() {
    let db = MemoryDb::new();
    BASE.run_to(&db, 1).await.expect("001");
    BASE.force(&db, 2).await.expect("force 2");
    assert_eq!(db.versions(), [1, 2]);
    assert_eq!(db.sent(2, Direction::Up), 0, "force runs no statement");
    BASE.forget(&db, 1).await.expect("forget 1");
    assert_eq!(db.versions(), [2]);
    assert!(matches!(
        BASE.forget(&db, 3).await,
        Err(Error::UnknownVersion { version: 3, .. })
    ));
    assert!(matches!(
        BASE.force(&db, 9).await,
        Err(Error::UnknownVersion { version: 9, .. })
    ));
    assert!(!db.store().locked);
    let status = BASE.status(&db).await.expect("status");
    assert_eq!(
        status.entries.iter().map(|e| e.state).collect::<Vec<_>>(),
        [
            MigrationState::Pending,
            MigrationState::Applied,
            MigrationState::Pending
        ]
    );
}

#[tokio::test]
async fn bad_settings_are_refused_before_a_connection_is_taken() {
    let db = MemoryDb::new();
    let err = BASE
        .with(Settings::default().table("x; DROP TABLE a"))
        .run(&db)
        .await
        .expect_err("not an identifier");
    assert!(matches!(err, Error::InvalidSettings { .. }), "{err}");
    assert!(db.take_calls().is_empty(), "no session was opened");
}

#[tokio::test]
async fn reads_create_nothing() {
    let db = MemoryDb::new();
    assert_eq!(BASE.plan(&db).await.expect("plan").steps.len(), 3);
    assert_eq!(BASE.status(&db).await.expect("status").pending_count(), 3);
    BASE.validate(&db).await.expect("validate");
    assert!(BASE.history(&db).await.expect("history").is_empty());
    let calls = db.take_calls();
    assert!(
        !calls
            .iter()
            .any(|c| matches!(*c, "create_tracking" | "lock" | "apply" | "rewrite_record")),
        "{calls:?}"
    );
    assert!(!db.store().prepared);
}

/// Issue 13: four migrations applied, the state row edited by hand, a new
/// migration added: `run` looped for ever, every round a conflict.
#[tokio::test]
async fn a_state_row_edited_by_hand_stops_run_and_down_with_a_typed_error() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    db.store().state.applied_count = 2;
    let err = EXTENDED
        .run(&db)
        .await
        .expect_err("the state row disagrees with the rows");
    match &err {
        Error::StateMismatch { recorded, rows, .. } => {
            assert_eq!((recorded.applied_count, recorded.last_version), (2, 3));
            assert_eq!((rows.applied_count, rows.last_version), (3, 3));
        }
        other => panic!("expected a state mismatch, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("says 2 migration(s) applied up to version 3")
            && text.contains("holds 3 up to version 3")
            && text.contains("`migrate repair --reason '...'`"),
        "{text}"
    );
    assert_eq!(err.exit_code(), 2);
    assert_eq!(db.sent(4, Direction::Up), 0, "the pending 004 never ran");
    assert!(matches!(EXTENDED.down(&db, 1).await, Err(Error::StateMismatch { .. })));
    assert_eq!(db.sent(3, Direction::Down), 0);
    assert!(!db.store().locked, "the lock is released");

    // Doing what the message says makes the run go through.
    let rows = match err {
        Error::StateMismatch { rows, .. } => rows,
        _ => unreachable!(),
    };
    db.store().state = *rows;
    let report = EXTENDED.run(&db).await.expect("after the repair");
    assert_eq!(steps(&report), [(4, Direction::Up)]);
}

/// Issue 13: a deleted newest row with a pending migration after it: the
/// rows plan to apply 003 again, the state row says it is applied.
#[tokio::test]
async fn a_deleted_tracking_row_is_a_typed_error_and_nothing_runs_twice() {
    let db = MemoryDb::new();
    BASE.run(&db).await.expect("run");
    db.store().rows.remove(&3);
    let err = EXTENDED
        .run(&db)
        .await
        .expect_err("the rows disagree with the state row");
    assert!(matches!(err, Error::StateMismatch { .. }), "{err}");
    assert_eq!(db.sent(3, Direction::Up), 1, "003 was not run again");
    assert_eq!(db.sent(4, Direction::Up), 0);
}

/// Another process that never stops changing the state: the run gives up
/// after a bounded number of plans instead of looping.
#[tokio::test]
async fn endless_concurrent_changes_end_in_a_typed_error_after_bounded_replans() {
    let db = MemoryDb::new();
    // It applies 001 when it is not applied and reverts it when it is, so
    // the state moves before every change of ours.
    db.store().perpetual = Some(|store: &mut Store| {
        if store.rows.remove(&1).is_some() {
            store.state = State::EMPTY;
        } else {
            applied_elsewhere(&BASE, 1)(store);
        }
    });
    let err = BASE.run(&db).await.expect_err("never a stable state");
    match &err {
        Error::Contended { rounds, .. } => assert_eq!(*rounds, BASE.migrations().len() + 3),
        other => panic!("expected contention, got {other}"),
    }
    let applies = db.take_calls().iter().filter(|c| **c == "apply").count();
    assert_eq!(applies, BASE.migrations().len() + 3, "one attempt per round");
    assert_eq!(db.store().sent.len(), 0, "no script ran: every change conflicted first");
    assert!(!db.store().locked);
}

/// Repeatable migrations keep the one-row boot check: their checksums are
/// folded into the state the engine expects, so an unchanged set reads the
/// state row and nothing else; a changed one is applied again, in place.
#[tokio::test]
async fn repeatables_keep_the_one_row_boot_check() {
    static V1: Migrations = embed_migrations!("tests/fixtures/repeatable_sqlite_v1");
    static V2: Migrations = embed_migrations!("tests/fixtures/repeatable_sqlite_v2");
    let db = MemoryDb::new();
    let report = V1.run(&db).await.expect("run");
    let keys: Vec<i64> = V1.repeatables().iter().map(|m| m.version).collect();
    assert!(keys.iter().all(|k| *k < 0), "{keys:?}");
    assert_eq!(
        steps(&report),
        [(1, Direction::Up), (keys[0], Direction::Up), (keys[1], Direction::Up)]
    );

    db.take_calls();
    assert!(V1.run(&db).await.expect("boot").is_empty());
    assert_eq!(db.take_calls(), ["open", "read_state"], "one row, with repeatables too");

    let report = V2.run(&db).await.expect("the next build");
    assert_eq!(steps(&report), [(keys[0], Direction::Up), (keys[1], Direction::Up)]);
    assert_eq!(db.store().rows.len(), 3);
    db.take_calls();
    assert!(V2.run(&db).await.expect("boot").is_empty());
    assert_eq!(db.take_calls(), ["open", "read_state"]);
    // The older build sees its repeatables as changed, not as drift.
    assert_eq!(V1.plan(&db).await.expect("plan").steps.len(), 2);
}

/// A `migrate:noop` migration is applied (recorded, nothing sent) and
/// `status` says what it is.
#[tokio::test]
async fn a_database_without_snapshots_says_so_and_changes_nothing() {
    let db = MemoryDb::new();
    let err = BASE.verify_reversible(&db).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("schema snapshots"), "{err}");
    for err in [
        BASE.record_schema(&db).await.unwrap_err(),
        BASE.check_schema(&db).await.unwrap_err(),
    ] {
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }
    assert!(db.take_calls().is_empty(), "refused before a session was opened");
}

#[tokio::test]
async fn a_noop_migration_is_recorded_and_shown() {
    static NOOP: Migrations = embed_migrations!("tests/ui/folders/noop");
    let db = MemoryDb::new();
    let report = NOOP.run(&db).await.expect("run");
    assert_eq!(steps(&report), [(1, Direction::Up), (2, Direction::Up)]);
    let status = NOOP.status(&db).await.expect("status");
    assert_eq!(status.entries.iter().map(|e| e.noop).collect::<Vec<_>>(), [false, true]);
    assert!(status.is_up_to_date());
}

/// `Error` does not grow past 128 bytes (`Drift`'s two checksums), where
/// clippy's `result_large_err` would fire in every caller's code: new
/// fields are boxed (`MigrationFailed::statement`, to make room for its
/// `source`).
#[test]
fn error_stays_small() {
    assert!(std::mem::size_of::<Error>() <= 128, "{}", std::mem::size_of::<Error>());
}
