//! ChromaDB through its v2 HTTP API ([`ChromaClient`](crate::chroma::ChromaClient), client.rs).
//!
//! A migration is a `.toml` file of collection steps (core's `chroma`
//! module: create, delete, modify, copy) or a Rust code migration whose
//! functions receive the `ChromaClient`. Tracking lives in Chroma itself,
//! in collections named after the table without its leading underscores
//! (`embedded_migrations` for the default table):
//! - `embedded_migrations`: a record per applied migration (id: the
//!   version; metadata: name, checksum, applied_at, execution_ms, dirty,
//!   and while dirty the direction and the steps done), and the state in
//!   the collection's own metadata, which the boot check reads in one
//!   request;
//! - `embedded_migrations_history`: a record per up or down run;
//! - `embedded_migrations_checkpoints`: a `copy` step's progress;
//! - `embedded_migrations_lock`: exists while a process holds the lock
//!   (lock.rs says how that is sound without transactions);
//! - `embedded_migrations_schema`: the schema record.
//!
//! - session.rs: the session, the tracking records, a change under the
//!   dirty mark; steps.rs: a file's steps; batch.rs: a `copy` step;
//!   lock.rs and lease.rs: the lock and its renewal; snapshot.rs: the schema; errors.rs.

mod batch;
mod client;
mod errors;
mod lease;
mod lock;
mod session;
mod snapshot;
mod steps;

pub use client::{ChromaClient, ChromaError, Collection, Metadata, Records};
/// A metadata value, as code migrations write them.
pub use serde_json::Value;

use crate::backend::{
    Batch, BatchDone, BatchSupport, Batches, BoxFuture, Change, Checkpoints, Database, RecordEdit, SelfBatchedProgress,
    SelfBatches, Session, Snapshot, State,
};
use crate::core::split::Dialect;
use crate::records::{AppliedMigration, Checkpoint, HistoryEntry};
use crate::{Error, Script, Settings};
use errors::NAME;
use session::ChromaSession;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// This process in the lock: host, process id and a session number,
/// written as a collection name allows.
fn owner_id() -> String {
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string());
    let host: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{host}-pid{}-s{session}", std::process::id())
}

impl Database for ChromaClient {
    type Language = crate::Chroma;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        let session = ChromaSession::new(self.clone(), settings, owner_id());
        Box::pin(async move { Ok(Box::new(session?) as Box<dyn Session>) })
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }
}

impl Session for ChromaSession {
    fn backend(&self) -> &'static str {
        NAME
    }

    /// Each `[[step]]` a statement: what a dry run shows and a dirty mark
    /// counts.
    fn dialect(&self) -> Dialect {
        Dialect::Toml
    }

    /// Chroma has no transactions: every change runs under the dirty mark.
    fn runs_in_transaction(&self, _script: &Script) -> bool {
        false
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(ChromaSession::read_state(self))
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(ChromaSession::read_applied(self))
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(ChromaSession::read_history(self))
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(ChromaSession::lock(self, timeout))
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(ChromaSession::unlock(self))
    }

    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(ChromaSession::create_tracking(self))
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ChromaSession::apply(self, change))
    }

    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ChromaSession::write_history(self, entry))
    }

    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(ChromaSession::rewrite_record(self, edit, state))
    }

    /// A `copy` step, batched here (batch.rs).
    fn batches(&mut self) -> Option<BatchSupport<'_>> {
        Some(BatchSupport::Database(self))
    }
}

impl Checkpoints for ChromaSession {
    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<Checkpoint>, Error>> {
        Box::pin(ChromaSession::read_checkpoint(self, version))
    }

    /// A `copy` step counts its source itself; no file names a count query.
    fn count_rows<'a>(&'a mut self, _query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async {
            Err(Error::Unsupported {
                backend: NAME,
                what: "`migrate:total` count queries".to_string(),
            })
        })
    }
}

/// Batch code migrations, batch by batch (batch.rs).
impl Batches for ChromaSession {
    fn run_batch<'a>(&'a mut self, batch: &'a Batch<'a>) -> BoxFuture<'a, Result<BatchDone, Error>> {
        Box::pin(ChromaSession::run_code_batch(self, batch))
    }
}

impl SelfBatches for ChromaSession {
    fn run_self_batched<'a>(
        &'a mut self,
        batch: &'a Batch<'a>,
        _total: Option<&'a str>,
        progress: &'a (dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> BoxFuture<'a, Result<Checkpoint, Error>> {
        Box::pin(ChromaSession::run_copy(self, batch, progress))
    }
}
