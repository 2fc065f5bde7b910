//! The contract of `backend.rs` for Neo4j: each method a step of the
//! session's files.

use super::errors::NAME;
use super::session::Neo4jSession;
use crate::backend::{
    Batch, BatchDone, BatchSupport, Batches, BoxFuture, Change, Checkpoints, RecordEdit, SelfBatchedProgress,
    SelfBatches, Session, State,
};
use crate::core::split::{is_cypher_schema, split, Dialect};
use crate::records::{AppliedMigration, Checkpoint, HistoryEntry};
use crate::{Error, Script};
use std::time::Duration;

impl Session for Neo4jSession {
    fn backend(&self) -> &'static str {
        NAME
    }

    fn dialect(&self) -> Dialect {
        Dialect::Cypher
    }

    /// Schema statements run one transaction each (`apply`).
    fn runs_in_transaction(&self, script: &Script) -> bool {
        let schema = split(script.text, Dialect::Cypher)
            .first()
            .is_some_and(|s| is_cypher_schema(s.text));
        !schema && !script.no_transaction
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(Neo4jSession::read_state(self))
    }

    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Neo4jSession::create_tracking(self))
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Neo4jSession::lock(self, timeout))
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Neo4jSession::unlock(self))
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(Neo4jSession::read_applied(self))
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(Neo4jSession::read_history(self))
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Neo4jSession::apply(self, change))
    }

    /// Every node, history node and the state in one transaction (under
    /// the lock node the engine holds).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let this = &*self;
            this.in_transaction("recording migrations as applied", async |txn| {
                for change in changes {
                    this.record(txn, change, 0).await?;
                }
                Ok(())
            })
            .await
        })
    }

    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Neo4jSession::write_history(self, entry))
    }

    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Neo4jSession::rewrite_record(self, edit, state))
    }

    /// Batch migrations: `CALL { ... } IN TRANSACTIONS`, batched by Neo4j
    /// (batch.rs).
    fn batches(&mut self) -> Option<BatchSupport<'_>> {
        Some(BatchSupport::Database(self))
    }
}

impl Checkpoints for Neo4jSession {
    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<Checkpoint>, Error>> {
        Box::pin(Neo4jSession::read_checkpoint(self, version))
    }

    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(Neo4jSession::count_rows(self, query))
    }
}

/// Batch code migrations only: a Cypher batch file is the database's own
/// batching ([`SelfBatches`]).
impl Batches for Neo4jSession {
    fn run_batch<'a>(&'a mut self, batch: &'a Batch<'a>) -> BoxFuture<'a, Result<BatchDone, Error>> {
        Box::pin(Neo4jSession::run_code_batch(self, batch))
    }
}

impl SelfBatches for Neo4jSession {
    fn run_self_batched<'a>(
        &'a mut self,
        batch: &'a Batch<'a>,
        total: Option<&'a str>,
        progress: &'a (dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> BoxFuture<'a, Result<Checkpoint, Error>> {
        Box::pin(Neo4jSession::run_self_batched(self, batch, total, progress))
    }
}
