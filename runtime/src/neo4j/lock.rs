//! The migration lock on Neo4j: a lock node held as a lease.
//!
//! The lock node carries its holder and an expiry in the server's clock.
//! The lease is half the lock timeout (`lease_for`) and a heartbeat task
//! renews it while the lock is held, so a live holder keeps it through a
//! step of any length while a crashed holder's lock expires before a waiter
//! with the same settings gives up. A lock past its expiry is taken over;
//! otherwise `Error::LockTimeout` names the holder.

use super::clock::Clock;
use super::cypher::{fetch_rows, run_auto};
use super::errors::{db_err, has_code, row_err, try_again, LOCK_POLL, NAME, NODE_GONE};
use super::heartbeat::{self, lease_for};
use super::labels::Labels;
use super::session::Neo4jSession;
use crate::Error;
use neo4rs::query;
use std::time::{Duration, Instant};

const OPERATION: &str = "taking the migration lock";

/// Who holds the lock after an attempt.
enum Holder {
    Us,
    /// No one, or no answer: the node was deleted while the attempt
    /// matched it (no owner, or `EntityNotFound` on Neo4j 2025 and later),
    /// or the answer was lost (no row).
    Nobody,
    /// Another process, by its owner id.
    Other(String),
}

impl Neo4jSession {
    pub(super) async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        self.lease = lease_for(timeout);
        self.lock_timeout = timeout;
        let Labels { lock, constraint, .. } = &self.labels;
        // Without the constraint, two processes could each MERGE a lock node.
        let unique =
            format!("CREATE CONSTRAINT `{constraint}_lock_id` IF NOT EXISTS FOR (l:{lock}) REQUIRE l.id IS UNIQUE");
        self.run_schema_statement(&unique).await.map_err(db_err(OPERATION))?;
        let started = Instant::now();
        loop {
            let attempt = self.try_lock().await;
            if try_again(&attempt, started, timeout).await {
                continue;
            }
            let (holder, rows) = match attempt {
                // The node deleted under the query (below): Neo4j 5.26
                // answers with no owner, 2025 and later with this error.
                Err(err) if has_code(&err, NODE_GONE) => (Holder::Nobody, Vec::new()),
                attempt => {
                    let rows = attempt.map_err(db_err(OPERATION))?;
                    (self.holder(&rows)?, rows)
                }
            };
            let waited = started.elapsed();
            match holder {
                Holder::Us => {
                    self.start_heartbeat();
                    return Ok(());
                }
                // The holder deleted the node while this query matched it
                // (seen with 16 processes booting at once): the lock is
                // free, so the next attempt goes at once.
                Holder::Nobody if waited < timeout => continue,
                Holder::Other(_) if waited < timeout => tokio::time::sleep(LOCK_POLL.min(timeout - waited)).await,
                Holder::Nobody => return Err(self.timed_out(waited, None)),
                Holder::Other(owner) => {
                    let holder = self.describe_holder(&rows[0], owner)?;
                    return Err(self.timed_out(waited, Some(holder)));
                }
            }
        }
    }

    /// One attempt: takes the lock node when it is free, its own or expired.
    /// ON MATCH writes before reading the owner so that the node's write
    /// lock is held when the owner and expiry are read: two processes
    /// cannot both see an expired lock and both take it over.
    async fn try_lock(&self) -> Result<Vec<neo4rs::Row>, neo4rs::Error> {
        let lock = &self.labels.lock;
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
        let q = query(&acquire)
            .param("owner", self.owner.as_str())
            .param("lease_ms", self.lease.as_millis() as i64);
        fetch_rows(&self.graph, q).await
    }

    /// Who holds the lock, from the attempt's answer.
    fn holder(&self, rows: &[neo4rs::Row]) -> Result<Holder, Error> {
        // A MERGE returns its node. No row means the answer was lost: a
        // pooled connection that a dropped run left mid-stream answers the
        // next query with no rows (neo4rs 0.8; seen on Neo4j 2026.08 right
        // after a dropped run). The attempt is idempotent: try again.
        let Some(row) = rows.first() else {
            return Ok(Holder::Nobody);
        };
        Ok(match row.get::<Option<String>>("owner").map_err(row_err(OPERATION))? {
            Some(owner) if owner == self.owner => Holder::Us,
            Some(owner) => Holder::Other(owner),
            None => Holder::Nobody,
        })
    }

    /// Who holds the lock, and how to free it if that process is gone.
    fn describe_holder(&self, row: &neo4rs::Row, owner: String) -> Result<String, Error> {
        let acquired_at: String = row.get("acquired_at").map_err(row_err(OPERATION))?;
        let expires_at: String = row.get("expires_at").map_err(row_err(OPERATION))?;
        let lock = &self.labels.lock;
        Ok(format!(
            "`{owner}` (taken at {acquired_at}, expires at {expires_at} unless renewed; \
             if that process is gone, delete the lock node: MATCH (l:{lock}) DELETE l)"
        ))
    }

    /// The lock is ours: its lease is renewed from now on. A pinned clock
    /// replays a script: no background traffic.
    fn start_heartbeat(&mut self) {
        if let Clock::System = self.clock {
            let heartbeat = heartbeat::start(self.graph.clone(), &self.labels.lock, self.owner.clone(), self.lease);
            self.heartbeat = Some(heartbeat);
        }
    }

    fn timed_out(&self, waited: Duration, holder: Option<String>) -> Error {
        Error::LockTimeout {
            backend: NAME,
            waited,
            holder,
        }
    }

    pub(super) async fn unlock(&mut self) -> Result<(), Error> {
        self.heartbeat = None;
        let lock = &self.labels.lock;
        let q = query(&format!("MATCH (l:{lock} {{id: 1}}) WHERE l.owner = $owner DELETE l"))
            .param("owner", self.owner.as_str());
        run_auto(&self.graph, q)
            .await
            .map_err(db_err("releasing the migration lock"))
    }
}
