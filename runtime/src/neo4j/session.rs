//! One Neo4j session: the graph handle, the labels, the lock's lease, and
//! the transaction and guard every tracking write goes through.

use super::clock::Clock;
use super::cypher::{fetch_rows, rollback, rows_in};
use super::errors::{db_err, row_err, NAME};
use super::heartbeat::{lease_for, Heartbeat};
use super::labels::Labels;
use crate::backend::State;
use crate::{Error, Settings};
use neo4rs::{query, Graph, Query, Row, Txn};
use std::time::Duration;

pub(super) struct Neo4jSession {
    pub(super) graph: Graph,
    pub(super) labels: Labels,
    pub(super) owner: String,
    pub(super) clock: Clock,
    /// See `lease_for`.
    pub(super) lease: Duration,
    /// Renews the lease while the lock is held; stopped when the lock is
    /// released or the session dropped.
    pub(super) heartbeat: Option<Heartbeat>,
    /// The lock timeout of the last `lock`: the bound of its retries and of
    /// `create_tracking`'s.
    pub(super) lock_timeout: Duration,
}

/// What the guard query found.
enum Guard {
    Current,
    /// Another process changed the state since the plan.
    Moved,
    /// The lock node is gone or has another owner.
    LockLost,
}

impl Neo4jSession {
    pub(super) fn new(graph: Graph, settings: &Settings, owner: String, clock: Clock) -> Result<Neo4jSession, Error> {
        if settings.schema_name().is_some() {
            return Err(Error::Unsupported {
                backend: NAME,
                what: "a schema setting (choose the Neo4j database in the neo4rs config instead)".to_string(),
            });
        }
        Ok(Neo4jSession {
            graph,
            labels: Labels::new(settings),
            owner,
            clock,
            lease: lease_for(settings.lock_timeout),
            heartbeat: None,
            lock_timeout: settings.lock_timeout,
        })
    }

    pub(super) async fn fetch(&self, q: Query, operation: &str) -> Result<Vec<Row>, Error> {
        fetch_rows(&self.graph, q).await.map_err(db_err(operation))
    }

    pub(super) async fn begin(&self, operation: &str) -> Result<Txn, Error> {
        self.graph.start_txn().await.map_err(db_err(operation))
    }

    /// Runs `work` in one transaction and commits it; rolls back on error.
    pub(super) async fn in_transaction(
        &self,
        operation: &str,
        work: impl AsyncFnOnce(&mut Txn) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut txn = self.begin(operation).await?;
        match work(&mut txn).await {
            Ok(()) => txn.commit().await.map_err(db_err(operation)),
            Err(err) => {
                rollback(txn).await;
                Err(err)
            }
        }
    }

    /// Renews the lock and compares the state node with the one the plan was
    /// made on, in each transaction that records a step, just before its
    /// tracking writes. The first SET takes the lock node's write lock before
    /// its owner is read, and the transaction keeps it until it commits: no
    /// other process can take the lock over in between. Holding it only
    /// from here to the commit (not through a long data step) leaves the
    /// heartbeat free to renew the lease meanwhile.
    async fn guard(&self, txn: &mut Txn, expected: &State) -> Result<Guard, Error> {
        let Labels { state, lock, .. } = &self.labels;
        let q = query(&format!(
            "MATCH (l:{lock} {{id: 1}}) SET l.guard = $owner \
             WITH l MATCH (s:{state} {{id: 1}}) \
             WITH l, s, l.owner = $owner AS ours \
             SET l.expires_at = CASE WHEN ours THEN datetime() + duration({{milliseconds: $lease_ms}}) \
             ELSE l.expires_at END \
             REMOVE l.guard \
             RETURN ours, s.applied_count = $applied_count AND s.last_version = $last_version \
             AND s.chain = $chain AND s.dirty = $dirty AS current"
        ))
        .param("owner", self.owner.as_str())
        .param("lease_ms", self.lease.as_millis() as i64)
        .param("applied_count", expected.applied_count)
        .param("last_version", expected.last_version)
        .param("chain", expected.chain.to_hex())
        .param("dirty", expected.dirty);
        let rows = rows_in(txn, q).await.map_err(db_err("checking the migration state"))?;
        let Some(row) = rows.first() else {
            return Ok(Guard::LockLost);
        };
        let read = |field: &str| row.get::<bool>(field).map_err(row_err("checking the migration state"));
        Ok(match (read("ours")?, read("current")?) {
            (false, _) => Guard::LockLost,
            (true, true) => Guard::Current,
            (true, false) => Guard::Moved,
        })
    }

    /// The guard, as an error where the step must not go on.
    pub(super) async fn check_guard(&self, txn: &mut Txn, expected: &State) -> Result<(), Error> {
        match self.guard(txn, expected).await? {
            Guard::Current => Ok(()),
            Guard::Moved => Err(Error::Conflict),
            Guard::LockLost => Err(Error::Database {
                backend: NAME,
                operation: "recording a migration".to_string(),
                message: format!(
                    "the migration lock held by `{}` was taken over (it expired after {:?} without renewal); nothing of this step was recorded",
                    self.owner, self.lease
                ),
                source: None,
            }),
        }
    }
}
