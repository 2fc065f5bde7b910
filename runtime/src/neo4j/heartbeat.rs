//! The lock's lease and the task that renews it while the lock is held.

use super::cypher::fetch_rows;
use neo4rs::{query, Graph};
use std::sync::atomic::{AtomicBool, Ordering};
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
pub(super) fn lease_for(lock_timeout: Duration) -> Duration {
    (lock_timeout / 2).clamp(MIN_LEASE, MAX_LEASE)
}

/// The task renewing the lease; told to stop when dropped.
///
/// It is stopped by a flag it reads between renewals, never aborted: a
/// query dropped halfway would hand its pooled connection back with the
/// rest of its answer unread, and the next query on it would read that.
pub(super) struct Heartbeat {
    stop: Arc<AtomicBool>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Heartbeat {
    /// Renews the lock of `owner` every third of `lease` until stopped or
    /// the lock is no longer `owner`'s (then the next step's guard reports
    /// it). A stopped heartbeat ends at its next wake-up.
    pub(super) fn start(graph: Graph, lock_label: &str, owner: String, lease: Duration) -> Heartbeat {
        let renew = format!(
            "MATCH (l:{lock_label} {{id: 1}}) WHERE l.owner = $owner \
             SET l.expires_at = datetime() + duration({{milliseconds: $lease_ms}}) RETURN count(l) AS renewed"
        );
        let every = lease / 3;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let q = query(&renew)
                    .param("owner", owner.as_str())
                    .param("lease_ms", lease.as_millis() as i64);
                // `count` answers one row always: only a count of 0 says
                // the lock is another's. No row, or one that does not
                // decode, is an answer not read (a pooled connection that a
                // dropped query left mid-stream answers the next query with
                // no rows): stopping then would let a live holder's lease
                // lapse, so it is retried like an error.
                let renewed = fetch_rows(&graph, q)
                    .await
                    .map(|rows| rows.first().and_then(|r| r.get::<i64>("renewed").ok()));
                match renewed {
                    Ok(Some(1)) => {}
                    Ok(Some(_)) => {
                        tracing::warn!(owner = %owner, "the Neo4j migration lock is no longer ours; stopped renewing it");
                        return;
                    }
                    Ok(None) => tracing::warn!("renewing the Neo4j migration lock read no answer; retrying"),
                    Err(err) => tracing::warn!(error = %err, "renewing the Neo4j migration lock failed; retrying"),
                }
            }
        });
        Heartbeat { stop }
    }
}
