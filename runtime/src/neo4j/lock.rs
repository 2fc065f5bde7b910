//! The migration lock on Neo4j: a lock node held as a lease.
//!
//! The lock node carries its holder and an expiry in the server's clock.
//! The lease is half the lock timeout (`lease_for`) and a heartbeat task
//! renews it while the lock is held, so a live holder keeps it through a
//! step of any length while a crashed holder's lock expires before a waiter
//! with the same settings gives up. A lock past its expiry is taken over;
//! otherwise `Error::LockTimeout` names the holder.

use super::clock::Clock;
use super::cypher::fetch_rows;
use super::errors::{db_err, row_err, try_again, LOCK_POLL, NAME};
use super::heartbeat::{lease_for, Heartbeat};
use super::labels::Labels;
use super::session::Neo4jSession;
use crate::Error;
use neo4rs::query;
use std::time::{Duration, Instant};

impl Neo4jSession {
    pub(super) async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let operation = "taking the migration lock";
        self.lease = lease_for(timeout);
        self.lock_timeout = timeout;
        let Labels { lock, constraint, .. } = &self.labels;
        // Without the constraint, two processes could each MERGE a lock node.
        let unique =
            format!("CREATE CONSTRAINT `{constraint}_lock_id` IF NOT EXISTS FOR (l:{lock}) REQUIRE l.id IS UNIQUE");
        self.run_schema_statement(&unique).await.map_err(db_err(operation))?;
        let started = Instant::now();
        // ON MATCH writes before reading the owner so that the node's write
        // lock is held when the owner and expiry are read: two processes
        // cannot both see an expired lock and both take it over.
        let acquire = format!(
            "MERGE (l:{lock} {{id: 1}}) \
             ON CREATE SET l.owner = $owner, l.acquired_at = datetime(), \
             l.expires_at = datetime() + duration({{milliseconds: $lease_ms}}) \
             ON MATCH SET l.contender = $owner \
             WITH l, l.owner = $owner OR l.expires_at < datetime() AS free \
             FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END | \
             SET l.owner = $owner, l.acquired_at = datetime(), \
             l.expires_at = datetime() + duration({{milliseconds: $lease_ms}})) \
             REMOVE l.contender \
             RETURN l.owner AS owner, toString(l.acquired_at) AS acquired_at, toString(l.expires_at) AS expires_at"
        );
        loop {
            let q = query(&acquire)
                .param("owner", self.owner.as_str())
                .param("lease_ms", self.lease.as_millis() as i64);
            let result = fetch_rows(&self.graph, q).await;
            if try_again(&result, started, timeout).await {
                continue;
            }
            let rows = result.map_err(db_err(operation))?;
            let Some(row) = rows.first() else {
                return Err(Error::database(NAME, operation, "the lock query returned no row"));
            };
            // No owner: the holder deleted the node while this query
            // matched it (seen with 16 processes booting at once); the lock
            // is free, so the next attempt goes at once.
            let Some(holder) = row.get::<Option<String>>("owner").map_err(row_err(operation))? else {
                let waited = started.elapsed();
                if waited >= timeout {
                    return Err(Error::LockTimeout {
                        backend: NAME,
                        waited,
                        holder: None,
                    });
                }
                continue;
            };
            if holder == self.owner {
                // A pinned clock replays a script: no background traffic.
                if let Clock::System = self.clock {
                    let heartbeat = Heartbeat::start(self.graph.clone(), lock, self.owner.clone(), self.lease);
                    self.heartbeat = Some(heartbeat);
                }
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= timeout {
                let acquired_at: String = row.get("acquired_at").map_err(row_err(operation))?;
                let expires_at: String = row.get("expires_at").map_err(row_err(operation))?;
                return Err(Error::LockTimeout {
                    backend: NAME,
                    waited,
                    holder: Some(format!(
                        "`{holder}` (taken at {acquired_at}, expires at {expires_at} unless renewed; \
                         if that process is gone, delete the lock node: MATCH (l:{lock}) DELETE l)"
                    )),
                });
            }
            tokio::time::sleep(LOCK_POLL.min(timeout - waited)).await;
        }
    }

    pub(super) async fn unlock(&mut self) -> Result<(), Error> {
        self.heartbeat = None;
        let lock = &self.labels.lock;
        let q = query(&format!("MATCH (l:{lock} {{id: 1}}) WHERE l.owner = $owner DELETE l"))
            .param("owner", self.owner.as_str());
        self.graph.run(q).await.map_err(db_err("releasing the migration lock"))
    }
}
