//! What the tracking tables hold: a row per applied migration, a row per
//! run in the history, the one-row summary the boot check reads, and a
//! batch migration's checkpoint. The engine plans on these, each backend
//! stores them, and reports hand them to the user.

use crate::{Checksum, Direction};

/// A row of the tracking table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The migration's version (a repeatable migration's negative key).
    pub version: i64,
    /// The migration's name, as recorded.
    pub name: String,
    /// The up file's checksum when it was applied (or the one `repair`
    /// accepted since).
    pub checksum: Checksum,
    /// When it was applied: ISO 8601 in UTC, from the clock of the process
    /// that applied it, as the run started.
    pub applied_at: String,
    /// Milliseconds its run took, as the backend measured it; 0 when it was
    /// recorded without running (`force`, `baseline`, `import`).
    pub execution_ms: i64,
    /// A run of it failed or was interrupted after changing the database.
    pub dirty: bool,
    /// For a dirty row: which run left it so, and how far it got. `None`
    /// for a clean row, and for a dirty one written before the tracking
    /// table recorded it.
    pub dirty_run: Option<DirtyRun>,
}

/// The run that left a tracking row dirty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirtyRun {
    /// Whether that run applied or reverted the migration.
    pub direction: Direction,
    /// Statements of its file that committed, counted as each one did
    /// (SQL backends; Neo4j records the direction only).
    pub committed: Option<u64>,
}

/// A row of the history table: one up or down run.
///
/// Serialized (feature `serde`) with the field names below; `direction` is
/// `"up"` or `"down"`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HistoryEntry {
    /// The migration's version; for a `repair` row, the accepted edit's
    /// version, or else the last applied one.
    pub version: i64,
    /// The migration's name; `repair` for a repair of the state row alone.
    pub name: String,
    /// Whether the run applied or reverted it (`up` for a `repair` row).
    #[cfg_attr(feature = "serde", serde(serialize_with = "direction_str"))]
    pub direction: Direction,
    /// When the run started: ISO 8601 in UTC, from this process's clock.
    pub started_at: String,
    /// Milliseconds the run took, as the backend measured it; 0 when nothing
    /// ran (`repair`, `baseline`, `import`).
    pub duration_ms: i64,
    /// Whether the run succeeded.
    pub success: bool,
    /// The error's message, when it failed.
    pub error: Option<String>,
    /// Why: the reason given to the operation (`Migrator::reason`,
    /// `--reason`); for `baseline` and `import`, the adoption's reason; for
    /// `repair`, what it changed and the reason given.
    pub reason: Option<String>,
    /// The placeholder values the run's file used, as a JSON object
    /// (`{"schema": "app", "password": "***"}`: a secret one as
    /// [`SECRET`](crate::SECRET)); `None` when it used none.
    pub placeholders: Option<String>,
}

/// The summary of the tracking table kept in one row, updated in the same
/// transaction as each change, so that a boot with nothing pending reads one
/// row instead of every applied migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// How many tracking rows there are.
    pub applied_count: i64,
    /// The highest applied version (0: none).
    pub last_version: i64,
    /// Running hash over (version, checksum) of the applied rows, in order.
    pub chain: Checksum,
    /// Some tracking row is dirty.
    pub dirty: bool,
}

impl State {
    /// The state of a database with no migration applied.
    pub const EMPTY: State = State {
        applied_count: 0,
        last_version: 0,
        chain: Checksum::ZERO,
        dirty: false,
    };
}

/// A batch migration's checkpoint: what its committed batches did so far.
/// Written in the same transaction as each batch, deleted in the one that
/// records the migration applied (engine/batch.rs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Checkpoint {
    /// Batches committed.
    pub batches: u64,
    /// Rows those batches changed.
    pub rows: u64,
}

/// `direction` as `"up"` or `"down"` (serde's `serialize_with`).
#[cfg(feature = "serde")]
pub(crate) fn direction_str<S: serde::Serializer>(direction: &Direction, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(direction.as_str())
}
