//! The time and owner a session writes: the system's, or, for the Bolt
//! contract tests, fixed ones (`PinnedGraph`).

use std::time::Instant;

#[derive(Clone, Copy)]
pub(super) enum Clock {
    System,
    Pinned(&'static str),
}

impl Clock {
    /// The timestamp to record, given the one the engine took.
    pub(super) fn stamp(self, taken: &str) -> String {
        match self {
            Clock::System => taken.to_string(),
            Clock::Pinned(now) => now.to_string(),
        }
    }

    pub(super) fn millis_since(self, started: Instant) -> i64 {
        self.duration(started.elapsed().as_millis() as i64)
    }

    /// The duration to record, given the one measured.
    pub(super) fn duration(self, measured_ms: i64) -> i64 {
        match self {
            Clock::System => measured_ms,
            Clock::Pinned(_) => 0,
        }
    }
}

pub(super) use crate::lease::owner_id;
