//! Neo4j through `neo4rs::Graph` (neo4rs 0.8: Bolt 4.1/4.0, Neo4j 4.4 and 5).
//!
//! Tracking lives in the graph, as nodes with these labels (for the default
//! table name; another name `t` gives `t`, `t_history`, `t_state`, `t_lock`):
//! - `(:__EmbeddedMigration {version, name, checksum, applied_at, execution_ms, dirty})`,
//!   one per applied migration, unique on `version`;
//! - `(:__EmbeddedMigrationHistory {seq, version, name, direction, started_at, duration_ms, success, error, reason})`,
//!   one per up or down run, failed ones too;
//! - `(:__EmbeddedMigrationState {id: 1, applied_count, last_version, chain, dirty, history_seq})`,
//!   the one node the boot check reads;
//! - `(:__EmbeddedMigrationLock {id: 1, owner, acquired_at, expires_at})`, unique on `id`.
//!
//! - session.rs: the session, its transactions and the guard of every write;
//! - tracking.rs: the tracking nodes, created, read and written;
//! - lock.rs and heartbeat.rs: the lock node held as a lease, renewed;
//! - apply.rs: a migration: data in one transaction with its tracking
//!   writes, schema in one transaction of its own behind the dirty mark, or
//!   (`no-transaction`) statement by statement;
//! - books.rs: the tracking writes of one guarded statement, as parameters;
//! - schema.rs: schema commands in one transaction, and an index a killed
//!   process left;
//! - batch.rs: `CALL { ... } IN TRANSACTIONS` batch migrations;
//! - contract.rs: the `Session` contract; labels.rs, clock.rs, cypher.rs,
//!   errors.rs: what those share; snapshot.rs: the schema.

mod apply;
mod batch;
mod books;
mod clock;
mod contract;
mod cypher;
mod errors;
mod heartbeat;
mod labels;
mod lock;
mod schema;
mod session;
mod snapshot;
mod tracking;
mod tx;

use crate::backend::{BoxFuture, Database, Session, Snapshot};
use crate::{Cypher, Error, Settings};
use clock::{owner_id, Clock};
use neo4rs::Graph;
use session::Neo4jSession;

impl Database for Graph {
    type Language = Cypher;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        let session = Neo4jSession::new(self.clone(), settings, owner_id(), Clock::System);
        Box::pin(async move { Ok(Box::new(session?) as Box<dyn Session>) })
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }
}

/// A graph whose clock and lock owner are fixed, so that the Bolt
/// conversation is the same on every run: the contract tests compare it
/// byte for byte with a script. Not for applications: every record would
/// carry the same time.
#[doc(hidden)]
pub struct PinnedGraph<'g> {
    pub graph: &'g Graph,
    pub owner: &'static str,
    /// Written as `applied_at` and `started_at`; durations are written as 0.
    pub now: &'static str,
}

impl Database for PinnedGraph<'_> {
    type Language = Cypher;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        let session = Neo4jSession::new(
            self.graph.clone(),
            settings,
            self.owner.to_string(),
            Clock::Pinned(self.now),
        );
        Box::pin(async move { Ok(Box::new(session?) as Box<dyn Session>) })
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }
}
