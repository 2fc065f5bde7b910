//! The contract between the engine and a database.
//!
//! The engine (planning, drift, ordering, locking policy, history) is written
//! once, in this crate, and talks to a database only through a
//! `&mut dyn Session`: it is compiled once, here, not once per application
//! crate and database. A backend knows how to talk to its database and
//! nothing of the rules.
//!
//! Both traits are object-safe and may be implemented outside this crate
//! (tests/engine.rs drives the engine through an in-memory database written
//! there). Their futures are boxed: one allocation per call, next to a
//! database round trip.

use crate::core::split::Dialect;
use crate::report::{AppliedMigration, HistoryEntry};
use crate::{Checksum, Direction, Error, Language, Migration, Settings};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The future every `Database` and `Session` method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A handle the user passes to `run`: a sqlx pool, a `neo4rs::Graph`.
/// It can also read its schema ([`Snapshot`](crate::snapshot::Snapshot)).
pub trait Database: Sync + crate::snapshot::Snapshot {
    /// The language its migration files are written in: a table of another
    /// language does not compile against it.
    type Language: Language;

    /// Takes a connection for one operation (run, status, down, ...).
    /// `settings` passed `Settings::check`: its names are plain identifiers.
    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>>;
}

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
/// write beside it, atomically where the database allows. Only the engine
/// makes one (`non_exhaustive`: a field added later breaks no backend).
#[non_exhaustive]
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

impl Change<'_> {
    /// The error for a statement of this change that the database refused:
    /// the migration, its file, the statement, its line and the database's
    /// own words. `rolled_back` is false where statements before it stayed
    /// committed (the migration is then left dirty).
    pub fn failed(&self, statement: &str, line: usize, message: String, rolled_back: bool) -> Error {
        self.failed_after(statement, line, message, rolled_back, 0)
    }

    /// [`Change::failed`] under the dirty protocol: `committed` statements
    /// before this one committed (0: the mark was taken back).
    pub fn failed_after(
        &self,
        statement: &str,
        line: usize,
        message: String,
        rolled_back: bool,
        committed: u32,
    ) -> Error {
        Error::MigrationFailed {
            version: self.migration.version,
            name: self.migration.name.to_string(),
            file: self.migration.script(self.direction).file.to_string(),
            direction: self.direction,
            statement: statement.into(),
            line,
            message,
            rolled_back,
            committed,
            source: None,
        }
    }
}

/// A column of another migration tool's history table, read as text
/// (`import`): `Hex` for a binary column such as sqlx's checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignColumn {
    Text(&'static str),
    Hex(&'static str),
}

/// A batch migration's checkpoint: what its committed batches did so far.
/// Written in the same transaction as each batch, deleted in the one that
/// records the migration applied (engine/batch.rs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Checkpoint {
    pub batches: u64,
    pub rows: u64,
}

/// One batch of a batch migration (`-- migrate:batch size=N`): run
/// `statement` with `:batch` bound to `size`, in one transaction with the
/// checkpoint; when it changes no row, record `change` instead.
#[non_exhaustive]
pub struct Batch<'a> {
    pub change: &'a Change<'a>,
    /// The file's one statement, `:batch` still in it.
    pub statement: &'a str,
    /// Its line in the file, for errors.
    pub line: usize,
    pub size: u64,
    /// 1-based number of this batch, counting those before a resume.
    pub number: u64,
}

/// What one batch did: the rows it changed (0: the migration is recorded
/// applied) and the checkpoint after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchDone {
    pub rows: u64,
    pub checkpoint: Checkpoint,
}

/// A progress report of `Session::run_self_batched`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelfBatchedProgress {
    /// Rows (and batches) done so far, earlier runs included.
    pub checkpoint: Checkpoint,
    /// Of those, the rows done before this run began (for the rate).
    pub resumed_rows: u64,
    /// The count query's answer when the migration first began: the rows
    /// done then plus those left.
    pub total: Option<u64>,
}

/// One connection, for one operation. Every method leaves the database
/// consistent when it fails.
pub trait Session: Send {
    /// "SQLite", "PostgreSQL": for messages.
    fn backend(&self) -> &'static str;

    /// How this database's files are split into statements.
    fn dialect(&self) -> Dialect;

    /// Whether `script` runs in one transaction here: what the dry run
    /// says. By default, unless it says `migrate:no-transaction`.
    fn runs_in_transaction(&self, script: &crate::Script) -> bool {
        !script.no_transaction
    }

    /// The state row, or `None` when the tracking tables do not exist yet.
    /// Must not create anything: `plan` and `status` change nothing.
    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>>;

    /// Creates the tracking, history and state tables if they are missing.
    fn prepare(&mut self) -> BoxFuture<'_, Result<(), Error>>;

    /// Takes the migration lock, waiting at most `timeout`; names the holder
    /// in `Error::LockTimeout` where the database can tell.
    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>>;

    /// Releases the lock; called on every exit path after `lock` succeeded.
    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>>;

    /// Every tracking row, in version order (empty when no table yet).
    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>>;

    /// Every history row, oldest first (empty when no table yet).
    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>>;

    /// Runs one change: its statements, the tracking row, the state row and
    /// the history row. On failure nothing is recorded where the database
    /// can roll back; elsewhere the row is left dirty. Returns
    /// `Error::MigrationFailed` naming the statement.
    fn apply<'a>(&'a mut self, change: &'a Change<'a>, timeout: Duration) -> BoxFuture<'a, Result<(), Error>>;

    /// Runs every change in one transaction (group mode). Backends without
    /// transactional DDL keep this default, which refuses.
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>], timeout: Duration) -> BoxFuture<'a, Result<(), Error>> {
        let _ = (changes, timeout);
        let refused = Error::Unsupported {
            backend: self.backend(),
            what: "group mode (all migrations in one transaction)".to_string(),
        };
        Box::pin(async move { Err(refused) })
    }

    /// Records migrations as applied without running them (`baseline`,
    /// `import`): each change's tracking row and history row, then the
    /// state row of the last one, refusing with `Conflict` unless the state
    /// is the first change's `state_before`. The sqlx and Neo4j sessions do
    /// it in one transaction; this default writes one change at a time
    /// through `set_record` and `record_failure` (each step consistent: a
    /// crash leaves a prefix, which a second `baseline` completes).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            for change in changes {
                self.set_record(change.migration.version, change.record.as_ref(), &change.state_after)
                    .await?;
                self.record_failure(&change.history).await?;
            }
            Ok(())
        })
    }

    /// Every row of another tool's history table `table` (sqlx's
    /// `_sqlx_migrations`, ...) in the session's database, each column read
    /// as text (`None` for NULL). Reads only. Databases no other tool
    /// migrates keep this default, which refuses.
    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>> {
        let _ = (table, columns);
        let refused = Error::Unsupported {
            backend: self.backend(),
            what: "importing another tool's history".to_string(),
        };
        Box::pin(async move { Err(refused) })
    }

    /// Batch migrations (engine/batch.rs): the checkpoint of `version`, or
    /// `None` (also when the checkpoint table does not exist: creates
    /// nothing). Backends without batch support keep this default.
    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<Checkpoint>, Error>> {
        let _ = version;
        Box::pin(async { Ok(None) })
    }

    /// Runs one batch in one transaction: the state check (`Conflict` when
    /// another process moved it), the statement with the batch size bound,
    /// and the checkpoint; a batch that changes no row records the change
    /// (tracking, state, history) and deletes the checkpoint instead. On
    /// failure the transaction rolls back and the checkpoint stays as it was.
    fn run_batch<'a>(&'a mut self, batch: &'a Batch<'a>) -> BoxFuture<'a, Result<BatchDone, Error>> {
        let _ = batch;
        let refused = Error::Unsupported {
            backend: self.backend(),
            what: "batch migrations (migrate:batch)".to_string(),
        };
        Box::pin(async move { Err(refused) })
    }

    /// A batch migration the database batches itself (Neo4j's `CALL { ...
    /// } IN TRANSACTIONS`, `// migrate:batch` on Cypher): the state check
    /// and a checkpoint mark, then `batch.statement` once, outside any
    /// explicit transaction (the database commits each inner transaction),
    /// calling `progress` with the rows done so far as the `total` count
    /// query (when given) sees them fall; at the end the tracking writes and
    /// the checkpoint removed in one transaction. Returns the final
    /// checkpoint. A failure keeps what committed and the checkpoint, and
    /// the rerun resumes because the statement matches only unprocessed
    /// data. Backends whose batches are `run_batch` keep this default.
    fn run_self_batched<'a>(
        &'a mut self,
        batch: &'a Batch<'a>,
        total: Option<&'a str>,
        progress: &'a (dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> BoxFuture<'a, Result<Checkpoint, Error>> {
        let _ = (batch, total, progress);
        let refused = Error::Unsupported {
            backend: self.backend(),
            what: "batch migrations run by the database itself (CALL { ... } IN TRANSACTIONS)".to_string(),
        };
        Box::pin(async move { Err(refused) })
    }

    /// The number a `migrate:total` count query returns.
    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        let _ = query;
        let refused = Error::Unsupported {
            backend: self.backend(),
            what: "batch migrations (migrate:total)".to_string(),
        };
        Box::pin(async move { Err(refused) })
    }

    /// Records a run that failed (its change was rolled back).
    fn record_failure<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>>;

    /// Writes or deletes the tracking row of `version` and sets the state,
    /// running no migration: `force` and `forget`.
    fn set_record<'a>(
        &'a mut self,
        version: i64,
        record: Option<&'a AppliedMigration>,
        state: &'a State,
    ) -> BoxFuture<'a, Result<(), Error>>;
}
