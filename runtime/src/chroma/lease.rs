//! The lease of a held lock (lock.rs): its expiry in the lock collection's
//! metadata, renewed by a background task every third of a lease, by the
//! collection's id; a renewal answered `404` means the lock was taken over.

use super::client::{ChromaClient, Metadata};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The lock this session holds.
pub(super) struct Held {
    /// The lock collection's id, from its creation.
    id: String,
    /// Set by the heartbeat when a renewal finds the lock gone.
    lost: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// Milliseconds since the epoch, in this process's clock: what the
/// expiry is written in.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// The lock collection's metadata: its holder, since when, and the expiry
/// a lease from now.
pub(super) fn lock_metadata(owner: &str, acquired_at: &str, lease: Duration) -> Metadata {
    let mut metadata = Metadata::new();
    metadata.insert("owner".into(), Value::String(owner.to_string()));
    metadata.insert("acquired_at".into(), Value::String(acquired_at.to_string()));
    metadata.insert("expires_at_ms".into(), Value::from(now_ms() + lease.as_millis() as i64));
    metadata
}

impl Held {
    /// Starts renewing the lease of the lock collection `id`.
    pub(super) fn start(client: &ChromaClient, owner: &str, acquired_at: String, id: String, lease: Duration) -> Held {
        let lost = Arc::new(AtomicBool::new(false));
        let client = client.clone();
        let owner = owner.to_string();
        let task_id = id.clone();
        let task_lost = lost.clone();
        let heartbeat = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let metadata = lock_metadata(&owner, &acquired_at, lease);
                match client.modify_collection(&task_id, None, Some(&metadata)).await {
                    Ok(()) => {}
                    Err(err) if err.is_not_found() => {
                        task_lost.store(true, Ordering::SeqCst);
                        tracing::error!("the Chroma migration lock was taken over after its lease expired");
                        return;
                    }
                    // A missed renewal is retried; the lease has two more.
                    Err(err) => tracing::warn!("renewing the Chroma migration lock failed: {err}"),
                }
            }
        });
        Held { id, lost, heartbeat }
    }

    /// The lock collection's id.
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    /// Whether a renewal found the lock taken over.
    pub(super) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stops renewing.
    pub(super) fn stop(&self) {
        self.heartbeat.abort();
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}
