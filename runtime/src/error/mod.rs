//! Every error of the crate: the kinds and what each carries (how each
//! reads is display.rs).

use crate::backend::State;
use crate::{Checksum, Direction};
use std::fmt;
use std::time::Duration;

mod display;

/// The driver's own error behind an [`Error`], reachable through
/// `std::error::Error::source` (downcast it to `sqlx::Error` or
/// `neo4rs::Error`). Boxed once more where it is kept, so that it costs
/// `Error` one thin pointer: `Error` stays within clippy's
/// `result_large_err` limit in every caller's code.
pub(crate) type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which of a migration's timeouts the database stopped a statement at
/// ([`Error::TimedOut`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    /// The statement ran longer than this (`migrate:timeout statement=`,
    /// `Settings::statement_timeout`).
    Statement(Duration),
    /// The statement waited longer than this for a lock another session
    /// held (`migrate:timeout lock=`, `Settings::statement_lock_timeout`).
    Lock(Duration),
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timeout::Statement(limit) => write!(f, "statement timeout of {}", crate::core::timeout::show(*limit)),
            Timeout::Lock(limit) => write!(f, "lock timeout of {}", crate::core::timeout::show(*limit)),
        }
    }
}

/// Everything that can go wrong at run time. Each message names what a
/// person needs to act: the migration, the file, the statement, the
/// database's own words; `source()` gives the driver's error where there
/// is one. (Display is written by hand below; thiserror derives `source`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A migration's statement failed. The migration was rolled back (where
    /// the database can) and not recorded.
    MigrationFailed {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// The file that ran, as named in the folder (the down file when
        /// reverting). (Borrowed from the embedded set, so that `source`,
        /// `batches` and `number` fit without making `Error` larger.)
        file: &'static str,
        /// Whether it was applying or reverting.
        direction: Direction,
        /// The failing statement, and its line in the file. (Boxed, so that
        /// `source` fits without making `Error` larger.)
        statement: Box<str>,
        /// The 1-based line of the file where the statement starts; on
        /// PostgreSQL, the line the server's error position points at, when
        /// it gives one.
        line: usize,
        /// The database's own message (on PostgreSQL with its SQLSTATE,
        /// detail, hint and context). A batch migration's also says what its
        /// checkpoint keeps; one stopped because it would never end has the
        /// runtime's words instead.
        message: String,
        /// False where the database committed part of the file (no
        /// transaction, or MySQL DDL): the migration is then marked dirty.
        rolled_back: bool,
        /// Where nothing was rolled back: how many statements of the file
        /// committed, counted from the first (0: none, and the migration
        /// is not marked dirty).
        committed: u32,
        /// A batch migration's: the batches (and rows) committed before the
        /// failure, which stay, kept by its checkpoint; the next run resumes
        /// after them. `None` for any other migration. (Boxed, as
        /// `statement`, to keep `Error` small.)
        batches: Option<Box<crate::Checkpoint>>,
        /// The failing statement's number in the file, counted from 1.
        /// Usually `committed + 1`; more where statements between them ran
        /// in a transaction the file opened itself, and were rolled back
        /// with it.
        number: u32,
        /// The driver's error.
        source: Option<Box<Source>>,
    },
    /// An applied migration's file changed since it was applied.
    Drift {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// The up file, as named in the folder.
        file: String,
        /// The checksum recorded in the tracking row when it was applied.
        recorded: Checksum,
        /// The checksum of the up file embedded in this binary.
        embedded: Checksum,
    },
    /// Migrations recorded in the database that this binary does not have.
    MissingInBinary {
        /// `(version, name)` of each such row, as recorded.
        migrations: Vec<(i64, String)>,
    },
    /// The database is ahead of this binary: migrations recorded above its
    /// highest version (`latest`), applied by a newer release.
    /// `Settings::allow_ahead(true)` accepts it (rolling deploys).
    Ahead {
        /// This binary's highest version (0 when it has no migration).
        latest: i64,
        /// `(version, name)` of each row above `latest`, as recorded.
        migrations: Vec<(i64, String)>,
    },
    /// The tracking table holds another migration set's rows: no applied
    /// row has a version and name of this binary. Two applications share
    /// one tracking table in one database.
    ForeignTable {
        /// The tracking table's name, as set by `Settings::table`.
        table: String,
        /// The rows, first few.
        rows: Vec<(i64, String)>,
        /// How many versioned rows the table holds.
        count: usize,
    },
    /// A pending migration below the highest applied one.
    OutOfOrder {
        /// The pending migration's version.
        version: i64,
        /// The pending migration's name.
        name: String,
        /// Its up file, as named in the folder.
        file: String,
        /// The highest version applied (repeatable migrations aside).
        highest_applied: i64,
    },
    /// A migration that failed halfway where the database cannot roll back.
    Dirty {
        /// The dirty row's version.
        version: i64,
        /// The dirty row's name, as recorded.
        name: String,
        /// The direction of the run that failed or was interrupted.
        direction: Direction,
        /// How far it got, where the tracking row counted it (rows written
        /// before the count existed have none).
        committed: Option<Committed>,
    },
    /// A migration's statement ran past one of its timeouts
    /// (`migrate:timeout` in its file, or `Settings::statement_timeout` /
    /// `Settings::statement_lock_timeout`) and the database stopped it.
    /// `error` is the [`Error::MigrationFailed`] of that statement, with
    /// the database's message: the migration is not recorded (rolled back,
    /// or on MySQL with what committed before it, as any failure there).
    TimedOut {
        /// Which timeout, and its value.
        timeout: Timeout,
        /// The statement's failure, `MigrationFailed`.
        #[source]
        error: Box<Error>,
    },
    /// Another process held the migration lock for longer than the timeout.
    LockTimeout {
        /// The database, as messages name it (`PostgreSQL`, `SQLite`, ...).
        backend: &'static str,
        /// How long it waited, from its first attempt.
        waited: Duration,
        /// Who holds the lock, as far as the database tells (a PostgreSQL
        /// session, a MySQL connection, the SQLite lock file, the Neo4j lock
        /// node's owner); `None` when it does not.
        holder: Option<String>,
    },
    /// The down file says `migrate:irreversible`.
    Irreversible {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// The down file, as named in the folder.
        file: String,
    },
    /// A version asked for is not where the operation needs it: the
    /// binary has no such migration (`force`, `baseline`, `up --to`,
    /// `repair --accept-edit`), the database has no record of it
    /// (`forget`), or neither (`down --to`). The message says which side
    /// lacks it.
    UnknownVersion {
        /// The version asked for.
        version: i64,
        /// The binary has a migration of this version.
        in_binary: bool,
        /// The database has a tracking row of this version; `None` when
        /// the operation refused before reading it.
        in_database: Option<bool>,
    },
    /// `repair --accept-edit`: the migration is in the binary but not
    /// applied, so there is no recorded checksum to replace.
    NotApplied {
        /// The version asked for.
        version: i64,
        /// The migration's name.
        name: String,
    },
    /// The backend cannot do what was asked (e.g. group mode on MySQL).
    Unsupported {
        /// The database, as messages name it (`this database` when the
        /// `Database` gives no schema snapshots).
        backend: &'static str,
        /// What it cannot do (`group mode (all migrations in one
        /// transaction)`, ...).
        what: String,
    },
    /// The settings, or the migrations with them, cannot run: a table or
    /// schema name that is not a plain identifier, a MySQL connection
    /// without a default database, group mode with a `no-transaction` or
    /// batch migration, a batch migration that is not one statement.
    InvalidSettings {
        /// What is wrong, naming the setting or the file.
        message: String,
    },
    /// `validate` found these problems.
    Invalid {
        /// Every problem found, each its own error.
        problems: Vec<Error>,
    },
    /// The database failed outside a migration: connecting, tracking tables,
    /// the lock.
    Database {
        /// The database, as messages name it (`PostgreSQL`, `SQLite`, ...).
        backend: &'static str,
        /// What was being done (`reading the state`, ...).
        operation: String,
        /// The database's or the driver's own message (with what the failure
        /// leaves behind, where that matters), or the runtime's own words
        /// where it found the problem itself (a lost Neo4j lock, ...).
        message: String,
        /// The driver's error.
        source: Option<Box<Source>>,
    },
    /// One migration set of several (`Targets`) or one tenant (`Tenants`)
    /// failed with `error`.
    Target {
        /// The set's or the tenant's name.
        name: String,
        /// `name` is a tenant's (of a `Tenants` set), not a migration set's:
        /// the message says which.
        tenant: bool,
        /// What went wrong there.
        error: Box<Error>,
    },
    /// `run` (or `down`) failed with `error` after it had applied (or
    /// reverted) the migrations in `applied`, which stay applied: what a
    /// caller would have had in the `Report`. Returned only when at least
    /// one step finished; [`Error::cause`] gives `error` either way.
    Incomplete {
        /// The steps that finished before the failure, in order.
        applied: crate::Report,
        /// What stopped the run.
        #[source]
        error: Box<Error>,
    },
    /// Under the migration lock, the state row disagrees with the tracking
    /// rows: they were edited by hand or restored in part. Nothing was
    /// applied; the message says how to make them agree.
    StateMismatch {
        /// The database, as messages name it (`PostgreSQL`, `SQLite`, ...).
        backend: &'static str,
        /// What the state row says (boxed, like `rows`, to keep `Error` small).
        recorded: Box<State>,
        /// What the tracking rows say.
        rows: Box<State>,
    },
    /// Other processes kept changing the migration state while this one
    /// planned: it stopped after `rounds` plans, between two migrations.
    Contended {
        /// The database, as messages name it (`PostgreSQL`, `SQLite`, ...).
        backend: &'static str,
        /// How many times it planned before it stopped.
        rounds: usize,
    },
    /// `migrate verify`: this migration's down file leaves a schema other
    /// than the one its up file started from. (The API's
    /// `verify_reversible` returns the same finding in its `Reversibility`.)
    NotReversible {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// Its down file, as named in the folder.
        file: String,
        /// The objects that differ (`index users_email`, ...).
        objects: Vec<String>,
    },
    /// `migrate schema check`: the live schema is not the one recorded
    /// after the last migration (or none was recorded). (The API's
    /// `check_schema` returns the same finding in its `SchemaCheck`.)
    SchemaChanged {
        /// The version the schema was recorded at; `None` when no schema
        /// was recorded.
        recorded_version: Option<i64>,
        /// The database's current version.
        current_version: i64,
        /// The objects that differ (`index users_email`, ...); empty when
        /// none was recorded.
        objects: Vec<String>,
    },
    /// `baseline` or `import` was refused, and nothing was written: every
    /// tracking row or row of the other tool that disagrees with this
    /// binary, one line each, naming the version.
    Adoption {
        /// `baseline` or `import from sqlx`, ...
        what: String,
        /// One line per disagreement, naming the version.
        problems: Vec<String>,
    },
    /// The backup asked for before a `down` (`Migrator::down_with_backup`,
    /// `migrate down --backup`) could not be written, so nothing was
    /// reverted: the dump program is missing or failed, the path exists
    /// already or cannot be written, or the database has no backup.
    BackupFailed {
        /// The database, as messages name it.
        backend: &'static str,
        /// Where the backup was to be written.
        path: std::path::PathBuf,
        /// Why it was not: the program's or the database's own words.
        message: String,
    },
    /// A checksum in the tracking tables is not a SHA-256 in hex: the row
    /// was edited by hand or damaged. Nothing was applied.
    CorruptChecksum {
        /// The database, as messages name it (`PostgreSQL`, `SQLite`, ...).
        backend: &'static str,
        /// The tracking row's version; `None` for the state row's chain.
        version: Option<i64>,
        /// The text stored in its place.
        stored: String,
    },
    /// A Rust code migration's function returned an error or panicked.
    CodeFailed {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: String,
        /// Its file, as named in the folder (`004_split_names.rs`).
        file: String,
        /// Whether it was applying or reverting.
        direction: Direction,
        /// The function's error, or the panic's message.
        message: String,
        /// The function panicked (no `source` then).
        panicked: bool,
        /// True where the function ran in the migration's transaction and
        /// its writes were rolled back with the record; false where the
        /// migration is left marked dirty (MySQL, `migrate:no-transaction`).
        rolled_back: bool,
        /// For a batch code migration: the batches committed before the one
        /// that failed (they stay, and a new run resumes after them).
        batches: Option<Box<crate::records::Checkpoint>>,
        /// The error the function returned.
        source: Option<Box<Source>>,
    },
    /// A Rust code migration's function was written for another database
    /// than the one the set runs on (embedded with another `database = ...`).
    /// Nothing ran.
    CodeForAnotherDatabase {
        /// The code migration's file.
        file: String,
        /// The database its functions take a transaction of.
        written_for: &'static str,
        /// The database the set was run on.
        database: &'static str,
    },
    /// Files use placeholders the settings give no value for
    /// (`Settings::placeholder`). Checked before anything runs: nothing was
    /// changed.
    MissingPlaceholders {
        /// Each name without a value, with the files that use it.
        missing: Vec<MissingPlaceholder>,
    },
    #[doc(hidden)]
    /// Another process changed the tracking state between plan and apply;
    /// the engine re-reads and plans again. Never returned to callers.
    Conflict,
}

impl Error {
    pub(crate) fn database(backend: &'static str, operation: impl Into<String>, err: impl fmt::Display) -> Error {
        Error::Database {
            backend,
            operation: operation.into(),
            message: err.to_string(),
            source: None,
        }
    }

    /// Keeps `source`, the driver's error this one was made from, for
    /// `std::error::Error::source`. `Database` and `MigrationFailed` carry
    /// one; other errors are returned as they are.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        if let Error::Database { source: slot, .. } | Error::MigrationFailed { source: slot, .. } = &mut self {
            *slot = Some(Box::new(Box::new(source)));
        }
        self
    }

    /// The migrations this failed `run`/`down` applied (reverted) before
    /// the failure, in order; empty when none, or for other operations.
    pub fn applied(&self) -> &[crate::StepReport] {
        match self {
            Error::Incomplete { applied, .. } => &applied.steps,
            Error::Target { error, .. } => error.applied(),
            _ => &[],
        }
    }

    /// What went wrong, without the report of an `Incomplete` run: the
    /// error to match on (`MigrationFailed`, `Contended`, ...).
    pub fn cause(&self) -> &Error {
        match self {
            Error::Incomplete { error, .. } => error.cause(),
            other => other,
        }
    }

    /// `error`, with the steps that finished before it when there are any.
    pub(crate) fn after(applied: crate::Report, error: Error) -> Error {
        if applied.is_empty() || matches!(error, Error::Incomplete { .. }) {
            error
        } else {
            Error::Incomplete {
                applied,
                error: Box::new(error),
            }
        }
    }

    /// Exit code for command lines: 2 for problems found before anything ran
    /// (validation, settings, usage), 1 for failures while running.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Drift { .. }
            | Error::MissingInBinary { .. }
            | Error::Ahead { .. }
            | Error::ForeignTable { .. }
            | Error::OutOfOrder { .. }
            | Error::Irreversible { .. }
            | Error::UnknownVersion { .. }
            | Error::NotApplied { .. }
            | Error::InvalidSettings { .. }
            | Error::Invalid { .. }
            | Error::StateMismatch { .. }
            | Error::Dirty { .. }
            | Error::Adoption { .. }
            | Error::NotReversible { .. }
            | Error::SchemaChanged { .. }
            | Error::CorruptChecksum { .. }
            | Error::CodeForAnotherDatabase { .. }
            | Error::MissingPlaceholders { .. } => 2,
            Error::Target { error, .. } | Error::Incomplete { error, .. } | Error::TimedOut { error, .. } => {
                error.exit_code()
            }
            _ => 1,
        }
    }
}

/// The decoding error of a tracking row whose checksum is not hex: carried
/// through the driver's decode error to [`Error::CorruptChecksum`].
#[derive(Debug)]
pub(crate) struct CorruptChecksum {
    pub version: Option<i64>,
    pub stored: String,
}

impl std::error::Error for CorruptChecksum {}

impl CorruptChecksum {
    /// `stored` parsed, or this error.
    pub(crate) fn parse(version: Option<i64>, stored: &str) -> Result<Checksum, CorruptChecksum> {
        Checksum::from_hex(stored).ok_or_else(|| CorruptChecksum {
            version,
            stored: stored.to_string(),
        })
    }

    pub(crate) fn into_error(self, backend: &'static str) -> Error {
        Error::CorruptChecksum {
            backend,
            version: self.version,
            stored: self.stored,
        }
    }
}

/// How far a run under the dirty protocol got: the statements of its file
/// that committed, counted in the tracking row as each one did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Statements that committed, counted from the first.
    pub statements: u64,
    /// The file's statement count, where the binary still has the file.
    pub total: Option<usize>,
    /// The line of each committed statement (the first ten).
    pub lines: Vec<usize>,
    /// The line of the statement after them: it failed or was cut off, or
    /// ran in a transaction of the file's own that was rolled back.
    pub next_line: Option<usize>,
}

/// A placeholder no value is given for, and the files that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingPlaceholder {
    /// The name, as in `${name}`.
    pub name: String,
    /// The files that use it, as named in the folder, in version order.
    pub files: Vec<&'static str>,
}
