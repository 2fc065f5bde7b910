//! The contract between the engine and a database.
//!
//! The engine (planning, drift, ordering, locking policy, history) is written
//! once; a backend only knows how to talk to its database. Adding a backend
//! means one module implementing [`Database`] and [`Session`], and one cargo
//! feature.

use crate::engine::{DownTarget, Engine};
use crate::report::{AppliedMigration, HistoryEntry, Plan, Report, Status};
use crate::{Checksum, Direction, Error, Language, Migration, Settings};
use std::future::Future;
use std::time::Duration;

/// A handle the user passes to `run`: a sqlx pool, a `neo4rs::Graph`.
/// It can also read its schema ([`Snapshot`](crate::snapshot::Snapshot)).
///
/// An implementation writes `erased_operations!()` in its impl block: the
/// engine is then compiled once, in this crate, for each database, instead
/// of in every crate that calls `run` (in a release build that codegen cost
/// seconds on every edit of a migration file).
pub trait Database: Sync + Sized + crate::snapshot::Snapshot {
    type Language: Language;
    type Session: Session;
    /// Takes a connection for one operation (run, status, down, ...).
    fn open(&self, settings: &Settings) -> impl Future<Output = Result<Self::Session, Error>> + Send;

    #[doc(hidden)]
    fn __up<'a>(&'a self, engine: &'a Engine<'a>, to: Option<i64>) -> BoxFuture<'a, Result<Report, Error>>;
    #[doc(hidden)]
    fn __down<'a>(&'a self, engine: &'a Engine<'a>, target: DownTarget) -> BoxFuture<'a, Result<Report, Error>>;
    #[doc(hidden)]
    fn __plan_up<'a>(&'a self, engine: &'a Engine<'a>, to: Option<i64>) -> BoxFuture<'a, Result<Plan, Error>>;
    #[doc(hidden)]
    fn __plan_down<'a>(&'a self, engine: &'a Engine<'a>, target: DownTarget) -> BoxFuture<'a, Result<Plan, Error>>;
    #[doc(hidden)]
    fn __status<'a>(&'a self, engine: &'a Engine<'a>) -> BoxFuture<'a, Result<Status, Error>>;
    #[doc(hidden)]
    fn __validate<'a>(&'a self, engine: &'a Engine<'a>) -> BoxFuture<'a, Result<Status, Error>>;
    #[doc(hidden)]
    fn __history<'a>(&'a self, engine: &'a Engine<'a>) -> BoxFuture<'a, Result<Vec<HistoryEntry>, Error>>;
    #[doc(hidden)]
    fn __force<'a>(&'a self, engine: &'a Engine<'a>, version: i64) -> BoxFuture<'a, Result<(), Error>>;
    #[doc(hidden)]
    fn __forget<'a>(&'a self, engine: &'a Engine<'a>, version: i64) -> BoxFuture<'a, Result<(), Error>>;
}

#[doc(hidden)]
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The engine's operations for one concrete database, written in its
/// `impl Database` block.
macro_rules! erased_operations {
    () => {
        fn __up<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            to: Option<i64>,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Report, $crate::Error>> {
            Box::pin(engine.up(self, to))
        }
        fn __down<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            target: $crate::engine::DownTarget,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Report, $crate::Error>> {
            Box::pin(engine.down(self, target))
        }
        fn __plan_up<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            to: Option<i64>,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Plan, $crate::Error>> {
            Box::pin(engine.plan_up(self, to))
        }
        fn __plan_down<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            target: $crate::engine::DownTarget,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Plan, $crate::Error>> {
            Box::pin(engine.plan_down(self, target))
        }
        fn __status<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Status, $crate::Error>> {
            Box::pin(engine.status(self))
        }
        fn __validate<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
        ) -> $crate::backend::BoxFuture<'a, Result<$crate::Status, $crate::Error>> {
            Box::pin(engine.validate(self))
        }
        fn __history<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
        ) -> $crate::backend::BoxFuture<'a, Result<Vec<$crate::HistoryEntry>, $crate::Error>> {
            Box::pin(engine.history(self))
        }
        fn __force<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            version: i64,
        ) -> $crate::backend::BoxFuture<'a, Result<(), $crate::Error>> {
            Box::pin(engine.force(self, version))
        }
        fn __forget<'a>(
            &'a self,
            engine: &'a $crate::engine::Engine<'a>,
            version: i64,
        ) -> $crate::backend::BoxFuture<'a, Result<(), $crate::Error>> {
            Box::pin(engine.forget(self, version))
        }
    };
}
#[allow(unused_imports)]
pub(crate) use erased_operations;

/// The summary of the tracking table kept in one row, updated in the same
/// transaction as each change, so that a boot with nothing pending reads one
/// row instead of every applied migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub applied_count: i64,
    pub last_version: i64,
    /// Running hash over (version, checksum) of the applied rows, in order.
    pub chain: Checksum,
    pub dirty: bool,
}

impl State {
    pub const EMPTY: State = State {
        applied_count: 0,
        last_version: 0,
        chain: Checksum::ZERO,
        dirty: false,
    };
}

/// One migration to run in one direction, with everything the backend must
/// write beside it, atomically where the database allows.
pub struct Change<'a> {
    pub migration: &'a Migration,
    pub direction: Direction,
    /// For up: the tracking row to insert. For down: `None`, the row of
    /// `migration.version` is deleted.
    pub record: Option<AppliedMigration>,
    /// The state the plan was made on. If the database holds another, some
    /// other process got there first: the backend returns `Error::Conflict`
    /// without changing anything.
    pub state_before: State,
    pub state_after: State,
    /// History row written with the change; the backend fills in the duration
    /// when it knows it (`duration_ms` is 0 here).
    pub history: HistoryEntry,
}

/// One connection, for one operation. Every method leaves the database
/// consistent when it fails.
pub trait Session: Send {
    /// "SQLite", "PostgreSQL": for messages.
    fn backend(&self) -> &'static str;

    /// How this database's files are split into statements.
    fn dialect(&self) -> crate::core::split::Dialect;

    /// The state row, or `None` when the tracking tables do not exist yet.
    /// Must not create anything: `plan` and `status` change nothing.
    fn read_state(&mut self) -> impl Future<Output = Result<Option<State>, Error>> + Send;

    /// Creates the tracking, history and state tables if they are missing.
    fn prepare(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Takes the migration lock, waiting at most `timeout`; names the holder
    /// in `Error::LockTimeout` where the database can tell.
    fn lock(&mut self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;

    /// Releases the lock; called on every exit path after `lock` succeeded.
    fn unlock(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Every tracking row, in version order (empty when no table yet).
    fn read_applied(&mut self) -> impl Future<Output = Result<Vec<AppliedMigration>, Error>> + Send;

    /// Every history row, oldest first (empty when no table yet).
    fn read_history(&mut self) -> impl Future<Output = Result<Vec<HistoryEntry>, Error>> + Send;

    /// Runs one change: its statements, the tracking row, the state row and
    /// the history row. On failure nothing is recorded where the database
    /// can roll back; elsewhere the row is left dirty. Returns
    /// `Error::MigrationFailed` naming the statement.
    fn apply(&mut self, change: &Change<'_>, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;

    /// Runs every change in one transaction (group mode). Backends without
    /// transactional DDL keep this default, which refuses.
    fn apply_group(
        &mut self,
        changes: &[Change<'_>],
        timeout: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let backend = self.backend();
        let _ = (changes, timeout);
        async move {
            Err(Error::Unsupported {
                backend,
                what: "group mode (all migrations in one transaction)".to_string(),
            })
        }
    }

    /// Records a run that failed (its change was rolled back).
    fn record_failure(&mut self, entry: &HistoryEntry) -> impl Future<Output = Result<(), Error>> + Send;

    /// Writes or deletes the tracking row of `version` and sets the state,
    /// running no migration: `force` and `forget`.
    fn set_record(
        &mut self,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}
