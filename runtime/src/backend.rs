//! The contract between the engine and a database.
//!
//! The engine (planning, drift, ordering, locking policy, history) is
//! written once, in this crate, and talks to a database only through a
//! `&mut dyn Session`: it is compiled once, here, not once per application
//! crate and database. A backend knows how to talk to its database and
//! nothing of the rules.
//!
//! A backend is two types: a [`Database`], the handle the user passes to
//! `run` (a pool, a graph), and the [`Session`] it opens for one operation.
//! A session does what every database must: read and write the tracking
//! records, lock, and apply one change. What only some databases can do is
//! a capability trait of its own, which the session hands out when it has
//! it: [`GroupApply`] (every pending migration in one transaction),
//! [`Batches`] or [`SelfBatches`] (batch migrations),
//! [`ForeignHistory`] (importing another tool's history), [`Backups`] (a
//! backup before `down`), and, on the
//! database, [`Snapshot`] (reading its schema). The engine asks for a
//! capability where it needs one and says plainly when the database lacks it.
//!
//! Every trait here is object-safe and may be implemented outside this
//! crate (tests/engine.rs drives the engine through an in-memory database
//! written there; docs/backend.md walks through one). Futures are boxed:
//! one allocation per call, next to a database round trip.

use crate::core::split::Dialect;
use crate::records::{AppliedMigration, Checkpoint, HistoryEntry};
use crate::snapshot::{SchemaRecord, SchemaSnapshot};
use crate::{Direction, Error, Language, Migration, Script, Settings};
use std::time::Duration;

pub use crate::records::State;

/// The future every `Database` and `Session` method returns (defined with
/// the code migrations' functions, which return it too).
pub use crate::code::BoxFuture;

/// A handle the user passes to `run`: a sqlx pool, a `neo4rs::Graph`.
pub trait Database: Sync {
    /// The language its migration files are written in: a table of another
    /// language does not compile against it.
    type Language: Language;

    /// Takes a connection for one operation (run, status, down, ...).
    /// `settings` passed `Settings::check`: its names are plain identifiers.
    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>>;

    /// Its schema, read as text, when the backend can read it: what
    /// `verify_reversible` and the schema record and check need.
    fn snapshots(&self) -> Option<&dyn Snapshot> {
        None
    }

    /// Its schema as the statements that build it, when the backend can
    /// write them: what `Migrator::squash_baseline` puts in a baseline.
    fn schema_ddl(&self) -> Option<&dyn SchemaDdl> {
        None
    }

    /// Reading the tracking records of many tenants of one server together,
    /// when the backend can: what makes the boot check, `check` and
    /// `status` of a thousand tenants a query instead of a thousand.
    fn shared_reads(&self) -> Option<&dyn SharedReads> {
        None
    }
}

/// Where one tenant's tracking tables live, as [`SharedReads`] sees them.
#[derive(Clone, Debug)]
pub struct Placement {
    /// Tenants with the same key are read in one query through any one of
    /// their handles (the same server, user and, for PostgreSQL, database).
    pub key: String,
    /// The tenant's settings with the schema (PostgreSQL) or database
    /// (MySQL) of its tracking tables named, so that a query on another
    /// tenant's connection reaches them.
    pub settings: Settings,
}

/// One tenant's records as a shared read found them: `None` when its
/// tracking tables do not exist yet.
pub type TenantRecords = Option<(State, Vec<AppliedMigration>)>;

/// A database that reads the tracking records of many tenants on one
/// server in one query (a `UNION ALL` over their tables), handed out by
/// [`Database::shared_reads`]. Only reads: any doubt (a table of an older
/// release, a permission, an error) is the caller's cue to read those
/// tenants one by one, so a shared read never decides less than the
/// per-tenant path would.
pub trait SharedReads: Sync {
    /// Where the tenant with `settings` on this handle keeps its tracking
    /// tables; `None` when it cannot be read together with others (a
    /// PostgreSQL tenant without `Settings::schema`).
    fn placement(&self, settings: &Settings) -> Option<Placement>;

    /// The server this handle reaches (`host:port`): the unit of a
    /// per-server concurrency limit (`Tenants::per_server`).
    fn server(&self) -> String;

    /// The state row of each of `tenants` (placed settings of one key), in
    /// their order; `None` for a tenant without tracking tables.
    fn read_states<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<State>>, Error>>;

    /// The state row and every tracking row of each of `tenants`, in their
    /// order; `None` for a tenant this read cannot judge (a row that does
    /// not decode, a table missing beside the others), which is then read
    /// alone and gets its own error.
    fn read_records<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<TenantRecords>>, Error>>;

    /// "PostgreSQL", "MySQL": for messages.
    fn backend(&self) -> &'static str;

    /// How this database's files are split (for a dirty row's statements).
    fn dialect(&self) -> Dialect;
}

/// One connection, for one operation. Every method leaves the database
/// consistent when it fails.
pub trait Session: Send {
    /// "SQLite", "PostgreSQL": for messages.
    fn backend(&self) -> &'static str;

    /// How this database's files are split into statements.
    fn dialect(&self) -> Dialect;

    /// The state row, or `None` when the tracking tables do not exist yet.
    /// Must not create anything: `plan` and `status` change nothing.
    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>>;

    /// Every tracking row, in version order (empty when no table yet).
    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>>;

    /// Every history row, oldest first (empty when no table yet).
    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>>;

    /// Takes the migration lock, waiting at most `timeout`; names the holder
    /// in `Error::LockTimeout` where the database can tell.
    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>>;

    /// Releases the lock; called on every exit path after `lock` succeeded.
    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>>;

    /// Creates the tracking, history and state tables (or what stands for
    /// them) where they are missing, and brings those of an older release
    /// up to date. Called under the lock.
    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>>;

    /// Runs one change: its statements, the tracking row, the state row and
    /// the history row. On failure nothing is recorded where the database
    /// can roll back; elsewhere the row is left dirty. Returns
    /// `Error::Conflict`, changing nothing, when the state is not
    /// `change.state_before`, and `Error::MigrationFailed` naming the
    /// statement when one fails.
    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>>;

    /// Writes one history row, running nothing: a failed run, a baseline,
    /// a repair.
    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>>;

    /// Writes the tracking row `edit` names (or removes it) and the state
    /// row, in one transaction where the database has them, running no
    /// migration: `force`, `forget` and `repair`.
    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>>;

    /// Whether `script` runs in one transaction here: what the dry run
    /// says. By default, unless it says `migrate:no-transaction`.
    fn runs_in_transaction(&self, script: &Script) -> bool {
        !script.no_transaction
    }

    /// Records migrations as applied without running them (`baseline`,
    /// `import`): each change's tracking row and history row, then the
    /// state row of the last one, refusing with `Conflict` unless the state
    /// is the first change's `state_before`. The sqlx and Neo4j sessions do
    /// it in one transaction; this default writes one change at a time
    /// through [`Session::rewrite_record`] and [`Session::write_history`]
    /// (each step consistent: a crash leaves a prefix, which a second
    /// `baseline` completes).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            for change in changes {
                let edit = match &change.record {
                    Some(row) => RecordEdit::Put(row),
                    None => RecordEdit::Remove(change.migration.version),
                };
                self.rewrite_record(edit, &change.state_after).await?;
                self.write_history(&change.history).await?;
            }
            Ok(())
        })
    }

    /// Every pending migration in one transaction, where DDL is
    /// transactional (`Settings::group`).
    fn group(&mut self) -> Option<&mut dyn GroupApply> {
        None
    }

    /// A database with nothing applied provisioned in one transaction: the
    /// tracking tables and every migration, all or nothing.
    fn provision(&mut self) -> Option<&mut dyn Provision> {
        None
    }

    /// Batch migrations (`migrate:batch`), run batch by batch by the engine
    /// or by the database itself.
    fn batches(&mut self) -> Option<BatchSupport<'_>> {
        None
    }

    /// Reading another migration tool's history table (`import`).
    fn foreign_history(&mut self) -> Option<&mut dyn ForeignHistory> {
        None
    }

    /// Writing a backup of the database before `down` reverts anything
    /// (`Migrator::down_with_backup`). Without it such a `down` is refused.
    fn backups(&mut self) -> Option<&mut dyn Backups> {
        None
    }
}

/// A database that writes its schema as statements (handed out by
/// [`Database::schema_ddl`]): what a squashed folder's baseline holds.
pub trait SchemaDdl: Sync {
    /// The statements that build the schema of this database on an empty
    /// one, in an order that runs: tables, indexes, views, routines and
    /// triggers, without the tracking tables of `settings` nor their rows,
    /// nor anything that only sets the session. Data is not included.
    fn schema_ddl<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<String, Error>>;
}

/// A database that can write a backup of itself, handed out by
/// [`Session::backups`]: what `down` takes, under the migration lock,
/// before it reverts anything.
pub trait Backups: Send {
    /// Writes the whole database to `backup.path()`, which must not exist
    /// yet; returns only once the backup is complete. A failure
    /// ([`Backup::failed`](crate::Backup::failed), naming what is missing
    /// or what the database or the dump program said) leaves no file at
    /// the path.
    fn write_backup<'a>(&'a mut self, backup: &'a crate::Backup) -> BoxFuture<'a, Result<(), Error>>;
}

/// The tracking row [`Session::rewrite_record`] writes beside the state row.
#[derive(Clone, Copy, Debug)]
pub enum RecordEdit<'a> {
    /// This row, replacing the row of its version if there is one.
    Put(&'a AppliedMigration),
    /// The row of this version removed.
    Remove(i64),
    /// No tracking row changes: the state row alone.
    StateOnly,
}

/// One migration to run in one direction, with everything the backend must
/// write beside it, atomically where the database allows. Only the engine
/// makes one (`non_exhaustive`: a field added later breaks no backend).
#[non_exhaustive]
pub struct Change<'a> {
    /// The migration, with both its scripts.
    pub migration: &'a Migration,
    /// Which of its scripts runs.
    pub direction: Direction,
    /// For up: the tracking row to insert. For down: `None`, the row of
    /// `migration.version` is deleted.
    pub record: Option<AppliedMigration>,
    /// The state the plan was made on. If the database holds another, some
    /// other process got there first: the backend returns `Error::Conflict`
    /// without changing anything.
    pub state_before: State,
    /// The state once this change is recorded.
    pub state_after: State,
    /// History row written with the change; the backend fills in the duration
    /// when it knows it (`duration_ms` is 0 here).
    pub history: HistoryEntry,
    /// For a Rust code migration: its function for `direction`, which runs
    /// instead of the script's (empty) text. A backend that runs no code
    /// migration is never handed one: the engine refuses a table whose
    /// code was written for another database than `Session::backend`.
    pub code: Option<crate::code::Code>,
    /// The text that runs: the script's with its placeholders substituted
    /// ([`Change::text`]).
    pub(crate) text: std::borrow::Cow<'static, str>,
}

impl Change<'_> {
    /// The text of the script that runs, its `${name}` placeholders
    /// replaced by the settings' values and its `$${` escapes undone: what
    /// a backend runs, rather than `migration.script(direction).text`,
    /// which is the file as written (what the checksum covers).
    pub fn text(&self) -> &str {
        &self.text
    }

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
            file: self.migration.script(self.direction).file,
            direction: self.direction,
            statement: statement.into(),
            line,
            message,
            rolled_back,
            committed,
            batches: None,
            number: committed + 1,
            source: None,
        }
    }

    /// A batch migration's statement failed after the batches in `done`
    /// committed (they stay; the checkpoint keeps them); `rolled_back`:
    /// the failing batch itself was rolled back.
    pub fn batch_failed(
        &self,
        statement: &str,
        line: usize,
        message: String,
        rolled_back: bool,
        done: Checkpoint,
    ) -> Error {
        let mut err = self.failed(statement, line, message, rolled_back);
        if let Error::MigrationFailed { batches, .. } = &mut err {
            *batches = Some(Box::new(done));
        }
        err
    }
}

impl Error {
    /// A `MigrationFailed` whose failing statement is the file's `number`th
    /// (see its `number`): statements after the committed ones ran in a
    /// transaction of the file's own, rolled back with it.
    #[cfg_attr(
        not(any(
            feature = "sqlite",
            feature = "postgres",
            feature = "mysql",
            feature = "rusqlite",
            feature = "tokio-postgres"
        )),
        allow(dead_code)
    )]
    pub(crate) fn at_statement(mut self, at: u32) -> Self {
        if let Error::MigrationFailed { number, .. } = &mut self {
            *number = at;
        }
        self
    }
}

/// A session that can run every pending migration in one transaction.
pub trait GroupApply: Send {
    /// Runs every change in one transaction: all applied and recorded, or
    /// none. Errors as [`Session::apply`].
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>>;
}

/// A session that can provision a database with nothing applied (no
/// tracking tables yet) in one transaction: the tracking tables, then each
/// change with the records a one-by-one run writes, committed together. A
/// failure leaves the database as it found it: no table, no record.
pub trait Provision: Send {
    /// Whether the engine provisions so outside group mode, when
    /// `Settings::provision_in_one_transaction` asks (PostgreSQL: yes;
    /// SQLite: only in group mode too, where a first run holding the file's
    /// one write lock throughout was asked for).
    fn by_default(&self) -> bool;

    /// Creates the tracking tables and runs `changes` (the first one's
    /// `state_before` the empty state), in one transaction. Errors as
    /// [`Session::apply`].
    fn provision<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>>;
}

/// What every batch-capable session keeps: the checkpoints of batch
/// migrations, and the answer of their `migrate:total` count queries.
pub trait Checkpoints: Send {
    /// The checkpoint of `version`, or `None` (also when the checkpoint
    /// table does not exist: creates nothing).
    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<Checkpoint>, Error>>;

    /// The number a `migrate:total` count query returns.
    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>>;
}

/// Batch migrations the engine runs batch by batch: the SQL databases'
/// statements, and every database's batch code migrations.
pub trait Batches: Checkpoints {
    /// Runs one batch in one transaction: the state check (`Conflict` when
    /// another process moved it), the statement with the batch size bound
    /// (for a batch code migration, `batch.change.code`: its `up` called
    /// with the size, returning the rows it processed), and the checkpoint; a batch that changes no row records the change
    /// (tracking, state, history) and deletes the checkpoint instead. On
    /// failure the transaction rolls back and the checkpoint stays as it was.
    fn run_batch<'a>(&'a mut self, batch: &'a Batch<'a>) -> BoxFuture<'a, Result<BatchDone, Error>>;
}

/// Batch migrations the database batches itself (Neo4j's `CALL { ... } IN
/// TRANSACTIONS`). A batch code migration has no statement to hand the
/// database, so such a session runs those batch by batch too: [`Batches`].
pub trait SelfBatches: Batches {
    /// The state check and a checkpoint mark, then `batch.statement` once,
    /// outside any explicit transaction (the database commits each inner
    /// transaction), calling `progress` with the rows done so far as the
    /// `total` count query (when given) sees them fall; at the end the
    /// tracking writes and the checkpoint removed in one transaction.
    /// Returns the final checkpoint. A failure keeps what committed and the
    /// checkpoint, and the rerun resumes because the statement matches only
    /// unprocessed data.
    fn run_self_batched<'a>(
        &'a mut self,
        batch: &'a Batch<'a>,
        total: Option<&'a str>,
        progress: &'a (dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> BoxFuture<'a, Result<Checkpoint, Error>>;
}

/// How a session runs batch migrations.
pub enum BatchSupport<'s> {
    /// One batch per call, the engine looping until a batch changes no row.
    Statement(&'s mut dyn Batches),
    /// One call, the database batching inside it.
    Database(&'s mut dyn SelfBatches),
}

impl<'s> BatchSupport<'s> {
    /// The checkpoints, whichever way the batches run.
    pub fn checkpoints(self) -> &'s mut dyn Checkpoints {
        match self {
            BatchSupport::Statement(batches) => batches,
            BatchSupport::Database(batches) => batches,
        }
    }
}

/// One batch of a batch migration (`-- migrate:batch size=N`): run
/// `statement` with `:batch` bound to `size`, in one transaction with the
/// checkpoint; when it changes no row, record `change` instead.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Batch<'a> {
    /// The migration the batch belongs to, with its tracking writes.
    pub change: &'a Change<'a>,
    /// The file's one statement, `:batch` still in it.
    pub statement: &'a str,
    /// Its line in the file, for errors.
    pub line: usize,
    /// Rows per batch.
    pub size: u64,
    /// 1-based number of this batch, counting those before a resume.
    pub number: u64,
}

/// What one batch did: the rows it changed (0: the migration is recorded
/// applied) and the checkpoint after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchDone {
    /// Rows the batch changed.
    pub rows: u64,
    /// The checkpoint after it.
    pub checkpoint: Checkpoint,
}

/// A progress report of [`SelfBatches::run_self_batched`].
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

/// A session that can read another migration tool's history table.
pub trait ForeignHistory: Send {
    /// Every row of `table` (sqlx's `_sqlx_migrations`, ...) in the
    /// session's database, each column read as text (`None` for NULL).
    /// Reads only.
    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>>;
}

/// A column of another migration tool's history table, read as text
/// (`import`): `Hex` for a binary column such as sqlx's checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignColumn {
    /// A column cast to text.
    Text(&'static str),
    /// A binary column, as lowercase hex.
    Hex(&'static str),
}

/// What [`Snapshot`]'s methods return.
pub type SnapshotFuture<'a, T> = BoxFuture<'a, Result<T, Error>>;

/// A database whose schema can be read as a [`SchemaSnapshot`], and which
/// can keep one [`SchemaRecord`] (in a table `<table>_schema`, or a node
/// labelled after the tracking nodes in Neo4j). The four backends of this
/// crate are; [`Database::snapshots`] hands it out.
pub trait Snapshot: Sync {
    /// The schema now, without the tracking tables of `settings`.
    fn snapshot<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, SchemaSnapshot>;

    /// Replaces the stored schema record (creating its table or node).
    fn save_schema_record<'a>(&'a self, settings: &'a Settings, record: &'a SchemaRecord) -> SnapshotFuture<'a, ()>;

    /// The stored schema record, `None` when none was ever saved.
    fn load_schema_record<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, Option<SchemaRecord>>;
}
