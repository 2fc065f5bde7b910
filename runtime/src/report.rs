use crate::{Checksum, Direction};
use std::time::Duration;

/// A row of the tracking table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: Checksum,
    pub applied_at: String,
    pub execution_ms: i64,
    /// A run of it failed or was interrupted after changing the database.
    pub dirty: bool,
}

/// A row of the history table: one up or down run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    pub started_at: String,
    pub duration_ms: i64,
    pub success: bool,
    pub error: Option<String>,
    pub reason: Option<String>,
}

/// What one operation did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub steps: Vec<StepReport>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct StepReport {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    pub duration: Duration,
}

/// What an operation would do: the steps in order, with their statements.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub steps: Vec<PlannedStep>,
}

#[derive(Clone, Debug)]
pub struct PlannedStep {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
    pub file: String,
    pub no_transaction: bool,
    /// The statements exactly as they would be sent.
    pub statements: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
    /// Applied, but the file changed since.
    Drifted,
    /// Applied, but not in this binary.
    Missing,
    /// A run failed halfway where the database could not roll back.
    Dirty,
}

impl MigrationState {
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Drifted => "drifted",
            MigrationState::Missing => "missing",
            MigrationState::Dirty => "dirty",
        }
    }
}

#[derive(Clone, Debug)]
pub struct StatusEntry {
    pub version: i64,
    pub name: String,
    pub description: Option<String>,
    pub state: MigrationState,
    pub applied_at: Option<String>,
    pub execution_ms: Option<i64>,
    pub irreversible: bool,
}

/// Every migration of the binary and the database, in version order.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub entries: Vec<StatusEntry>,
}

impl Status {
    /// Highest applied version, 0 when none.
    pub fn current_version(&self) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.state != MigrationState::Pending)
            .map(|e| e.version)
            .max()
            .unwrap_or(0)
    }

    /// Highest version in the binary, 0 when none.
    pub fn latest_version(&self) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.state != MigrationState::Missing)
            .map(|e| e.version)
            .max()
            .unwrap_or(0)
    }

    pub fn count(&self, state: MigrationState) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }

    pub fn pending_count(&self) -> usize {
        self.count(MigrationState::Pending)
    }

    /// Nothing pending, drifted, missing or dirty.
    pub fn is_up_to_date(&self) -> bool {
        self.entries.iter().all(|e| e.state == MigrationState::Applied)
    }
}

/// Progress of an operation, for command lines and logs.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// 1-based position of this step, and the number of steps.
    pub index: usize,
    pub total: usize,
    pub version: i64,
    pub name: &'a str,
    pub direction: Direction,
    pub event: ProgressEvent,
}

#[derive(Clone, Debug)]
pub enum ProgressEvent {
    Started,
    Finished(Duration),
    Failed(Duration),
}
