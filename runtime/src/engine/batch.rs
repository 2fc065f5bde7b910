//! Batch migrations (`-- migrate:batch size=N`, core/src/batch.rs): the
//! file's one statement runs again and again, one batch per transaction
//! with its checkpoint, until a batch changes no row; that last, empty
//! batch records the migration applied. A run killed in between leaves the
//! checkpoint (batches and rows committed) and no tracking row: the next
//! run resumes, and since the statement selects only unprocessed rows,
//! nothing is processed twice. The migration lock is held throughout.

use super::Engine;
use crate::backend::{Batch, BatchSupport, Batches, Change, SelfBatchedProgress, SelfBatches, Session};
use crate::core::batch::BatchSpec;
use crate::core::split::split;
use crate::core::Language;
use crate::records::Checkpoint;
use crate::report::{BatchProgress, MigrationState, Plan, PlannedBatch, ProgressEvent, Status};
use crate::{Direction, Error, Migration};
use std::time::{Duration, Instant};

/// The batch directive of a migration's up file, if it has one. The build
/// checked it, so a malformed one (impossible from the macro) reads as none.
/// A Rust code migration's is in its `CODE` entry: [`Engine::batch_spec`].
fn spec(migration: &Migration, direction: Direction) -> Option<BatchSpec> {
    if direction != Direction::Up {
        return None;
    }
    let language = Language::of_file(migration.up.file).unwrap_or(Language::Sql);
    BatchSpec::from_text(migration.up.text, language).ok().flatten()
}

/// A statement that keeps matching rows it has already processed (one
/// that sets a column without the `WHERE` that excludes the rows it set)
/// never meets its empty batch. Exact and free when a total was counted at
/// the start: a statement that processes each row once cannot change more
/// rows than that total, plus the rows other writers add meanwhile; twice
/// the total and one batch more is past any honest run. Without a total
/// query there is nothing to compare with (docs/batches.md says so).
fn check_bounded(batch: &Batch<'_>, checkpoint: Checkpoint, total: u64) -> Result<(), Error> {
    let bound = total.saturating_mul(2).saturating_add(batch.size);
    if checkpoint.rows <= bound {
        return Ok(());
    }
    let message = format!(
        "the batch statement has changed {} rows in {} batches, more than twice the {total} rows the \
         migrate:total query counted (plus a batch): it keeps matching rows it already processed, so it \
         would never end; stopped. The checkpoint keeps the {} batches ({} rows) committed: fix the \
         statement ({}) and run again: it resumes from the checkpoint",
        checkpoint.rows,
        checkpoint.batches,
        checkpoint.batches,
        checkpoint.rows,
        crate::core::batch::UNPROCESSED_RULE
    );
    Err(batch
        .change
        .batch_failed(batch.statement, batch.line, message, false, checkpoint))
}

/// Rows per second and time left, from what this run did since it started.
fn progress(checkpoint: Checkpoint, resumed_at: u64, total: Option<u64>, elapsed: Duration) -> BatchProgress {
    let done_here = checkpoint.rows.saturating_sub(resumed_at) as f64;
    let rate = if elapsed.as_secs_f64() > 0.0 {
        done_here / elapsed.as_secs_f64()
    } else {
        0.0
    };
    let eta = total.and_then(|total| {
        let left = total.saturating_sub(checkpoint.rows) as f64;
        (rate > 0.0).then(|| Duration::from_secs_f64(left / rate))
    });
    BatchProgress {
        batches: checkpoint.batches,
        rows: checkpoint.rows,
        total,
        rate,
        eta,
    }
}

impl Engine<'_> {
    /// The batch directives of `migration` in `direction`, if it is a batch
    /// migration: from its file, or for a Rust code migration from the
    /// table the macro wrote (its script has no text).
    pub(super) fn batch_spec(&self, migration: &Migration, direction: Direction) -> Option<BatchSpec> {
        if direction != Direction::Up {
            return None;
        }
        match self.code.iter().find(|entry| entry.version == migration.version) {
            Some(entry) => entry.batch.map(|batch| BatchSpec {
                size: batch.size,
                total: batch.total.map(str::to_string),
            }),
            None => spec(migration, direction).map(|mut spec| {
                // The count query is in the file's header: its placeholders too.
                spec.total = spec.total.map(|query| {
                    crate::core::placeholder::substitute(&query, |name| self.settings.placeholders.get(name))
                        .unwrap_or(query)
                });
                spec
            }),
        }
    }

    /// A dry run's view of the batch migrations in `plan`: size, the count
    /// query's answer now (read only), the checkpoint.
    pub(super) async fn plan_batches(&self, session: &mut dyn Session, plan: &mut Plan) -> Result<(), Error> {
        for step in &mut plan.steps {
            let Some(migration) = self.find(step.version) else {
                continue;
            };
            let Some(spec) = self.batch_spec(migration, step.direction) else {
                continue;
            };
            let backend = session.backend();
            let (total, total_error, checkpoint) = match session.batches() {
                Some(batches) => {
                    let checkpoints = batches.checkpoints();
                    let (total, total_error) = match &spec.total {
                        Some(query) => match checkpoints.count_rows(query).await {
                            Ok(total) => (Some(total), None),
                            Err(err) => (None, Some(err.to_string())),
                        },
                        None => (None, None),
                    };
                    (
                        total,
                        total_error,
                        checkpoints.read_checkpoint(migration.version).await?,
                    )
                }
                None => (
                    None,
                    spec.total.as_ref().map(|_| unsupported(backend).to_string()),
                    None,
                ),
            };
            step.batch = Some(PlannedBatch {
                size: spec.size,
                total_query: spec.total.clone(),
                total,
                total_error,
                checkpoint,
            });
        }
        Ok(())
    }

    /// Adds their checkpoint to the pending batch migrations of `status`.
    pub(super) async fn read_checkpoints(&self, session: &mut dyn Session, status: &mut Status) -> Result<(), Error> {
        for entry in &mut status.entries {
            if entry.state != MigrationState::Pending {
                continue;
            }
            let Some(migration) = self
                .find(entry.version)
                .filter(|m| self.batch_spec(m, Direction::Up).is_some())
            else {
                continue;
            };
            if let Some(batches) = session.batches() {
                entry.batch = batches.checkpoints().read_checkpoint(migration.version).await?;
            }
        }
        Ok(())
    }

    /// A replica that gave up waiting for the lock is told when the holder
    /// is running a batch migration, with its checkpoint: a backfill may
    /// hold the lock for an hour, and that is not a stuck process.
    pub(super) async fn explain_lock_timeout(&self, session: &mut dyn Session, err: Error) -> Error {
        let Error::LockTimeout {
            backend,
            waited,
            holder,
        } = err
        else {
            return err;
        };
        let mut running = Vec::new();
        for migration in self
            .migrations
            .iter()
            .filter(|m| self.batch_spec(m, Direction::Up).is_some())
        {
            let Some(batches) = session.batches() else { break };
            if let Ok(Some(checkpoint)) = batches.checkpoints().read_checkpoint(migration.version).await {
                running.push(format!(
                    "batch migration {} `{}` is in progress ({} batches, {} rows done)",
                    migration.version, migration.name, checkpoint.batches, checkpoint.rows
                ));
            }
        }
        let holder = match (holder, running.is_empty()) {
            (holder, true) => holder,
            (Some(holder), false) => Some(format!("{holder}; {}", running.join("; "))),
            (None, false) => Some(format!("a process whose {}", running.join("; "))),
        };
        Error::LockTimeout {
            backend,
            waited,
            holder,
        }
    }

    /// Runs `change`, a batch migration, to its end (see the module docs).
    pub(super) async fn apply_batches(
        &self,
        session: &mut dyn Session,
        change: &Change<'_>,
        spec: &BatchSpec,
        step: (usize, usize),
    ) -> Result<(), Error> {
        let migration = change.migration;
        let backend = session.backend();
        if change.code.is_some() {
            let what = format!("Rust code migration `{}`: its `up` function", migration.up.file);
            let batch = Batch {
                change,
                statement: &what,
                line: 1,
                size: spec.size,
                number: 0,
            };
            let batches: &mut dyn Batches = match session.batches().ok_or_else(|| unsupported(backend))? {
                BatchSupport::Statement(batches) => batches,
                BatchSupport::Database(batches) => batches,
            };
            return self.run_batches(batches, spec, batch, step).await;
        }
        let statements = split(change.text(), session.dialect());
        let [statement] = statements.as_slice() else {
            return Err(Error::InvalidSettings {
                message: format!(
                    "`{}`: a batch migration holds exactly one statement, this file splits into {} as {backend} reads it",
                    migration.up.file,
                    statements.len(),
                ),
            });
        };
        // Numbered from the checkpoint on, once it is read.
        let batch = Batch {
            change,
            statement: statement.text,
            line: statement.line,
            size: spec.size,
            number: 0,
        };
        match session.batches().ok_or_else(|| unsupported(backend))? {
            BatchSupport::Statement(batches) => self.run_batches(batches, spec, batch, step).await,
            BatchSupport::Database(batches) => self.run_self_batched(batches, spec, batch, step).await,
        }
    }

    /// The batch loop: one batch per call, from the checkpoint on, until a
    /// batch changes no row (it recorded the migration).
    async fn run_batches(
        &self,
        batches: &mut dyn Batches,
        spec: &BatchSpec,
        batch: Batch<'_>,
        step: (usize, usize),
    ) -> Result<(), Error> {
        let migration = batch.change.migration;
        let resumed = batches.read_checkpoint(migration.version).await?.unwrap_or_default();
        let total = match &spec.total {
            Some(query) => Some(resumed.rows + batches.count_rows(query).await?),
            None => None,
        };
        if resumed.batches > 0 {
            tracing::info!(
                version = migration.version,
                batches = resumed.batches,
                rows = resumed.rows,
                "resuming batch migration from its checkpoint"
            );
        }
        let started = Instant::now();
        let mut number = resumed.batches;
        loop {
            number += 1;
            let batch = Batch { number, ..batch };
            let done = batches.run_batch(&batch).await?;
            if let Some(total) = total {
                check_bounded(&batch, done.checkpoint, total)?;
            }
            if done.rows == 0 {
                tracing::info!(
                    version = migration.version,
                    batches = done.checkpoint.batches,
                    rows = done.checkpoint.rows,
                    "batch migration complete"
                );
                return Ok(());
            }
            let event = progress(done.checkpoint, resumed.rows, total, started.elapsed());
            self.batch_progress(step, migration, event, "batch committed");
        }
    }
}

/// The refusal of a database that runs no batch migrations.
fn unsupported(backend: &'static str) -> Error {
    Error::Unsupported {
        backend,
        what: "batch migrations (migrate:batch)".to_string(),
    }
}

impl Engine<'_> {
    /// One batch's progress, to tracing and to the progress callback.
    fn batch_progress(&self, step: (usize, usize), migration: &Migration, event: BatchProgress, what: &str) {
        tracing::info!(
            version = migration.version,
            batches = event.batches,
            rows = event.rows,
            total = event.total,
            rate = event.rate as u64,
            eta_s = event.eta.map(|eta| eta.as_secs()),
            "{what}"
        );
        self.progress(step.0, step.1, migration, Direction::Up, ProgressEvent::Batch(event));
    }

    /// A batch migration the database batches itself (Neo4j's `CALL { ...
    /// } IN TRANSACTIONS`, see the Neo4j backend's batch.rs): one call, whose
    /// progress arrives through the callback as the count query sees the
    /// rows left fall (the session keeps the total: a killed run's
    /// checkpoint lags the nodes it committed, the first count does not).
    async fn run_self_batched(
        &self,
        batches: &mut dyn SelfBatches,
        spec: &BatchSpec,
        batch: Batch<'_>,
        step: (usize, usize),
    ) -> Result<(), Error> {
        let migration = batch.change.migration;
        let resumed = batches.read_checkpoint(migration.version).await?.unwrap_or_default();
        let batch = Batch {
            number: resumed.batches + 1,
            ..batch
        };
        let started = Instant::now();
        let report = |p: SelfBatchedProgress| {
            let event = progress(p.checkpoint, p.resumed_rows, p.total, started.elapsed());
            self.batch_progress(step, migration, event, "inner transactions committed");
        };
        let done = batches.run_self_batched(&batch, spec.total.as_deref(), &report).await?;
        tracing::info!(
            version = migration.version,
            batches = done.batches,
            rows = done.rows,
            "batch migration complete"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_eta_count_this_run_only() {
        let p = progress(
            Checkpoint { batches: 3, rows: 300 },
            100,
            Some(1000),
            Duration::from_secs(2),
        );
        assert_eq!(p.rate, 100.0);
        assert_eq!(p.eta, Some(Duration::from_secs(7)));
        assert_eq!(progress(Checkpoint::default(), 0, None, Duration::ZERO).eta, None);
    }
}
