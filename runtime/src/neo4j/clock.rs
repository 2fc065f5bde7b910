//! The time and owner a session writes: the system's, or, for the Bolt
//! contract tests, fixed ones (`PinnedGraph`).

use std::sync::atomic::{AtomicU64, Ordering};
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

/// Names the lock holder for a person reading `LockTimeout`: host, process
/// and a counter, since one process may run several sessions.
pub(super) fn owner_id() -> String {
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
    format!(
        "{host} pid {} session {session} since {}",
        std::process::id(),
        crate::core::time::now_iso8601()
    )
}
