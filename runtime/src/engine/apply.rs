//! `up` and `down`: the boot check, then under the lock the loop that plans
//! on the tracking rows, applies the plan step by step, and plans again
//! when another process changed the state in between.

use super::applied::AppliedSet;
use super::{Connect, DownTarget, Engine};
use crate::backend::{Change, Session, State};
use crate::report::{ProgressEvent, Report, StepReport};
use crate::{Direction, Error, Migration};
use std::time::Instant;
use tracing::Instrument;

/// A `down` with a backup on a database without [`crate::backend::Backups`]
/// (Neo4j, Chroma): refused before anything is locked or reverted.
fn no_backups(backup: &crate::Backup, backend: &'static str) -> Error {
    backup.failed(
        backend,
        "this database has no backup this crate can write before a down (docs/repair.md, \
         \"A backup before down\", says why): take one with the database's own tools, then run down without a backup",
    )
}

/// What one round of planning decided: migrations to run in one direction.
struct Steps {
    direction: Direction,
    migrations: Vec<&'static Migration>,
}

impl Engine<'_> {
    pub(crate) async fn up(&self, db: &dyn Connect, to: Option<i64>) -> Result<Report, Error> {
        self.settings.check()?;
        self.check_placeholders()?;
        self.check_target(to)?;
        let mut session = self.open(db).await?;
        // The boot check: one row, no lock, no DDL. Any doubt (no table yet,
        // an error, a mismatch) falls through to the full check under lock.
        let boot = session.read_state().await;
        if let Ok(Some(state)) = &boot {
            if self.up_to_date(state) {
                return Ok(Report::default());
            }
        }
        crate::code::check_database(self.migrations, self.code, session.backend())?;
        if matches!(boot, Ok(None)) && self.provisions(&mut *session) {
            return self.up_from_nothing(&mut *session, to).await;
        }
        self.lock(&mut *session).await?;
        let result = self.up_locked(&mut *session, to, Report::default()).await;
        self.release(&mut *session, result).await
    }

    /// Under the lock, with the tracking tables there: the pending
    /// migrations, after the steps in `done`.
    async fn up_locked(&self, session: &mut dyn Session, to: Option<i64>, done: Report) -> Result<Report, Error> {
        let result = self
            .apply_and_replan(session, |applied, _| {
                self.verify(applied)?;
                Ok(Steps {
                    direction: Direction::Up,
                    migrations: self.pending(applied, to)?,
                })
            })
            .await;
        let mut report = done;
        match result {
            Ok(rest) => {
                report.steps.extend(rest.steps);
                Ok(report)
            }
            Err(err) => Err(Error::after(report, err)),
        }
    }

    /// Whether a database with nothing applied is provisioned in one
    /// transaction here: `Settings::provision_in_one_transaction` asks for
    /// it, and the session does so (SQLite only in group mode).
    fn provisions(&self, session: &mut dyn Session) -> bool {
        if self.settings.provision != Some(true) {
            return false;
        }
        session
            .provision()
            .is_some_and(|provision| provision.by_default() || self.settings.group)
    }

    /// A database without tracking tables: under the lock (once another
    /// process has not provisioned it meanwhile), the tracking tables and
    /// the pending migrations up to the first that cannot share a
    /// transaction (`no-transaction`, a batch) in one transaction, with the
    /// records a one-by-one run writes; from that one on, one by one.
    async fn up_from_nothing(&self, session: &mut dyn Session, to: Option<i64>) -> Result<Report, Error> {
        if let Err(err) = session.lock(self.settings.lock_timeout).await {
            return Err(self.explain_lock_timeout(session, err).await);
        }
        let result = async {
            let mut report = Report::default();
            if session.read_state().await?.is_none() {
                report = self.provision(session, to).await?;
            }
            if let Err(err) = session.create_tracking().await {
                return Err(Error::after(report, err));
            }
            self.up_locked(session, to, report).await
        }
        .await;
        self.release(session, result).await
    }

    /// The leading run of pending migrations that fits one transaction,
    /// with the tracking tables, in one transaction. A failure leaves the
    /// database as it was: no table, nothing recorded (not even the failed
    /// run's history row, which would need the tables).
    async fn provision(&self, session: &mut dyn Session, to: Option<i64>) -> Result<Report, Error> {
        let mut applied = AppliedSet::new(Vec::new()).in_dialect(session.dialect());
        let pending = self.pending(&applied, to)?;
        let leading: Vec<&'static Migration> = pending
            .into_iter()
            .take_while(|m| self.fits_one_transaction(std::slice::from_ref(m)).is_ok())
            .collect();
        let mut report = Report::default();
        if leading.is_empty() {
            return Ok(report);
        }
        let changes: Vec<Change<'static>> = leading
            .iter()
            .map(|migration| self.change(&mut applied, migration, Direction::Up))
            .collect();
        let Some(provision) = session.provision() else {
            return Ok(report);
        };
        let started = Instant::now();
        provision
            .provision(&changes)
            .await
            .map_err(|err| self.settings.placeholders.redact_error(err))?;
        self.report_group(&changes, started.elapsed(), &mut report);
        Ok(report)
    }

    pub(crate) async fn down(&self, db: &dyn Connect, target: DownTarget) -> Result<Report, Error> {
        self.down_after_backup(db, target, None).await
    }

    /// `down`, with `backup` written first when given: under the lock, once
    /// the plan has passed every rule and has something to revert, and
    /// before the first migration is reverted. A backup that fails leaves
    /// the database as it was. Each history row of this `down` names the
    /// backup's path.
    pub(crate) async fn down_after_backup(
        &self,
        db: &dyn Connect,
        target: DownTarget,
        backup: Option<&crate::Backup>,
    ) -> Result<Report, Error> {
        self.check_placeholders()?;
        let mut session = self.open(db).await?;
        crate::code::check_database(self.migrations, self.code, session.backend())?;
        if let (Some(backup), None) = (backup, session.backups()) {
            return Err(no_backups(backup, session.backend()));
        }
        self.lock(&mut *session).await?;
        let result = match backup {
            Some(backup) => self.back_up_then_down(&mut *session, target, backup).await,
            None => self.down_locked(&mut *session, target).await,
        };
        self.release(&mut *session, result).await
    }

    /// Under the lock: the backup, when the plan reverts anything, then
    /// the `down` with the backup's path in each history row.
    async fn back_up_then_down(
        &self,
        session: &mut dyn Session,
        target: DownTarget,
        backup: &crate::Backup,
    ) -> Result<Report, Error> {
        let applied = AppliedSet::new(session.read_applied().await?).in_dialect(session.dialect());
        if self.down_targets(&applied, target)?.is_empty() {
            return Ok(Report::default());
        }
        let backend = session.backend();
        let Some(backups) = session.backups() else {
            return Err(no_backups(backup, backend));
        };
        backups.write_backup(backup).await?;
        let reason = match self.reason {
            Some(reason) => format!("{reason}; backup: {}", backup.path().display()),
            None => format!("backup: {}", backup.path().display()),
        };
        let engine = Engine {
            reason: Some(&reason),
            ..*self
        };
        engine.down_locked(session, target).await
    }

    /// Under the lock: the migrations `target` reverts, planned again
    /// whenever another process moved the state.
    async fn down_locked(&self, session: &mut dyn Session, target: DownTarget) -> Result<Report, Error> {
        self.apply_and_replan(session, |applied, done| {
            // Steps already reverted in an earlier round count against the target.
            let target = match target {
                DownTarget::Steps(steps) => DownTarget::Steps(steps.saturating_sub(done.steps.len())),
                other => other,
            };
            Ok(Steps {
                direction: Direction::Down,
                migrations: self.down_targets(applied, target)?,
            })
        })
        .await
    }

    /// Reads the tracking rows, plans on them with `plan` (given what earlier
    /// rounds did), and applies the plan; when a step finds that another
    /// process moved the state since the rows were read (`Conflict`), plans
    /// again on the new rows.
    ///
    /// Never endless: in every round the state row is compared with the
    /// rows before anything runs, and one that disagrees with them for good
    /// (edited by hand: it would conflict in every round) is
    /// `StateMismatch`, so a migration's statements never run against it. Each
    /// real conflict means another process applied or reverted a migration
    /// of this table, so more conflicts than the table has migrations (plus
    /// a few) is `Contended`. A run without conflicts reads nothing more.
    async fn apply_and_replan(
        &self,
        session: &mut dyn Session,
        plan: impl Fn(&AppliedSet, &Report) -> Result<Steps, Error>,
    ) -> Result<Report, Error> {
        let mut report = Report::default();
        match self.rounds(session, plan, &mut report).await {
            Ok(()) => Ok(report),
            // The steps that finished stay applied: the caller learns which.
            Err(err) => Err(Error::after(report, err)),
        }
    }

    /// The rounds of [`Engine::apply_and_replan`], each finished step added
    /// to `report`.
    async fn rounds(
        &self,
        session: &mut dyn Session,
        plan: impl Fn(&AppliedSet, &Report) -> Result<Steps, Error>,
        report: &mut Report,
    ) -> Result<(), Error> {
        let max_rounds = self.migrations.len() + 3;
        for _ in 0..max_rounds {
            // Read before the rows, and compared with them before anything
            // runs (one row, under the lock): a state row edited by hand, or
            // its table dropped and seeded again at zero, would fail every
            // change's guard; its statements would run and roll back first.
            let recorded = session.read_state().await?;
            let mut applied = AppliedSet::new(session.read_applied().await?).in_dialect(session.dialect());
            // The rules first: their errors (drift, dirty, ...) say more
            // than a disagreeing state row would.
            let steps = plan(&applied, report)?;
            if !self.state_agrees(session, recorded, &applied).await? {
                continue;
            }
            if steps.migrations.is_empty() {
                return Ok(());
            }
            let round = if self.settings.group && steps.direction == Direction::Up {
                self.apply_group(session, &mut applied, &steps.migrations, report).await
            } else {
                self.apply_each(session, &mut applied, steps, report).await
            };
            match round {
                Err(Error::Conflict) => {}
                other => return other,
            }
        }
        Err(Error::Contended {
            backend: session.backend(),
            rounds: max_rounds,
        })
    }

    /// Whether the state row `recorded` (when read) agrees with the tracking
    /// rows, as every change will check: false when another process changed
    /// them while they were read (plan again), `StateMismatch` when they
    /// disagree for good.
    async fn state_agrees(
        &self,
        session: &mut dyn Session,
        recorded: Option<State>,
        applied: &AppliedSet,
    ) -> Result<bool, Error> {
        let rows = applied.state();
        match recorded {
            Some(recorded) if recorded != rows => {
                // Without a lock across reads (SQLite), a change committed
                // between the two reads looks the same: read both again. If
                // neither moved, they disagree for good.
                let recorded_again = session.read_state().await?;
                let rows_again = AppliedSet::new(session.read_applied().await?).state();
                if recorded_again == Some(recorded) && rows_again == rows {
                    return Err(Error::StateMismatch {
                        backend: session.backend(),
                        recorded: Box::new(recorded),
                        rows: Box::new(rows),
                    });
                }
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    /// The steps one by one, each in its own change; stops at the first
    /// error, with the steps before it in `report`.
    async fn apply_each(
        &self,
        session: &mut dyn Session,
        applied: &mut AppliedSet,
        steps: Steps,
        report: &mut Report,
    ) -> Result<(), Error> {
        let total = steps.migrations.len();
        for (index, migration) in steps.migrations.into_iter().enumerate() {
            let step = self
                .apply_one(session, applied, migration, steps.direction, index + 1, total)
                .await?;
            report.steps.push(step);
        }
        Ok(())
    }

    /// The change that moves `applied` one migration on, planned against the
    /// state those rows call for.
    fn change(&self, applied: &mut AppliedSet, migration: &'static Migration, direction: Direction) -> Change<'static> {
        let state_before = applied.state();
        let record = match direction {
            Direction::Up => Some(Self::record(migration)),
            Direction::Down => None,
        };
        match &record {
            Some(row) => applied.upsert(row.clone()),
            None => applied.remove(migration.version),
        }
        Change {
            migration,
            direction,
            record,
            state_before,
            state_after: applied.state(),
            history: self.history_entry(migration, direction),
            code: self.code_of(migration, direction),
            text: self.text_of(migration, direction),
        }
    }

    async fn apply_one(
        &self,
        session: &mut dyn Session,
        applied: &mut AppliedSet,
        migration: &'static Migration,
        direction: Direction,
        index: usize,
        total: usize,
    ) -> Result<StepReport, Error> {
        let change = self.change(applied, migration, direction);
        let span = tracing::info_span!(
            "migration",
            version = migration.version,
            name = migration.name,
            direction = direction.as_str(),
            step = index,
            of = total
        );
        self.progress(index, total, migration, direction, ProgressEvent::Started);
        let started = Instant::now();
        let result = match self.batch_spec(migration, direction) {
            Some(spec) => {
                self.apply_batches(session, &change, &spec, (index, total))
                    .instrument(span.clone())
                    .await
            }
            None => session.apply(&change).instrument(span.clone()).await,
        };
        let duration = started.elapsed();
        match result {
            Ok(()) => {
                self.progress(index, total, migration, direction, ProgressEvent::Finished(duration));
                span.in_scope(|| {
                    tracing::info!(
                        duration_ms = duration.as_millis() as u64,
                        "migration {}",
                        direction.as_str()
                    )
                });
                Ok(StepReport {
                    version: migration.version,
                    name: migration.name.to_string(),
                    direction,
                    duration,
                })
            }
            Err(Error::Conflict) => Err(Error::Conflict),
            Err(err) => {
                let err = self.settings.placeholders.redact_error(err);
                self.progress(index, total, migration, direction, ProgressEvent::Failed(duration));
                span.in_scope(|| tracing::error!(error = %err, "migration failed"));
                self.record_failure(session, &change, &err, duration).await;
                Err(err)
            }
        }
    }

    /// Writes the history row of a failed change; a failure to write it is
    /// logged, the migration's own error is what the caller gets.
    async fn record_failure(
        &self,
        session: &mut dyn Session,
        change: &Change<'_>,
        err: &Error,
        duration: std::time::Duration,
    ) {
        let mut entry = change.history.clone();
        entry.success = false;
        entry.duration_ms = duration.as_millis() as i64;
        entry.error = Some(err.to_string());
        if let Err(history_err) = session.write_history(&entry).await {
            tracing::warn!(error = %history_err, "could not record the failure in history");
        }
    }

    /// Group mode refuses a migration that cannot share one transaction.
    fn fits_one_transaction(&self, pending: &[&'static Migration]) -> Result<(), Error> {
        if let Some(m) = pending.iter().find(|m| self.batch_spec(m, Direction::Up).is_some()) {
            return Err(Error::InvalidSettings {
                message: format!(
                    "group mode runs everything in one transaction, but `{}` is a batch migration \
                     (migrate:batch), which commits batch by batch",
                    m.up.file
                ),
            });
        }
        if let Some(m) = pending.iter().find(|m| m.up.no_transaction) {
            return Err(Error::InvalidSettings {
                message: format!(
                    "group mode runs everything in one transaction, but `{}` says migrate:no-transaction",
                    m.up.file
                ),
            });
        }
        Ok(())
    }

    /// Group mode: every pending migration in one transaction.
    async fn apply_group(
        &self,
        session: &mut dyn Session,
        applied: &mut AppliedSet,
        pending: &[&'static Migration],
        report: &mut Report,
    ) -> Result<(), Error> {
        self.fits_one_transaction(pending)?;
        let changes: Vec<Change<'static>> = pending
            .iter()
            .map(|migration| self.change(applied, migration, Direction::Up))
            .collect();
        let backend = session.backend();
        let Some(group) = session.group() else {
            return Err(Error::Unsupported {
                backend,
                what: "group mode (all migrations in one transaction)".to_string(),
            });
        };
        let started = Instant::now();
        let result = group.apply_group(&changes).await;
        let duration = started.elapsed();
        if let Err(err) = result {
            let err = self.settings.placeholders.redact_error(err);
            let failed = match &err {
                Error::TimedOut { error, .. } => error.as_ref(),
                other => other,
            };
            if let Error::MigrationFailed { version, .. } = failed {
                if let Some(change) = changes.iter().find(|c| c.migration.version == *version) {
                    self.record_failure(session, change, &err, duration).await;
                }
            }
            return Err(err);
        }
        self.report_group(&changes, duration, report);
        Ok(())
    }

    /// The steps of a group that committed in `duration`, each its share.
    fn report_group(&self, changes: &[Change<'static>], duration: std::time::Duration, report: &mut Report) {
        let total = changes.len();
        let share = duration / total.max(1) as u32;
        for (i, change) in changes.iter().enumerate() {
            self.progress(
                i + 1,
                total,
                change.migration,
                Direction::Up,
                ProgressEvent::Finished(share),
            );
            report.steps.push(StepReport {
                version: change.migration.version,
                name: change.migration.name.to_string(),
                direction: Direction::Up,
                duration: share,
            });
        }
    }
}
