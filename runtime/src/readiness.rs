//! One value that says whether a database is exactly where this binary
//! wants it: what a health endpoint returns and what `migrate check` gates
//! on. The engine builds it from `validate` and `status`
//! (engine/readiness.rs), so it reads and never writes.

use crate::report::{MigrationState, Status};
use crate::Error;

/// The one word a deploy gate or a dashboard needs, worst first when several
/// apply: `error` > `dirty` > `drifted` > `ahead` > `invalid` > `pending` >
/// `ready`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ReadinessState {
    /// Every migration of the binary applied, nothing else: serve.
    Ready,
    /// Migrations of the binary not applied yet: run `up`.
    Pending,
    /// The database has applied migrations this binary does not contain:
    /// above its latest version (a newer binary ran: deploy that one, or
    /// roll back), or inside its range (a file deleted from the folder
    /// after it was applied: restore it). `migrate validate` says which.
    Ahead,
    /// An applied migration's file changed since it was applied.
    Drifted,
    /// A migration failed halfway where the database could not roll back.
    Dirty,
    /// `validate` found another problem: a pending migration below an applied
    /// one, or a tracking table edited by hand.
    Invalid,
    /// The database could not be read.
    Error,
}

impl ReadinessState {
    /// The state as one lowercase word, as it is serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadinessState::Ready => "ready",
            ReadinessState::Pending => "pending",
            ReadinessState::Ahead => "ahead",
            ReadinessState::Drifted => "drifted",
            ReadinessState::Dirty => "dirty",
            ReadinessState::Invalid => "invalid",
            ReadinessState::Error => "error",
        }
    }

    /// `migrate check`'s exit code: 0 ready, 3 pending, 1 the database could
    /// not be read, 2 anything else (a problem found without running anything).
    pub fn exit_code(self) -> i32 {
        match self {
            ReadinessState::Ready => 0,
            ReadinessState::Error => 1,
            ReadinessState::Pending => 3,
            ReadinessState::Ahead | ReadinessState::Drifted | ReadinessState::Dirty | ReadinessState::Invalid => 2,
        }
    }
}

/// Where a database stands against this binary, in one value. Serialized
/// (feature `serde`) with these field names, so a health handler can return
/// it as it is:
///
/// ```json
/// {"state": "pending", "up_to_date": false, "current_version": 3, "latest_version": 7,
///  "pending_count": 4, "drifted": false, "dirty": false, "ahead": false, "error": null}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Readiness {
    /// The worst state that applies.
    pub state: ReadinessState,
    /// `state == Ready`: exactly at this binary's version, nothing wrong.
    pub up_to_date: bool,
    /// Highest version recorded in the database (0: none); `None` when the
    /// database could not be read.
    pub current_version: Option<i64>,
    /// Highest version in this binary.
    pub latest_version: i64,
    /// Migrations of the binary not applied (0 when the database could not be read).
    pub pending_count: usize,
    /// Some applied migration's file changed since.
    pub drifted: bool,
    /// Some migration failed halfway and is marked dirty.
    pub dirty: bool,
    /// The database has applied migrations this binary does not contain
    /// (a newer binary's, or a file deleted inside its range).
    pub ahead: bool,
    /// What went wrong, for `Error` and `Invalid` (and the problems `validate`
    /// lists with the other states).
    pub error: Option<String>,
}

impl Readiness {
    /// The summary of a status read from the database.
    pub fn of(status: &Status) -> Readiness {
        let drifted = status.count(MigrationState::Drifted) > 0;
        let dirty = status.count(MigrationState::Dirty) > 0;
        let ahead = status.count(MigrationState::Missing) > 0;
        let pending_count = status.pending_count();
        let state = if dirty {
            ReadinessState::Dirty
        } else if drifted {
            ReadinessState::Drifted
        } else if ahead {
            ReadinessState::Ahead
        } else if pending_count > 0 {
            ReadinessState::Pending
        } else {
            ReadinessState::Ready
        };
        Readiness {
            state,
            up_to_date: state == ReadinessState::Ready,
            current_version: Some(status.current_version()),
            latest_version: status.latest_version(),
            pending_count,
            drifted,
            dirty,
            ahead,
            error: None,
        }
    }

    /// The database could not be read: `latest_version` is the binary's.
    pub fn failed(latest_version: i64, error: &Error) -> Readiness {
        Readiness {
            state: ReadinessState::Error,
            up_to_date: false,
            current_version: None,
            latest_version,
            pending_count: 0,
            drifted: false,
            dirty: false,
            ahead: false,
            error: Some(error.to_string()),
        }
    }

    /// Whether the database is ready: `up_to_date`.
    pub fn is_ready(&self) -> bool {
        self.up_to_date
    }
}
