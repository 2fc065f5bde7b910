//! What every lock held as a lease shares (the Neo4j lock node, the lock
//! row of `LockMode::Table` on PostgreSQL and MySQL): how long a lease
//! lasts, who the holder is, and the task that renews it while it is held.

use crate::backend::BoxFuture;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bounds of the lease (see `lease_for`).
const MIN_LEASE: Duration = Duration::from_secs(1);
const MAX_LEASE: Duration = Duration::from_secs(30);

/// How long a lock stays valid after its last renewal: half the lock
/// timeout, so that the lock of a holder that died (SIGKILL, a lost pod)
/// expires, and is taken over, well before a waiter with the same lock
/// timeout gives up; the heartbeat renews it three times per lease, so a
/// live holder survives two missed renewals. Never shorter than a second
/// (a renewal must have time to reach the server), never longer than
/// 30 s (however long the timeout, a dead holder blocks no longer).
pub(crate) fn lease_for(lock_timeout: Duration) -> Duration {
    (lock_timeout / 2).clamp(MIN_LEASE, MAX_LEASE)
}

/// Names the lock holder for a person reading `LockTimeout`: host, process
/// and a counter, since one process may run several sessions.
pub(crate) fn owner_id() -> String {
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

/// What one renewal found.
pub(crate) enum Renewal {
    Renewed,
    /// The lock is no longer the holder's: taken over after its lease ran out.
    Lost,
    /// The renewal did not reach the server; the next one tries again.
    Failed(String),
}

/// The task renewing a lease; told to stop when dropped.
///
/// It is stopped by a flag it reads between renewals, never aborted: a
/// query dropped halfway would hand its connection back with the rest of
/// its answer unread, and the next query on it would read that.
pub(crate) struct Heartbeat {
    stop: Arc<AtomicBool>,
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    lost: Arc<AtomicBool>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Heartbeat {
    /// Calls `renew` with `state` (what it renews through: a pool, a
    /// connection of its own) every third of `lease` until stopped or a
    /// renewal finds the lock lost (`what` names the lock in the
    /// warnings). A stopped heartbeat ends at its next wake-up, and drops
    /// `state` then.
    pub(crate) fn start<S, F>(what: &'static str, lease: Duration, mut state: S, renew: F) -> Heartbeat
    where
        S: Send + 'static,
        F: for<'a> Fn(&'a mut S) -> BoxFuture<'a, Renewal> + Send + 'static,
    {
        let every = lease / 3;
        let stop = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicBool::new(false));
        let (stopped, task_lost) = (stop.clone(), lost.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                match renew(&mut state).await {
                    Renewal::Renewed => {}
                    Renewal::Lost => {
                        task_lost.store(true, Ordering::SeqCst);
                        tracing::warn!("the {what} is no longer ours; stopped renewing it");
                        return;
                    }
                    Renewal::Failed(err) => tracing::warn!(error = %err, "renewing the {what} failed; retrying"),
                }
            }
        });
        Heartbeat { stop, lost }
    }

    /// Whether a renewal found the lock taken over.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}
