//! One Neo4j session: the graph handle, the labels, the lock's lease, and
//! the transaction and guard every tracking write goes through.

use super::books::{state_map, Bookkeeping, NodeWrite};
use super::clock::Clock;
use super::cypher::fetch_rows;
use super::errors::{db_err, row_err, NAME};
use super::heartbeat::{lease_for, Heartbeat};
use super::labels::Labels;
use super::tx::Tx;
use crate::backend::State;
use crate::{Error, Settings};
use neo4rs::{query, Graph, Query, Row};
use std::collections::HashMap;
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
        if settings.timeouts != crate::core::timeout::Timeouts::default() {
            return Err(super::errors::no_timeouts(
                "Settings::statement_timeout or Settings::statement_lock_timeout",
            ));
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

    pub(super) async fn begin(&self, operation: &str) -> Result<Tx, Error> {
        Tx::begin(&self.graph).await.map_err(db_err(operation))
    }

    /// Runs `work` in one transaction and commits it; rolls back on error.
    pub(super) async fn in_transaction(
        &self,
        operation: &str,
        work: impl AsyncFnOnce(&mut Tx) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut txn = self.begin(operation).await?;
        match work(&mut txn).await {
            Ok(()) => txn.commit().await.map_err(db_err(operation)),
            Err(err) => {
                txn.rollback().await;
                Err(err)
            }
        }
    }

    /// The guard and a step's tracking writes, in one statement: it renews
    /// the lock and compares the state node with the one the plan was made
    /// on, and only if the lock is still ours and the state current, writes
    /// the migration node, the state node and the history node. The first
    /// SET takes the lock node's write lock before its owner is read, and
    /// the transaction keeps it until it commits: no other process can take
    /// the lock over in between. Holding it only from here to the commit
    /// (not through a long data step) leaves the heartbeat free to renew
    /// the lease meanwhile.
    ///
    /// One text with the same parameters (maps and flags) for every guarded
    /// write: Neo4j empties its plan cache after each schema change, so a
    /// schema migration's record is planned again once, not once per write,
    /// and the next migration's dirty mark can find that plan.
    fn books_query(&self, expected: &State, books: &Bookkeeping<'_>) -> Query {
        let Labels {
            state,
            lock,
            migration,
            history,
            ..
        } = &self.labels;
        let (put, remove, node) = match &books.node {
            NodeWrite::Put(props) => (true, false, props.clone()),
            NodeWrite::Remove => (false, true, HashMap::new()),
            NodeWrite::Keep => (false, false, HashMap::new()),
        };
        query(&format!(
            "MATCH (l:{lock} {{id: 1}}) SET l.guard = $owner \
             WITH l MATCH (s:{state} {{id: 1}}) \
             WITH l, s, l.owner = $owner AS ours, \
             s.applied_count = $expected.applied_count AND s.last_version = $expected.last_version \
             AND s.chain = $expected.chain AND s.dirty = $expected.dirty AS current \
             SET l.expires_at = CASE WHEN ours THEN datetime() + duration({{milliseconds: $lease_ms}}) \
             ELSE l.expires_at END \
             REMOVE l.guard \
             WITH s, ours, current, CASE WHEN ours AND current THEN [1] ELSE [] END AS go \
             OPTIONAL MATCH (m:{migration} {{version: $version}}) \
             FOREACH (_ IN CASE WHEN $remove THEN go ELSE [] END | DELETE m) \
             FOREACH (_ IN CASE WHEN $put THEN go ELSE [] END | \
             MERGE (n:{migration} {{version: $version}}) SET n += $node) \
             FOREACH (_ IN go | SET s += $after) \
             FOREACH (_ IN CASE WHEN $history THEN go ELSE [] END | \
             SET s.history_seq = s.history_seq + 1 \
             CREATE (h:{history}) SET h = $entry, h.seq = s.history_seq) \
             RETURN ours, current"
        ))
        .param("owner", self.owner.as_str())
        .param("lease_ms", self.lease.as_millis() as i64)
        .param("expected", state_map(expected))
        .param("version", books.version)
        .param("put", put)
        .param("remove", remove)
        .param("node", node)
        .param("after", state_map(books.after))
        .param("history", books.history.is_some())
        .param(
            "entry",
            books.history.as_ref().map(|h| self.history_map(h)).unwrap_or_default(),
        )
    }

    /// What the guard found, from the bookkeeping statement's answer: no
    /// row when the lock node is gone.
    fn read_guard(rows: &[Row]) -> Result<Guard, Error> {
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

    /// The guard and `books` in `txn`, beside the step's own statements;
    /// an error, and nothing written, where the step must not go on.
    pub(super) async fn keep_books_in(
        &self,
        txn: &mut Tx,
        expected: &State,
        books: Bookkeeping<'_>,
    ) -> Result<(), Error> {
        let q = self.books_query(expected, &books);
        let rows = txn.rows(q).await.map_err(db_err("checking the migration state"))?;
        self.guard_result(Self::read_guard(&rows)?)
    }

    /// The guard and `books` alone, one auto-commit statement: what a step
    /// run outside a transaction writes before (the dirty mark) and after
    /// (the record). It writes nothing unless the guard passes, so there is
    /// nothing to roll back.
    pub(super) async fn keep_books(
        &self,
        expected: &State,
        books: Bookkeeping<'_>,
        operation: &str,
    ) -> Result<(), Error> {
        let q = self.books_query(expected, &books);
        let rows = fetch_rows(&self.graph, q).await.map_err(db_err(operation))?;
        self.guard_result(Self::read_guard(&rows)?)
    }

    /// The guard alone (the state written as it is), for a transaction
    /// whose writes are not tracking nodes.
    pub(super) async fn check_guard(&self, txn: &mut Tx, expected: &State) -> Result<(), Error> {
        self.keep_books_in(txn, expected, Bookkeeping::guard_only(expected))
            .await
    }

    /// The guard, as an error where the step must not go on.
    fn guard_result(&self, guard: Guard) -> Result<(), Error> {
        match guard {
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
