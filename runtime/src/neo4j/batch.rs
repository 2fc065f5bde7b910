//! Batch migrations on Neo4j.
//!
//! The SQL form (`-- migrate:batch size=N`, one statement run again and
//! again, one batch per transaction) does not fit Cypher: Neo4j batches a
//! statement itself with `CALL { ... } IN TRANSACTIONS [OF N ROWS]`,
//! committing each inner transaction, but only when the statement runs
//! outside an explicit transaction (in an explicit one the server refuses
//! it). So on Cypher `// migrate:batch` (no size: it is the statement's
//! `OF N ROWS`) marks a file whose one statement is that construct, and it
//! runs once, auto-commit, under the migration lock:
//!
//! 1. **mark**: the state check and a checkpoint node
//!    `(:<label>Batch {version, batches, rows})` in one transaction: while
//!    it exists the migration is in progress (`status`, a waiting
//!    replica's lock timeout), not dirty;
//! 2. **run** the statement auto-commit; meanwhile, when the file has
//!    `// migrate:total <count query>`, a watcher counts what is left every
//!    second on another connection, and the rows done (the count at the
//!    migration's first start, kept in the node, minus what is left now)
//!    go into the checkpoint node and to the progress callback; the batches
//!    are those rows over `OF N ROWS`, rounded up;
//! 3. **record**: the state check, the tracking writes and the checkpoint
//!    node deleted, in one transaction.
//!
//! A kill or a failing inner transaction leaves the committed batches and
//! the checkpoint node; the next run starts again at 1, and since the
//! statement matches only unprocessed nodes, it resumes where the last
//! committed batch ended. The lease of the lock is renewed by the
//! heartbeat on its own connection throughout: the statement never touches
//! the lock node, so an hour-long run keeps its lock.

use super::cypher::{fetch_rows, run_auto};
use super::errors::{db_err, message, row_err, NAME};
use super::session::Neo4jSession;
use crate::backend::{Batch, BatchDone, Change, SelfBatchedProgress};
use crate::records::Checkpoint;
use crate::Error;
use neo4rs::{query, Graph};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Between two counts of what is left.
const WATCH_EVERY: Duration = Duration::from_secs(1);

impl Neo4jSession {
    /// The checkpoint node of `version`, if a batch migration is under way.
    pub(super) async fn read_checkpoint(&mut self, version: i64) -> Result<Option<Checkpoint>, Error> {
        let operation = "reading the batch checkpoint";
        let label = self.labels.batch.clone();
        let q = query(&format!(
            "MATCH (b:{label} {{version: $version}}) RETURN b.batches AS batches, b.rows AS rows"
        ))
        .param("version", version);
        let rows = self.fetch(q, operation).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let read = |field: &str| {
            row.get::<i64>(field)
                .map(|n| n.max(0) as u64)
                .map_err(row_err(operation))
        };
        Ok(Some(Checkpoint {
            batches: read("batches")?,
            rows: read("rows")?,
        }))
    }

    /// The number a `// migrate:total` query returns (its one column).
    pub(super) async fn count_rows(&mut self, count: &str) -> Result<u64, Error> {
        count_on(&self.graph, count).await
    }

    /// See the module docs and `SelfBatches::run_self_batched`.
    pub(super) async fn run_self_batched(
        &mut self,
        batch: &Batch<'_>,
        total: Option<&str>,
        progress: &(dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> Result<Checkpoint, Error> {
        let left_at_start = match total {
            Some(count) => Some(count_on(&self.graph, count).await?),
            None => None,
        };
        let (resumed, first_total) = self.mark_batch(batch, left_at_start).await?;
        let counter = total.zip(first_total).map(|(count, total)| RowsDone {
            count,
            total,
            size: batch.size,
        });
        let report = |checkpoint: Checkpoint| {
            progress(SelfBatchedProgress {
                checkpoint,
                resumed_rows: resumed.rows,
                total: first_total,
            })
        };
        let started = Instant::now();
        let result = self.run_watched(batch, counter.as_ref(), resumed, &report).await;
        let execution_ms = self.clock.millis_since(started);
        let done = match &counter {
            Some(counter) => match counter.now(&self.graph).await {
                Ok(done) => done,
                Err(err) if result.is_err() => {
                    tracing::warn!(error = %err, "could not count the rows done after the failure");
                    resumed
                }
                Err(err) => return Err(err),
            },
            None => resumed,
        };
        if let Err(err) = result {
            return Err(self.batch_failed(batch, done, &err).await);
        }
        self.finish_batch(batch.change, execution_ms).await?;
        Ok(done)
    }

    /// The statement, run once, while a watcher counts the rows left every
    /// second (when the file has a count query), writing the checkpoint and
    /// reporting each rise. The watcher is stopped between counts, never
    /// dropped in the middle of one (a query dropped halfway would hand its
    /// connection back unread).
    async fn run_watched(
        &self,
        batch: &Batch<'_>,
        counter: Option<&RowsDone<'_>>,
        resumed: Checkpoint,
        report: &(dyn Fn(Checkpoint) + Sync),
    ) -> Result<(), neo4rs::Error> {
        let finished = Notify::new();
        let run = async {
            let result = self.graph.run(query(batch.statement)).await;
            finished.notify_one();
            result
        };
        let watch = async {
            let Some(counter) = counter else { return };
            let mut last = resumed;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(WATCH_EVERY) => {}
                    _ = finished.notified() => return,
                }
                match counter.now(&self.graph).await {
                    Ok(now) if now.rows > last.rows => {
                        last = now;
                        if let Err(err) = self.write_checkpoint(batch.change.migration.version, now).await {
                            tracing::warn!(error = %err, "could not write the batch checkpoint; the run goes on");
                        }
                        report(now);
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "could not count the rows left; the run goes on"),
                }
            }
        };
        let (result, ()) = tokio::join!(run, watch);
        result
    }

    /// One batch of a batch code migration, in one transaction: the guard,
    /// the `up` function called with the size, and the checkpoint node
    /// advanced; a call that processed nothing records the migration and
    /// deletes the node instead. A failure rolls the batch back and leaves
    /// the node as the batches before it wrote it. The node is read before
    /// the transaction: the migration lock keeps every other writer of it
    /// away.
    pub(super) async fn run_code_batch(&mut self, batch: &Batch<'_>) -> Result<BatchDone, Error> {
        let change = batch.change;
        let Some(code) = change.code else {
            return Err(Error::Unsupported {
                backend: NAME,
                what: "a Cypher batch migration run batch by batch (Neo4j batches it itself)".to_string(),
            });
        };
        let function = crate::code::run::batch_function::<neo4rs::Txn>(change, code, NAME)?;
        let version = change.migration.version;
        let before = self.read_checkpoint(version).await?.unwrap_or_default();
        let label = &self.labels.batch;
        let started = Instant::now();
        let mut done = BatchDone {
            rows: 0,
            checkpoint: before,
        };
        self.in_transaction("running a batch of the migration", async |txn| {
            self.check_guard(txn, &change.state_before).await?;
            let size = batch.size;
            let caught = txn
                .lend(move |txn| function(txn, size))
                .await
                .map_err(db_err("running a batch of the migration"))?;
            let rows = crate::code::run::batch_outcome(change, caught, before)?;
            let checkpoint = Checkpoint {
                batches: before.batches + u64::from(rows > 0),
                rows: before.rows + rows,
            };
            if rows > 0 {
                let write = query(&format!(
                    "MERGE (b:{label} {{version: $version}}) SET b.batches = $batches, b.rows = $rows"
                ))
                .param("version", version)
                .param("batches", checkpoint.batches as i64)
                .param("rows", checkpoint.rows as i64);
                txn.run(write).await.map_err(db_err("writing the batch checkpoint"))?;
            } else {
                let books = self.books_for_record(change, self.clock.millis_since(started));
                self.keep_books_in(txn, &change.state_before, books).await?;
                let delete =
                    query(&format!("MATCH (b:{label} {{version: $version}}) DELETE b")).param("version", version);
                txn.run(delete).await.map_err(db_err("recording the batch migration"))?;
            }
            done = BatchDone { rows, checkpoint };
            Ok(())
        })
        .await?;
        Ok(done)
    }

    /// The state check, the tracking writes and the checkpoint node
    /// deleted, in one transaction.
    async fn finish_batch(&self, change: &Change<'_>, execution_ms: i64) -> Result<(), Error> {
        let label = &self.labels.batch;
        self.in_transaction("recording the batch migration", async |txn| {
            let books = self.books_for_record(change, execution_ms);
            self.keep_books_in(txn, &change.state_before, books).await?;
            let delete = query(&format!("MATCH (b:{label} {{version: $version}}) DELETE b"))
                .param("version", change.migration.version);
            txn.run(delete).await.map_err(db_err("recording the batch migration"))
        })
        .await
    }

    /// The state check and the checkpoint node in one transaction. The
    /// node keeps the count of the migration's first start (`total`), so
    /// that the rows done are that minus what is left, exact even after a
    /// kill (the killed run's last checkpoint lags what it committed); the
    /// node is corrected with it here. Returns the checkpoint and the total.
    async fn mark_batch(&self, batch: &Batch<'_>, left: Option<u64>) -> Result<(Checkpoint, Option<u64>), Error> {
        let operation = "marking the batch migration in progress";
        let change = batch.change;
        let label = self.labels.batch.clone();
        let q = query(&format!(
            "MERGE (b:{label} {{version: $version}}) ON CREATE SET b.batches = 0, b.rows = 0, b.total = $left \
             SET b.owner = $owner, b.started_at = datetime() \
             WITH b, CASE WHEN b.total IS NOT NULL AND $left IS NOT NULL THEN b.total - $left ELSE b.rows END AS rows \
             SET b.rows = rows, b.batches = CASE WHEN rows = b.rows THEN b.batches \
             ELSE (rows + $size - 1) / $size END \
             RETURN b.batches AS batches, b.rows AS rows, b.total AS total"
        ))
        .param("version", change.migration.version)
        .param("owner", self.owner.as_str())
        .param("left", left.map(|n| n as i64))
        .param("size", batch.size.max(1) as i64);
        let mut marked = (Checkpoint::default(), None);
        self.in_transaction(operation, async |txn| {
            self.check_guard(txn, &change.state_before).await?;
            let rows = txn.rows(q).await.map_err(db_err(operation))?;
            if let Some(row) = rows.first() {
                let read = |field: &str| {
                    row.get::<i64>(field)
                        .map(|n| n.max(0) as u64)
                        .map_err(row_err(operation))
                };
                let total = row.get::<Option<i64>>("total").map_err(row_err(operation))?;
                marked = (
                    Checkpoint {
                        batches: read("batches")?,
                        rows: read("rows")?,
                    },
                    total.map(|n| n.max(0) as u64),
                );
            }
            Ok(())
        })
        .await?;
        Ok(marked)
    }

    /// Auto-commit, on the session's pool: the watcher writes while the
    /// statement runs on another connection.
    async fn write_checkpoint(&self, version: i64, checkpoint: Checkpoint) -> Result<(), Error> {
        let label = self.labels.batch.clone();
        let q = query(&format!(
            "MATCH (b:{label} {{version: $version}}) SET b.batches = $batches, b.rows = $rows"
        ))
        .param("version", version)
        .param("batches", checkpoint.batches as i64)
        .param("rows", checkpoint.rows as i64);
        run_auto(&self.graph, q)
            .await
            .map_err(db_err("writing the batch checkpoint"))
    }

    /// The error of a failed run: the migration, the statement, the
    /// server's message, and what stays (the committed inner transactions
    /// and the checkpoint, written one last time).
    async fn batch_failed(&self, batch: &Batch<'_>, done: Checkpoint, err: &neo4rs::Error) -> Error {
        if let Err(write_err) = self.write_checkpoint(batch.change.migration.version, done).await {
            tracing::warn!(error = %write_err, "could not write the batch checkpoint after the failure");
        }
        let message = format!(
            "{}; the inner transactions committed before the failure stay (checkpoint: about {} batches, \
             {} rows, counted with migrate:total) and the migration stays in progress: fix the cause and run \
             again, the statement resumes with the nodes it has not processed",
            message(err),
            done.batches,
            done.rows
        );
        batch
            .change
            .batch_failed(batch.statement, batch.line, message, false, done)
    }
}

/// The first column of the one row `count` returns, as a count.
/// The rows done so far: the count at the migration's first start minus
/// what the count query finds left now, in batches of `size`.
struct RowsDone<'q> {
    count: &'q str,
    total: u64,
    size: u64,
}

impl RowsDone<'_> {
    async fn now(&self, graph: &Graph) -> Result<Checkpoint, Error> {
        let rows = self.total.saturating_sub(count_on(graph, self.count).await?);
        Ok(Checkpoint {
            batches: rows.div_ceil(self.size.max(1)),
            rows,
        })
    }
}

async fn count_on(graph: &Graph, count: &str) -> Result<u64, Error> {
    let operation = format!("counting the batch total with `{count}`");
    let rows = fetch_rows(graph, query(count))
        .await
        .map_err(|err| Error::database(NAME, operation.clone(), message(&err)).with_source(err))?;
    let value = rows.first().map(|row| row.to::<i64>());
    match value {
        Some(Ok(n)) => Ok(n.max(0) as u64),
        Some(Err(err)) => Err(Error::database(
            NAME,
            operation,
            format!("the count query must return one integer column: {err}"),
        )),
        None => Err(Error::database(NAME, operation, "the count query returned no row")),
    }
}
