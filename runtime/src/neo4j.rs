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
//! Neo4j refuses a transaction that both changes the schema and writes data.
//! So a migration of data statements runs in one explicit transaction with
//! its tracking writes (all or nothing), while a migration of schema
//! statements (the folder rules keep the two kinds in separate files), or a
//! file that says `migrate:no-transaction`, runs each statement in its own
//! transaction between a dirty marker and the tracking writes.
//!
//! The lock is a lease: the lock node carries its holder and an expiry in the
//! server's clock. The lease is half the lock timeout (see `lease_for`) and
//! a heartbeat task renews it while the lock is held, so a live holder keeps
//! it through a step of any length while a crashed holder's lock expires
//! before a waiter with the same settings gives up. A lock past its expiry is
//! taken over; otherwise `Error::LockTimeout` names the holder.

use crate::backend::{
    Batch, BatchSupport, BoxFuture, Change, Checkpoints, Database, RecordEdit, SelfBatchedProgress, SelfBatches,
    Session, Snapshot, State,
};
use crate::core::split::{is_cypher_schema, split, Dialect, Statement};
use crate::error::CorruptChecksum;
use crate::records::{AppliedMigration, Checkpoint, HistoryEntry};
use crate::{Checksum, Cypher, Direction, Error, Settings};
use neo4rs::{query, Graph, Query, Row, Txn};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// Batch migrations (`CALL { ... } IN TRANSACTIONS`): a child module, so it
// shares the session's private helpers without widening them.
#[path = "neo4j_batch.rs"]
mod batch;

const BACKEND: &str = "Neo4j";

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
fn lease_for(lock_timeout: Duration) -> Duration {
    (lock_timeout / 2).clamp(MIN_LEASE, MAX_LEASE)
}

/// Neo4j's answer to creating a constraint whose name an index has.
const INDEX_NAME_TAKEN: &str = "Neo.ClientError.Schema.IndexWithNameAlreadyExists";

/// How long a schema statement meeting `IndexWithNameAlreadyExists` awaits
/// the indexes before it looks for an index left by a killed process.
const INDEX_AWAIT: Duration = Duration::from_secs(5);

/// Between two attempts to take a lock another process holds.
const LOCK_POLL: Duration = Duration::from_millis(500);

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

#[derive(Clone, Copy)]
enum Clock {
    System,
    Pinned(&'static str),
}

impl Clock {
    /// The timestamp to record, given the one the engine took.
    fn stamp(self, taken: &str) -> String {
        match self {
            Clock::System => taken.to_string(),
            Clock::Pinned(now) => now.to_string(),
        }
    }

    fn millis_since(self, started: Instant) -> i64 {
        self.duration(started.elapsed().as_millis() as i64)
    }

    /// The duration to record, given the one measured.
    fn duration(self, measured_ms: i64) -> i64 {
        match self {
            Clock::System => measured_ms,
            Clock::Pinned(_) => 0,
        }
    }
}

/// Names the lock holder for a person reading `LockTimeout`: host, process
/// and a counter, since one process may run several sessions.
fn owner_id() -> String {
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed) + 1;
    format!(
        "{host} pid {} session {session} since {}",
        std::process::id(),
        crate::core::time::now_iso8601()
    )
}

/// The four labels, backtick-quoted for Cypher text.
struct Labels {
    migration: String,
    history: String,
    state: String,
    lock: String,
    /// Prefix of the constraint names.
    constraint: String,
}

impl Labels {
    /// `settings` passed `Settings::check`: the table name is an identifier.
    fn new(settings: &Settings) -> Labels {
        let base = settings.table_name();
        let (migration, suffix) = if base == Settings::default().table_name() {
            ("__EmbeddedMigration".to_string(), ["History", "State", "Lock"])
        } else {
            (base.to_string(), ["_history", "_state", "_lock"])
        };
        let quote = |suffix: &str| format!("`{migration}{suffix}`");
        Labels {
            history: quote(suffix[0]),
            state: quote(suffix[1]),
            lock: quote(suffix[2]),
            constraint: migration.clone(),
            migration: quote(""),
        }
    }
}

pub struct Neo4jSession {
    graph: Graph,
    labels: Labels,
    owner: String,
    clock: Clock,
    /// See `lease_for`.
    lease: Duration,
    /// Renews the lease while the lock is held; stopped when the lock is
    /// released or the session dropped.
    heartbeat: Option<Heartbeat>,
    /// The lock timeout of the last `lock`: the bound of its retries and of
    /// `prepare`'s.
    lock_timeout: Duration,
}

/// The task renewing the lease; told to stop when dropped.
///
/// It is stopped by a flag it reads between renewals, never aborted: a
/// query dropped halfway would hand its pooled connection back with the
/// rest of its answer unread, and the next query on it would read that.
struct Heartbeat {
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
    fn start(graph: Graph, lock_label: &str, owner: String, lease: Duration) -> Heartbeat {
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
                match fetch_rows(&graph, q).await {
                    Ok(rows) if rows.first().and_then(|r| r.get::<i64>("renewed").ok()) == Some(1) => {}
                    Ok(_) => {
                        tracing::warn!(owner = %owner, "the Neo4j migration lock is no longer ours; stopped renewing it");
                        return;
                    }
                    Err(err) => tracing::warn!(error = %err, "renewing the Neo4j migration lock failed; retrying"),
                }
            }
        });
        Heartbeat { stop }
    }
}

/// Whether the server says to try again: Neo4j's `TransientError`s, such
/// as the `DeadlockDetected` that concurrent MERGEs of the lock node get
/// when several processes boot at once.
fn is_transient(err: &neo4rs::Error) -> bool {
    matches!(err, neo4rs::Error::Neo4j(e) if e.code().starts_with("Neo.TransientError."))
}

fn has_code(err: &neo4rs::Error, code: &str) -> bool {
    matches!(err, neo4rs::Error::Neo4j(e) if e.code() == code)
}

/// Whether to try again after `result`: a transient error with time left
/// before `timeout` since `started` (then it has waited a poll interval).
/// Otherwise the result stands, the last error included.
async fn try_again<T>(result: &Result<T, neo4rs::Error>, started: Instant, timeout: Duration) -> bool {
    match result {
        Err(err) if is_transient(err) && started.elapsed() < timeout => {
            tracing::debug!(error = %err, "transient Neo4j error; trying again");
            tokio::time::sleep(LOCK_POLL.min(timeout.saturating_sub(started.elapsed()))).await;
            true
        }
        _ => false,
    }
}

/// One statement in an explicit transaction of its own.
async fn run_alone(graph: &Graph, q: Query) -> Result<(), neo4rs::Error> {
    let mut txn = graph.start_txn().await?;
    match txn.run(q).await {
        Ok(()) => txn.commit().await,
        Err(err) => {
            rollback(txn).await;
            Err(err)
        }
    }
}

/// Pulls every row of an auto-commit query.
async fn fetch_rows(graph: &Graph, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = graph.execute(q).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await? {
        rows.push(row);
    }
    Ok(rows)
}

fn db_err(operation: &str) -> impl FnOnce(neo4rs::Error) -> Error + '_ {
    move |err| Error::database(BACKEND, operation, message(&err)).with_source(err)
}

/// The server's own words where there are some.
fn message(err: &neo4rs::Error) -> String {
    match err {
        neo4rs::Error::Neo4j(e) => format!("{}: {}", e.code(), e.message()),
        other => other.to_string(),
    }
}

fn row_err(operation: &str) -> impl FnOnce(neo4rs::DeError) -> Error + '_ {
    move |err| {
        Error::database(
            BACKEND,
            operation,
            format!("unexpected value in the tracking nodes: {err}"),
        )
    }
}

/// Pulls every row, so the connection goes back to the pool clean.
async fn rows_in(txn: &mut Txn, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = txn.execute(q).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await? {
        rows.push(row);
    }
    Ok(rows)
}

/// After a failed statement the server answers ROLLBACK with IGNORED until
/// the connection is reset (which the pool does when it hands the
/// connection out again), so a rollback error here is secondary: the
/// caller reports the failure that caused it.
async fn rollback(txn: Txn) {
    if let Err(err) = txn.rollback().await {
        tracing::debug!(error = %err, "rollback after a failed statement");
    }
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
    fn new(graph: Graph, settings: &Settings, owner: String, clock: Clock) -> Result<Neo4jSession, Error> {
        if settings.schema_name().is_some() {
            return Err(Error::Unsupported {
                backend: BACKEND,
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

    async fn fetch(&self, q: Query, operation: &str) -> Result<Vec<Row>, Error> {
        fetch_rows(&self.graph, q).await.map_err(db_err(operation))
    }

    async fn begin(&self, operation: &str) -> Result<Txn, Error> {
        self.graph.start_txn().await.map_err(db_err(operation))
    }

    /// Runs `work` in one transaction and commits it; rolls back on error.
    async fn in_transaction(
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
    async fn check_guard(&self, txn: &mut Txn, expected: &State) -> Result<(), Error> {
        match self.guard(txn, expected).await? {
            Guard::Current => Ok(()),
            Guard::Moved => Err(Error::Conflict),
            Guard::LockLost => Err(Error::Database {
                backend: BACKEND,
                operation: "recording a migration".to_string(),
                message: format!(
                    "the migration lock held by `{}` was taken over (it expired after {:?} without renewal); nothing of this step was recorded",
                    self.owner, self.lease
                ),
                source: None,
            }),
        }
    }

    /// Writes a tracking node (creating or replacing it).
    /// Writes a tracking node (creating or replacing it), clean or (with
    /// the direction of its run) dirty.
    fn upsert_record(
        &self,
        row: &AppliedMigration,
        applied_at: String,
        execution_ms: i64,
        dirty: Option<Direction>,
    ) -> Query {
        let migration = &self.labels.migration;
        query(&format!(
            "MERGE (m:{migration} {{version: $version}}) SET m.name = $name, m.checksum = $checksum, \
             m.applied_at = $applied_at, m.execution_ms = $execution_ms, m.dirty = $dirty, \
             m.dirty_direction = $dirty_direction"
        ))
        .param("version", row.version)
        .param("name", row.name.as_str())
        .param("checksum", row.checksum.to_hex())
        .param("applied_at", applied_at)
        .param("execution_ms", execution_ms)
        .param("dirty", dirty.is_some())
        .param("dirty_direction", dirty.map(Direction::as_str))
    }

    fn delete_record(&self, version: i64) -> Query {
        let migration = &self.labels.migration;
        query(&format!("MATCH (m:{migration} {{version: $version}}) DELETE m")).param("version", version)
    }

    /// Marks a node dirty for a run of `direction`, or (`None`) clean.
    fn set_dirty(&self, version: i64, direction: Option<Direction>) -> Query {
        let migration = &self.labels.migration;
        query(&format!(
            "MATCH (m:{migration} {{version: $version}}) SET m.dirty = $dirty, m.dirty_direction = $dirty_direction"
        ))
        .param("version", version)
        .param("dirty", direction.is_some())
        .param("dirty_direction", direction.map(Direction::as_str))
    }

    fn write_state(&self, state: &State) -> Query {
        let label = &self.labels.state;
        query(&format!(
            "MATCH (s:{label} {{id: 1}}) SET s.applied_count = $applied_count, s.last_version = $last_version, \
             s.chain = $chain, s.dirty = $dirty"
        ))
        .param("applied_count", state.applied_count)
        .param("last_version", state.last_version)
        .param("chain", state.chain.to_hex())
        .param("dirty", state.dirty)
    }

    /// The history node takes the next number from the state node, in the
    /// same statement, so history keeps its order whatever the clocks say.
    fn insert_history(&self, entry: &HistoryEntry) -> Query {
        let Labels { state, history, .. } = &self.labels;
        query(&format!(
            "MATCH (s:{state} {{id: 1}}) SET s.history_seq = s.history_seq + 1 \
             CREATE (:{history} {{seq: s.history_seq, version: $version, name: $name, direction: $direction, \
             started_at: $started_at, duration_ms: $duration_ms, success: $success, error: $error, reason: $reason}})"
        ))
        .param("version", entry.version)
        .param("name", entry.name.as_str())
        .param("direction", entry.direction.as_str())
        .param("started_at", self.clock.stamp(&entry.started_at))
        .param("duration_ms", self.clock.duration(entry.duration_ms))
        .param("success", entry.success)
        .param("error", entry.error.clone())
        .param("reason", entry.reason.clone())
    }

    /// The tracking writes of a finished step: its node, the state, history.
    async fn record(&self, txn: &mut Txn, change: &Change<'_>, execution_ms: i64) -> Result<(), Error> {
        let operation = "recording the migration";
        let write = match &change.record {
            Some(row) => self.upsert_record(row, self.clock.stamp(&row.applied_at), execution_ms, None),
            None => self.delete_record(change.migration.version),
        };
        txn.run(write).await.map_err(db_err(operation))?;
        txn.run(self.write_state(&change.state_after))
            .await
            .map_err(db_err(operation))?;
        let mut history = change.history.clone();
        history.duration_ms = execution_ms;
        txn.run(self.insert_history(&history)).await.map_err(db_err(operation))
    }

    /// A data migration: statements, guard and tracking writes in one
    /// transaction.
    async fn apply_in_transaction(&self, change: &Change<'_>, statements: &[Statement<'_>]) -> Result<(), Error> {
        self.in_transaction("applying the migration", async |txn| {
            let started = Instant::now();
            for statement in statements {
                if let Err(err) = txn.run(query(statement.text)).await {
                    return Err(failed(change, statement, err, true));
                }
            }
            let execution_ms = self.clock.millis_since(started);
            self.check_guard(txn, &change.state_before).await?;
            self.record(txn, change, execution_ms).await
        })
        .await
    }

    /// Schema statements (or a `no-transaction` file): mark the migration
    /// dirty, run each statement in its own transaction, then record it. A
    /// failure after a statement committed leaves the mark for a person to
    /// resolve with `force` or `forget`; a failure of the first statement
    /// changed nothing, so the mark is taken back.
    async fn apply_step_by_step(&self, change: &Change<'_>, statements: &[Statement<'_>]) -> Result<(), Error> {
        let version = change.migration.version;
        let mut dirty_state = change.state_before;
        dirty_state.dirty = true;
        self.in_transaction("marking the migration dirty", async |txn| {
            self.check_guard(txn, &change.state_before).await?;
            let direction = Some(change.direction);
            let mark = match &change.record {
                Some(row) => self.upsert_record(row, self.clock.stamp(&row.applied_at), 0, direction),
                None => self.set_dirty(version, direction),
            };
            txn.run(mark).await.map_err(db_err("marking the migration dirty"))?;
            txn.run(self.write_state(&dirty_state))
                .await
                .map_err(db_err("marking the migration dirty"))
        })
        .await?;

        let started = Instant::now();
        for (index, statement) in statements.iter().enumerate() {
            if let Err(err) = self.run_schema_statement(statement.text).await {
                let undone = index == 0
                    && match self.unmark(change, &dirty_state).await {
                        Ok(()) => true,
                        Err(unmark_err) => {
                            tracing::warn!(error = %unmark_err, "could not take back the dirty mark");
                            false
                        }
                    };
                let committed = index as u32;
                return Err(change
                    .failed_after(statement.text, statement.line, message(&err), undone, committed)
                    .with_source(err));
            }
        }
        let execution_ms = self.clock.millis_since(started);
        self.in_transaction("recording the migration", async |txn| {
            self.check_guard(txn, &dirty_state).await?;
            self.record(txn, change, execution_ms).await
        })
        .await
    }

    /// A schema statement in its own transaction: a step of a schema
    /// migration, or a tracking constraint. A SIGKILL during `CREATE
    /// CONSTRAINT ... IF NOT EXISTS` leaves the constraint's backing index
    /// behind: still being built (the server finishes the commit), or, seen
    /// on Neo4j 5.26 in the SIGKILL rounds, never coming online, owned by no
    /// constraint. The same statement sent again then gets
    /// `IndexWithNameAlreadyExists` instead of doing nothing. That answer
    /// awaits the indexes (`db.awaitIndexes`, a few seconds at most); an
    /// index of the constraint's name still not online and owned by no
    /// constraint after that is the dead process's and is dropped (the
    /// statement creates that very constraint, and the lock is held, or,
    /// for the lock's own constraint, every booting process wants the
    /// same); then the statement is sent again. All within the lock
    /// timeout, after which the error stands (see `failed`). Transient
    /// errors are retried within the same bound.
    async fn run_schema_statement(&self, statement: &str) -> Result<(), neo4rs::Error> {
        let started = Instant::now();
        loop {
            let result = run_alone(&self.graph, query(statement)).await;
            let left = self.lock_timeout.saturating_sub(started.elapsed());
            match &result {
                Err(err) if has_code(err, INDEX_NAME_TAKEN) && !left.is_zero() => {
                    tracing::warn!(
                        error = %message(err),
                        "an index of this name is still being built, or left by a killed process; \
                         awaiting the indexes, then trying again"
                    );
                    let seconds = left.min(INDEX_AWAIT).as_secs().max(1) as i64;
                    let wait = query("CALL db.awaitIndexes($seconds)").param("seconds", seconds);
                    if let Err(await_err) = self.graph.run(wait).await {
                        tracing::debug!(error = %await_err, "awaiting the indexes");
                        if let Some(name) = constraint_name(statement) {
                            self.drop_orphan_index(&name).await?;
                        }
                    }
                    // Online, the index may still await its constraint's commit.
                    tokio::time::sleep(LOCK_POLL.min(self.lock_timeout.saturating_sub(started.elapsed()))).await;
                }
                _ if try_again(&result, started, self.lock_timeout).await => {}
                _ => return result,
            }
        }
    }

    /// Drops the index `name` if no constraint owns it and it is not online
    /// (a constraint's backing index whose creation was killed).
    async fn drop_orphan_index(&self, name: &str) -> Result<(), neo4rs::Error> {
        let orphan = query(
            "SHOW INDEXES YIELD name, owningConstraint, state \
             WHERE name = $name AND owningConstraint IS NULL AND state <> 'ONLINE' RETURN count(*) AS orphans",
        )
        .param("name", name);
        let rows = fetch_rows(&self.graph, orphan).await?;
        if rows.first().and_then(|r| r.get::<i64>("orphans").ok()) == Some(1) {
            tracing::warn!(
                index = name,
                "dropping an index a killed process left without its constraint"
            );
            run_alone(
                &self.graph,
                query(&format!("DROP INDEX `{}` IF EXISTS", name.replace('`', "``"))),
            )
            .await?;
        }
        Ok(())
    }

    /// Takes back the dirty mark of a step whose first statement failed.
    async fn unmark(&self, change: &Change<'_>, dirty_state: &State) -> Result<(), Error> {
        let version = change.migration.version;
        self.in_transaction("taking back the dirty mark", async |txn| {
            self.check_guard(txn, dirty_state).await?;
            let undo = match change.direction {
                Direction::Up => self.delete_record(version),
                Direction::Down => self.set_dirty(version, None),
            };
            txn.run(undo).await.map_err(db_err("taking back the dirty mark"))?;
            txn.run(self.write_state(&change.state_before))
                .await
                .map_err(db_err("taking back the dirty mark"))
        })
        .await
    }
}

/// The name in `CREATE CONSTRAINT <name> ...`, unquoted; `None` for an
/// unnamed constraint or another statement.
fn constraint_name(statement: &str) -> Option<String> {
    let mut words = statement.split_whitespace();
    let create = words.next()?.eq_ignore_ascii_case("CREATE");
    let constraint = words.next()?.eq_ignore_ascii_case("CONSTRAINT");
    let name = words.next()?;
    let unnamed = ["IF", "FOR", "ON"].iter().any(|w| name.eq_ignore_ascii_case(w));
    (create && constraint && !unnamed).then(|| name.trim_matches('`').replace("``", "`"))
}

fn failed(change: &Change<'_>, statement: &Statement<'_>, err: neo4rs::Error, rolled_back: bool) -> Error {
    let mut message = message(&err);
    if has_code(&err, INDEX_NAME_TAKEN) {
        // What `run_schema_statement` waited for before giving up.
        message.push_str(
            " (still so after awaiting the indexes for the lock timeout: an index of that name exists \
             without its constraint; if no process is creating it, drop the index and run again)",
        );
    }
    change
        .failed(statement.text, statement.line, message, rolled_back)
        .with_source(err)
}

impl Session for Neo4jSession {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn dialect(&self) -> Dialect {
        Dialect::Cypher
    }

    /// Schema statements run one transaction each (`apply`).
    fn runs_in_transaction(&self, script: &crate::Script) -> bool {
        let schema = split(script.text, Dialect::Cypher)
            .first()
            .is_some_and(|s| is_cypher_schema(s.text));
        !schema && !script.no_transaction
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(Neo4jSession::read_state(self))
    }

    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(Neo4jSession::prepare(self))
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
    /// (neo4j_batch.rs).
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

/// The session's operations; `impl Session` below boxes their futures.
impl Neo4jSession {
    pub(crate) async fn read_state(&mut self) -> Result<Option<State>, Error> {
        let operation = "reading the migration state";
        let label = &self.labels.state;
        let q = query(&format!(
            "MATCH (s:{label} {{id: 1}}) RETURN s.applied_count AS applied_count, \
             s.last_version AS last_version, s.chain AS chain, s.dirty AS dirty"
        ));
        let rows = self.fetch(q, operation).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let chain: String = row.get("chain").map_err(row_err(operation))?;
        Ok(Some(State {
            applied_count: row.get("applied_count").map_err(row_err(operation))?,
            last_version: row.get("last_version").map_err(row_err(operation))?,
            chain: CorruptChecksum::parse(None, &chain).map_err(|err| err.into_error(BACKEND))?,
            dirty: row.get("dirty").map_err(row_err(operation))?,
        }))
    }

    pub(crate) async fn prepare(&mut self) -> Result<(), Error> {
        let operation = "creating the tracking constraints";
        let Labels {
            migration,
            state,
            constraint,
            ..
        } = &self.labels;
        // Schema commands, each in its own transaction; IF NOT EXISTS makes
        // them idempotent. The lock's constraint is made by `lock`.
        for statement in [
            format!(
                "CREATE CONSTRAINT `{constraint}_version` IF NOT EXISTS FOR (m:{migration}) REQUIRE m.version IS UNIQUE"
            ),
            format!("CREATE CONSTRAINT `{constraint}_state_id` IF NOT EXISTS FOR (s:{state}) REQUIRE s.id IS UNIQUE"),
        ] {
            self.run_schema_statement(&statement).await.map_err(db_err(operation))?;
        }
        let q = query(&format!(
            "MERGE (s:{state} {{id: 1}}) ON CREATE SET s.applied_count = 0, s.last_version = 0, \
             s.chain = $chain, s.dirty = false, s.history_seq = 0"
        ))
        .param("chain", Checksum::ZERO.to_hex());
        self.in_transaction("creating the state node", async |txn| {
            txn.run(q).await.map_err(db_err("creating the state node"))
        })
        .await
    }

    pub(crate) async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
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
                return Err(Error::database(BACKEND, operation, "the lock query returned no row"));
            };
            // No owner: the holder deleted the node while this query
            // matched it (seen with 16 processes booting at once); the lock
            // is free, so the next attempt goes at once.
            let Some(holder) = row.get::<Option<String>>("owner").map_err(row_err(operation))? else {
                let waited = started.elapsed();
                if waited >= timeout {
                    return Err(Error::LockTimeout {
                        backend: BACKEND,
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
                    backend: BACKEND,
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

    pub(crate) async fn unlock(&mut self) -> Result<(), Error> {
        self.heartbeat = None;
        let lock = &self.labels.lock;
        let q = query(&format!("MATCH (l:{lock} {{id: 1}}) WHERE l.owner = $owner DELETE l"))
            .param("owner", self.owner.as_str());
        self.graph.run(q).await.map_err(db_err("releasing the migration lock"))
    }

    pub(crate) async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        let operation = "reading the applied migrations";
        let migration = &self.labels.migration;
        let q = query(&format!(
            "MATCH (m:{migration}) RETURN m.version AS version, m.name AS name, m.checksum AS checksum, \
             m.applied_at AS applied_at, m.execution_ms AS execution_ms, m.dirty AS dirty, \
             m.dirty_direction AS dirty_direction ORDER BY m.version"
        ));
        let rows = self.fetch(q, operation).await?;
        for row in &rows {
            let version: i64 = row.get("version").map_err(row_err(operation))?;
            let checksum: String = row.get("checksum").map_err(row_err(operation))?;
            CorruptChecksum::parse(Some(version), &checksum).map_err(|err| err.into_error(BACKEND))?;
        }
        rows.iter()
            .map(|row| {
                let checksum: String = row.get("checksum")?;
                let dirty: bool = row.get("dirty")?;
                let direction: Option<String> = row.get("dirty_direction")?;
                Ok(AppliedMigration {
                    version: row.get("version")?,
                    name: row.get("name")?,
                    checksum: Checksum::from_hex(&checksum).unwrap_or(Checksum::ZERO), // checked above
                    applied_at: row.get("applied_at")?,
                    execution_ms: row.get("execution_ms")?,
                    dirty,
                    // Nodes marked before the direction was recorded have none.
                    dirty_run: direction.filter(|_| dirty).map(|direction| crate::DirtyRun {
                        direction: if direction == "down" {
                            Direction::Down
                        } else {
                            Direction::Up
                        },
                        committed: None,
                    }),
                })
            })
            .collect::<Result<_, neo4rs::DeError>>()
            .map_err(row_err(operation))
    }

    pub(crate) async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        let operation = "reading the migration history";
        let history = &self.labels.history;
        let q = query(&format!(
            "MATCH (h:{history}) RETURN h.version AS version, h.name AS name, h.direction AS direction, \
             h.started_at AS started_at, h.duration_ms AS duration_ms, h.success AS success, \
             h.error AS error, h.reason AS reason ORDER BY h.seq"
        ));
        let rows = self.fetch(q, operation).await?;
        rows.iter()
            .map(|row| {
                let direction: String = row.get("direction")?;
                Ok(HistoryEntry {
                    version: row.get("version")?,
                    name: row.get("name")?,
                    direction: if direction == "down" {
                        Direction::Down
                    } else {
                        Direction::Up
                    },
                    started_at: row.get("started_at")?,
                    duration_ms: row.get("duration_ms")?,
                    success: row.get("success")?,
                    error: row.get("error")?,
                    reason: row.get("reason")?,
                })
            })
            .collect::<Result<_, neo4rs::DeError>>()
            .map_err(row_err(operation))
    }

    pub(crate) async fn apply(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        let statements = split(script.text, Dialect::Cypher);
        // The folder rules refuse files mixing both kinds, so the first
        // statement tells the kind of the whole file.
        let schema = statements.first().is_some_and(|s| is_cypher_schema(s.text));
        if schema || script.no_transaction {
            self.apply_step_by_step(change, &statements).await
        } else {
            self.apply_in_transaction(change, &statements).await
        }
    }

    pub(crate) async fn write_history(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        let q = self.insert_history(entry);
        self.in_transaction("writing the history", async |txn| {
            txn.run(q).await.map_err(db_err("writing the history"))
        })
        .await
    }

    pub(crate) async fn rewrite_record(&mut self, edit: RecordEdit<'_>, state: &State) -> Result<(), Error> {
        let operation = "updating the tracking nodes";
        self.in_transaction(operation, async |txn| {
            let write = match edit {
                RecordEdit::Put(row) => {
                    Some(self.upsert_record(row, self.clock.stamp(&row.applied_at), row.execution_ms, None))
                }
                RecordEdit::Remove(version) => Some(self.delete_record(version)),
                RecordEdit::StateOnly => None,
            };
            if let Some(write) = write {
                txn.run(write).await.map_err(db_err(operation))?;
            }
            txn.run(self.write_state(state)).await.map_err(db_err(operation))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::constraint_name;

    #[test]
    fn reads_the_constraint_name_of_a_create_constraint() {
        let named = "CREATE CONSTRAINT `my``c` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE";
        assert_eq!(constraint_name(named).as_deref(), Some("my`c"));
        assert_eq!(
            constraint_name("create constraint crash_id for (n:A) require n.id is unique").as_deref(),
            Some("crash_id")
        );
        assert_eq!(
            constraint_name("CREATE CONSTRAINT IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE"),
            None
        );
        assert_eq!(constraint_name("CREATE INDEX crash_v FOR (n:A) ON (n.v)"), None);
    }
}
