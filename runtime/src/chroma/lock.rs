//! The migration lock on Chroma, which has no transactions and no
//! compare-and-set: a collection, `<table>_lock`, that exists while the
//! lock is held.
//!
//! - **Taking it** is creating that collection. The server refuses a name
//!   taken already (`409`) atomically, through the unique constraint of
//!   its system database, so of processes creating it at once exactly one
//!   succeeds. Its metadata names the holder and an expiry.
//! - **Holding it** is a lease: a heartbeat task renews the expiry every
//!   third of the lease (half the lock timeout, as on Neo4j), by the
//!   collection's id. A renewal answered `404` means the lock was taken
//!   over: every later write of the session then stops with an error
//!   instead of writing without the lock.
//! - **Taking over** an expired lock is renaming it, by its id, to a name
//!   of the taker's own, then deleting that. A rename by id fails once the
//!   collection is gone, so two waiters that both see it expired cannot
//!   both take it over, and neither can remove a lock taken since (it has
//!   another id).
//! - **Releasing** it is the same rename and delete, by the id it was
//!   created with: a process whose lease was taken over cannot delete the
//!   new holder's lock.
//!
//! What is not guaranteed: the expiry is in the clocks of the processes,
//! so hosts whose clocks disagree by more than a lease can take over a live
//! lock; and a holder stopped longer than its lease (a debugger, a frozen
//! VM) loses the lock, finds out at its next renewal or write, and stops.

use super::errors::{db_err, NAME};
use super::lease::{lock_metadata, now_ms, Held};
use super::session::ChromaSession;
use crate::Error;
use serde_json::Value;
use std::time::{Duration, Instant};

const OPERATION: &str = "taking the migration lock";

/// How often a waiter tries again.
const POLL: Duration = Duration::from_millis(100);

/// Half the lock timeout, as on Neo4j: a crashed holder's lock expires
/// before a waiter with the same settings gives up. At least a second.
fn lease_for(timeout: Duration) -> Duration {
    (timeout / 2).max(Duration::from_secs(1))
}

impl ChromaSession {
    pub(super) async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let lease = lease_for(timeout);
        let started = Instant::now();
        let name = self.names.lock.clone();
        loop {
            let acquired_at = crate::core::time::now_iso8601();
            let metadata = lock_metadata(&self.owner, &acquired_at, lease);
            match self.client.create_collection(&name, Some(&metadata), None).await {
                Ok(collection) => {
                    self.held = Some(Held::start(
                        &self.client,
                        &self.owner,
                        acquired_at,
                        collection.id,
                        lease,
                    ));
                    return Ok(());
                }
                Err(err) if err.is_conflict() => {}
                Err(err) => return Err(db_err(OPERATION)(err)),
            }
            let Some(holder) = self.client.get_collection(&name).await.map_err(db_err(OPERATION))? else {
                // Released between the two requests: try again at once.
                continue;
            };
            let metadata = holder.metadata.unwrap_or_default();
            let expires = metadata.get("expires_at_ms").and_then(Value::as_i64).unwrap_or(0);
            if expires < now_ms() {
                self.take_over(&holder.id).await?;
                continue;
            }
            let waited = started.elapsed();
            if waited >= timeout {
                let owner = metadata
                    .get("owner")
                    .and_then(Value::as_str)
                    .unwrap_or("an unknown process");
                let left = Duration::from_millis((expires - now_ms()).max(0) as u64);
                return Err(Error::LockTimeout {
                    backend: NAME,
                    waited,
                    holder: Some(format!(
                        "{owner} (the collection `{name}`; its lease expires in {:.1}s unless renewed)",
                        left.as_secs_f64()
                    )),
                });
            }
            tokio::time::sleep(POLL.min(timeout - waited)).await;
        }
    }

    /// Removes the lock collection `id`: renamed to a name of this
    /// session's own, then deleted. `Ok` also when someone else removed it
    /// first.
    async fn take_over(&self, id: &str) -> Result<(), Error> {
        let tombstone = format!("{}.gone.{}", self.names.lock, self.owner);
        match self.client.modify_collection(id, Some(&tombstone), None).await {
            Ok(()) => self
                .client
                .delete_collection(&tombstone)
                .await
                .map_err(db_err("removing a released migration lock")),
            Err(err) if err.is_not_found() => Ok(()),
            Err(err) => Err(db_err("removing an expired migration lock")(err)),
        }
    }

    /// Stops a write when the lock was taken over since it was taken.
    pub(super) fn guard(&self) -> Result<(), Error> {
        match &self.held {
            Some(held) if held.lost() => Err(Error::database(
                NAME,
                "writing under the migration lock",
                "the lock's lease expired and another process took it over; nothing more was written",
            )),
            _ => Ok(()),
        }
    }

    pub(super) async fn unlock(&mut self) -> Result<(), Error> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        held.stop();
        if held.lost() {
            return Ok(());
        }
        self.take_over(held.id()).await
    }
}
