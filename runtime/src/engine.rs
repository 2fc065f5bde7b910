//! The one implementation of the migration rules, shared by every backend:
//! the one-row boot check, locking policy, drift, missing and out-of-order
//! detection, planning, reverting and history.

use crate::backend::{Change, Database, Session, State};
use crate::core::split::{split, Dialect};
use crate::core::{chain_step, time};
use crate::report::{
    AppliedMigration, HistoryEntry, MigrationState, Plan, PlannedStep, Progress, ProgressEvent, Report, Status,
    StatusEntry, StepReport,
};
use crate::{Checksum, Direction, Error, Migration, Settings};
use std::collections::BTreeMap;
use std::time::Instant;
use tracing::Instrument;

#[doc(hidden)]
pub struct Engine<'a> {
    pub(crate) migrations: &'static [Migration],
    pub(crate) chains: &'static [Checksum],
    pub(crate) settings: &'a Settings,
    pub(crate) reason: Option<&'a str>,
    pub(crate) progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
}

#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum DownTarget {
    Steps(usize),
    Version(i64),
}

/// The applied rows in version order, with the running hash after each, so
/// that applying the next migration or reverting the last costs O(1).
struct AppliedSet {
    rows: Vec<AppliedMigration>,
    chains: Vec<Checksum>,
}

impl AppliedSet {
    fn new(mut rows: Vec<AppliedMigration>) -> Self {
        rows.sort_by_key(|row| row.version);
        let mut set = AppliedSet {
            rows,
            chains: Vec::new(),
        };
        set.rechain(0);
        set
    }

    fn rechain(&mut self, from: usize) {
        self.chains.truncate(from);
        let mut chain = if from == 0 {
            Checksum::ZERO
        } else {
            self.chains[from - 1]
        };
        for row in &self.rows[from..] {
            chain = chain_step(&chain, row.version, &row.checksum);
            self.chains.push(chain);
        }
    }

    fn state(&self) -> State {
        State {
            applied_count: self.rows.len() as i64,
            last_version: self.rows.last().map_or(0, |row| row.version),
            chain: self.chains.last().copied().unwrap_or(Checksum::ZERO),
            dirty: self.rows.iter().any(|row| row.dirty),
        }
    }

    fn get(&self, version: i64) -> Option<&AppliedMigration> {
        self.position(version).ok().map(|i| &self.rows[i])
    }

    fn position(&self, version: i64) -> Result<usize, usize> {
        self.rows.binary_search_by_key(&version, |row| row.version)
    }

    fn upsert(&mut self, row: AppliedMigration) {
        match self.position(row.version) {
            Ok(i) => {
                self.rows[i] = row;
                self.rechain(i);
            }
            Err(i) => {
                self.rows.insert(i, row);
                self.rechain(i);
            }
        }
    }

    fn remove(&mut self, version: i64) {
        if let Ok(i) = self.position(version) {
            self.rows.remove(i);
            self.rechain(i);
        }
    }

    fn highest(&self) -> i64 {
        self.rows.last().map_or(0, |row| row.version)
    }
}

impl Engine<'_> {
    fn find(&self, version: i64) -> Option<&'static Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// True when the state row says exactly the binary's migrations are
    /// applied, clean, with the checksums the binary has.
    fn up_to_date(&self, state: &State) -> bool {
        match (self.migrations.last(), self.chains.last()) {
            (Some(last), Some(chain)) => {
                !state.dirty
                    && state.applied_count == self.migrations.len() as i64
                    && state.last_version == last.version
                    && state.chain == *chain
            }
            _ => state.applied_count == 0 && !state.dirty,
        }
    }

    fn progress(&self, index: usize, total: usize, migration: &Migration, direction: Direction, event: ProgressEvent) {
        if let Some(progress) = self.progress {
            progress(&Progress {
                index,
                total,
                version: migration.version,
                name: migration.name,
                direction,
                event,
            });
        }
    }

    /// Opens a session, takes the lock, runs `body`, and releases the lock
    /// whatever `body` returned.
    async fn locked<S: Session, T>(
        &self,
        session: &mut S,
        body: impl AsyncFnOnce(&mut S) -> Result<T, Error>,
    ) -> Result<T, Error> {
        session.lock(self.settings.lock_timeout).await?;
        let result = match session.prepare().await {
            Ok(()) => body(session).await,
            Err(err) => Err(err),
        };
        let unlocked = session.unlock().await;
        match (result, unlocked) {
            (Err(err), Err(unlock_err)) => {
                tracing::warn!(error = %unlock_err, "releasing the migration lock failed after an error");
                Err(err)
            }
            (Err(err), Ok(())) => Err(err),
            (Ok(_), Err(unlock_err)) => Err(unlock_err),
            (Ok(value), Ok(())) => Ok(value),
        }
    }

    /// Rows of an existing tracking table; none when it does not exist yet.
    async fn read_only_view<S: Session>(&self, session: &mut S) -> Result<Option<(State, AppliedSet)>, Error> {
        match session.read_state().await? {
            None => Ok(None),
            Some(state) => Ok(Some((state, AppliedSet::new(session.read_applied().await?)))),
        }
    }

    /// The rules `run` enforces before it changes anything.
    fn verify(&self, applied: &AppliedSet) -> Result<(), Error> {
        if let Some(row) = applied.rows.iter().find(|row| row.dirty) {
            return Err(Error::Dirty {
                version: row.version,
                name: row.name.clone(),
                direction: Direction::Up,
            });
        }
        let mut missing = Vec::new();
        for row in &applied.rows {
            match self.find(row.version) {
                Some(migration) if migration.checksum() != row.checksum => {
                    return Err(Error::Drift {
                        version: row.version,
                        name: migration.name.to_string(),
                        file: migration.up.file.to_string(),
                        recorded: row.checksum,
                        embedded: migration.checksum(),
                    });
                }
                Some(_) => {}
                None => missing.push((row.version, row.name.clone())),
            }
        }
        if !missing.is_empty() && !self.settings.allow_missing {
            return Err(Error::MissingInBinary { migrations: missing });
        }
        Ok(())
    }

    /// Pending migrations up to `to`, refusing out-of-order ones unless allowed.
    fn pending(&self, applied: &AppliedSet, to: Option<i64>) -> Result<Vec<&'static Migration>, Error> {
        let highest = applied.highest();
        let mut pending = Vec::new();
        for migration in self.migrations {
            if applied.get(migration.version).is_some() || to.is_some_and(|to| migration.version > to) {
                continue;
            }
            if migration.version < highest && !self.settings.allow_out_of_order {
                return Err(Error::OutOfOrder {
                    version: migration.version,
                    name: migration.name.to_string(),
                    file: migration.up.file.to_string(),
                    highest_applied: highest,
                });
            }
            pending.push(migration);
        }
        Ok(pending)
    }

    fn check_target(&self, to: Option<i64>) -> Result<(), Error> {
        match to {
            Some(version) if version != 0 && self.find(version).is_none() => Err(Error::UnknownVersion { version }),
            _ => Ok(()),
        }
    }

    fn history_entry(&self, migration: &Migration, direction: Direction) -> HistoryEntry {
        HistoryEntry {
            version: migration.version,
            name: migration.name.to_string(),
            direction,
            started_at: time::now_iso8601(),
            duration_ms: 0,
            success: true,
            error: None,
            reason: self.reason.map(str::to_string),
        }
    }

    fn record(migration: &Migration) -> AppliedMigration {
        AppliedMigration {
            version: migration.version,
            name: migration.name.to_string(),
            checksum: migration.checksum(),
            applied_at: time::now_iso8601(),
            execution_ms: 0,
            dirty: false,
        }
    }

    pub async fn up<D: Database>(&self, db: &D, to: Option<i64>) -> Result<Report, Error> {
        self.settings.check()?;
        self.check_target(to)?;
        let mut session = db.open(self.settings).await?;
        // The boot check: one row, no lock, no DDL. Any doubt (no table yet,
        // an error, a mismatch) falls through to the full check under lock.
        if let Ok(Some(state)) = session.read_state().await {
            if self.up_to_date(&state) {
                return Ok(Report::default());
            }
        }
        self.locked(&mut session, async |session| self.up_locked(session, to).await)
            .await
    }

    async fn up_locked<S: Session>(&self, session: &mut S, to: Option<i64>) -> Result<Report, Error> {
        let mut report = Report::default();
        'replan: loop {
            let mut applied = AppliedSet::new(session.read_applied().await?);
            self.verify(&applied)?;
            let pending = self.pending(&applied, to)?;
            if pending.is_empty() {
                return Ok(report);
            }
            if self.settings.group {
                match self.apply_group(session, &mut applied, &pending).await {
                    Err(Error::Conflict) => continue 'replan,
                    Err(err) => return Err(err),
                    Ok(steps) => {
                        report.steps.extend(steps);
                        return Ok(report);
                    }
                }
            }
            let total = pending.len();
            for (index, migration) in pending.into_iter().enumerate() {
                match self
                    .apply_one(session, &mut applied, migration, Direction::Up, index + 1, total)
                    .await
                {
                    Err(Error::Conflict) => continue 'replan,
                    Err(err) => return Err(err),
                    Ok(step) => report.steps.push(step),
                }
            }
            return Ok(report);
        }
    }

    async fn apply_one<S: Session>(
        &self,
        session: &mut S,
        applied: &mut AppliedSet,
        migration: &'static Migration,
        direction: Direction,
        index: usize,
        total: usize,
    ) -> Result<StepReport, Error> {
        let state_before = applied.state();
        let record = match direction {
            Direction::Up => Some(Self::record(migration)),
            Direction::Down => None,
        };
        match &record {
            Some(row) => applied.upsert(row.clone()),
            None => applied.remove(migration.version),
        }
        let change = Change {
            migration,
            direction,
            record,
            state_before,
            state_after: applied.state(),
            history: self.history_entry(migration, direction),
        };
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
        let result = session
            .apply(&change, self.settings.lock_timeout)
            .instrument(span.clone())
            .await;
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
                self.progress(index, total, migration, direction, ProgressEvent::Failed(duration));
                span.in_scope(|| tracing::error!(error = %err, "migration failed"));
                let mut entry = change.history.clone();
                entry.success = false;
                entry.duration_ms = duration.as_millis() as i64;
                entry.error = Some(err.to_string());
                if let Err(history_err) = session.record_failure(&entry).await {
                    tracing::warn!(error = %history_err, "could not record the failure in history");
                }
                Err(err)
            }
        }
    }

    async fn apply_group<S: Session>(
        &self,
        session: &mut S,
        applied: &mut AppliedSet,
        pending: &[&'static Migration],
    ) -> Result<Vec<StepReport>, Error> {
        if let Some(m) = pending.iter().find(|m| m.up.no_transaction) {
            return Err(Error::InvalidSettings {
                message: format!(
                    "group mode runs everything in one transaction, but `{}` says migrate:no-transaction",
                    m.up.file
                ),
            });
        }
        let mut changes = Vec::with_capacity(pending.len());
        for migration in pending {
            let state_before = applied.state();
            let record = Self::record(migration);
            applied.upsert(record.clone());
            changes.push(Change {
                migration,
                direction: Direction::Up,
                record: Some(record),
                state_before,
                state_after: applied.state(),
                history: self.history_entry(migration, Direction::Up),
            });
        }
        let started = Instant::now();
        let result = session.apply_group(&changes, self.settings.lock_timeout).await;
        let duration = started.elapsed();
        if let Err(err) = result {
            if let Error::MigrationFailed { version, .. } = &err {
                if let Some(change) = changes.iter().find(|c| c.migration.version == *version) {
                    let mut entry = change.history.clone();
                    entry.success = false;
                    entry.error = Some(err.to_string());
                    let _ = session.record_failure(&entry).await;
                }
            }
            return Err(err);
        }
        let total = changes.len();
        let share = duration / total.max(1) as u32;
        Ok(changes
            .iter()
            .enumerate()
            .map(|(i, change)| {
                self.progress(
                    i + 1,
                    total,
                    change.migration,
                    Direction::Up,
                    ProgressEvent::Finished(share),
                );
                StepReport {
                    version: change.migration.version,
                    name: change.migration.name.to_string(),
                    direction: Direction::Up,
                    duration: share,
                }
            })
            .collect())
    }

    /// The applied migrations `down` would revert, newest first, after
    /// checking every one of them can be reverted.
    fn down_targets(&self, applied: &AppliedSet, target: DownTarget) -> Result<Vec<&'static Migration>, Error> {
        if let Some(row) = applied.rows.iter().find(|row| row.dirty) {
            return Err(Error::Dirty {
                version: row.version,
                name: row.name.clone(),
                direction: Direction::Up,
            });
        }
        let rows: Vec<&AppliedMigration> = match target {
            DownTarget::Steps(steps) => applied.rows.iter().rev().take(steps).collect(),
            DownTarget::Version(version) => {
                if version != 0 && self.find(version).is_none() && applied.get(version).is_none() {
                    return Err(Error::UnknownVersion { version });
                }
                applied
                    .rows
                    .iter()
                    .rev()
                    .take_while(|row| row.version > version)
                    .collect()
            }
        };
        let missing: Vec<(i64, String)> = rows
            .iter()
            .filter(|row| self.find(row.version).is_none())
            .map(|row| (row.version, row.name.clone()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingInBinary { migrations: missing });
        }
        let mut targets = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(migration) = self.find(row.version) else {
                continue;
            };
            if migration.checksum() != row.checksum {
                return Err(Error::Drift {
                    version: row.version,
                    name: migration.name.to_string(),
                    file: migration.up.file.to_string(),
                    recorded: row.checksum,
                    embedded: migration.checksum(),
                });
            }
            if migration.irreversible {
                return Err(Error::Irreversible {
                    version: migration.version,
                    name: migration.name.to_string(),
                    file: migration.down.file.to_string(),
                });
            }
            targets.push(migration);
        }
        Ok(targets)
    }

    pub async fn down<D: Database>(&self, db: &D, target: DownTarget) -> Result<Report, Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        self.locked(&mut session, async |session| {
            let mut report = Report::default();
            'replan: loop {
                let mut applied = AppliedSet::new(session.read_applied().await?);
                // Steps already reverted in an earlier round count against the target.
                let target = match target {
                    DownTarget::Steps(steps) => DownTarget::Steps(steps.saturating_sub(report.steps.len())),
                    other => other,
                };
                let targets = self.down_targets(&applied, target)?;
                let total = targets.len();
                for (index, migration) in targets.into_iter().enumerate() {
                    match self
                        .apply_one(session, &mut applied, migration, Direction::Down, index + 1, total)
                        .await
                    {
                        Err(Error::Conflict) => continue 'replan,
                        Err(err) => return Err(err),
                        Ok(step) => report.steps.push(step),
                    }
                }
                return Ok(report);
            }
        })
        .await
    }

    fn planned(&self, migration: &Migration, direction: Direction, dialect: Dialect) -> PlannedStep {
        let script = migration.script(direction);
        PlannedStep {
            version: migration.version,
            name: migration.name.to_string(),
            direction,
            file: script.file.to_string(),
            no_transaction: script.no_transaction,
            statements: split(script.text, dialect)
                .into_iter()
                .map(|s| s.text.to_string())
                .collect(),
        }
    }

    pub async fn plan_up<D: Database>(&self, db: &D, to: Option<i64>) -> Result<Plan, Error> {
        self.settings.check()?;
        self.check_target(to)?;
        let mut session = db.open(self.settings).await?;
        let dialect = session.dialect();
        let applied = match self.read_only_view(&mut session).await? {
            Some((_, applied)) => applied,
            None => AppliedSet::new(Vec::new()),
        };
        self.verify(&applied)?;
        let pending = self.pending(&applied, to)?;
        Ok(Plan {
            steps: pending
                .into_iter()
                .map(|m| self.planned(m, Direction::Up, dialect))
                .collect(),
        })
    }

    pub async fn plan_down<D: Database>(&self, db: &D, target: DownTarget) -> Result<Plan, Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        let dialect = session.dialect();
        let applied = match self.read_only_view(&mut session).await? {
            Some((_, applied)) => applied,
            None => AppliedSet::new(Vec::new()),
        };
        let targets = self.down_targets(&applied, target)?;
        Ok(Plan {
            steps: targets
                .into_iter()
                .map(|m| self.planned(m, Direction::Down, dialect))
                .collect(),
        })
    }

    fn status_of(&self, applied: &AppliedSet) -> Status {
        let mut entries: BTreeMap<i64, StatusEntry> = BTreeMap::new();
        for migration in self.migrations {
            entries.insert(
                migration.version,
                StatusEntry {
                    version: migration.version,
                    name: migration.name.to_string(),
                    description: migration.description.map(str::to_string),
                    state: MigrationState::Pending,
                    applied_at: None,
                    execution_ms: None,
                    irreversible: migration.irreversible,
                },
            );
        }
        for row in &applied.rows {
            let migration = self.find(row.version);
            let state = if row.dirty {
                MigrationState::Dirty
            } else {
                match migration {
                    None => MigrationState::Missing,
                    Some(m) if m.checksum() != row.checksum => MigrationState::Drifted,
                    Some(_) => MigrationState::Applied,
                }
            };
            let entry = entries.entry(row.version).or_insert_with(|| StatusEntry {
                version: row.version,
                name: row.name.clone(),
                description: None,
                state,
                applied_at: None,
                execution_ms: None,
                irreversible: false,
            });
            entry.state = state;
            entry.applied_at = Some(row.applied_at.clone());
            entry.execution_ms = Some(row.execution_ms);
        }
        Status {
            entries: entries.into_values().collect(),
        }
    }

    pub async fn status<D: Database>(&self, db: &D) -> Result<Status, Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        let applied = match self.read_only_view(&mut session).await? {
            Some((_, applied)) => applied,
            None => AppliedSet::new(Vec::new()),
        };
        Ok(self.status_of(&applied))
    }

    /// Every problem at once: drift, missing, dirty, out of order, and a state
    /// row that disagrees with the tracking rows (a hand edit).
    pub async fn validate<D: Database>(&self, db: &D) -> Result<Status, Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        let Some((state, applied)) = self.read_only_view(&mut session).await? else {
            return Ok(self.status_of(&AppliedSet::new(Vec::new())));
        };
        let status = self.status_of(&applied);
        let mut problems = Vec::new();
        let mut missing = Vec::new();
        for entry in &status.entries {
            match entry.state {
                MigrationState::Dirty => problems.push(Error::Dirty {
                    version: entry.version,
                    name: entry.name.clone(),
                    direction: Direction::Up,
                }),
                MigrationState::Drifted => {
                    let migration = self.find(entry.version).expect("drifted entries are in the binary");
                    let row = applied.get(entry.version).expect("drifted entries are applied");
                    problems.push(Error::Drift {
                        version: entry.version,
                        name: entry.name.clone(),
                        file: migration.up.file.to_string(),
                        recorded: row.checksum,
                        embedded: migration.checksum(),
                    });
                }
                MigrationState::Missing if !self.settings.allow_missing => {
                    missing.push((entry.version, entry.name.clone()))
                }
                MigrationState::Pending if !self.settings.allow_out_of_order && entry.version < applied.highest() => {
                    let migration = self.find(entry.version).expect("pending entries are in the binary");
                    problems.push(Error::OutOfOrder {
                        version: entry.version,
                        name: entry.name.clone(),
                        file: migration.up.file.to_string(),
                        highest_applied: applied.highest(),
                    });
                }
                _ => {}
            }
        }
        if !missing.is_empty() {
            problems.push(Error::MissingInBinary { migrations: missing });
        }
        let expected = applied.state();
        if state != expected {
            problems.push(Error::Database {
                backend: session.backend(),
                operation: "checking the tracking state row".to_string(),
                message: format!(
                    "it says {} applied up to version {}, the tracking rows say {} up to version {}; the tracking table was edited by hand",
                    state.applied_count, state.last_version, expected.applied_count, expected.last_version
                ),
            });
        }
        if problems.is_empty() {
            Ok(status)
        } else {
            Err(Error::Invalid { problems })
        }
    }

    pub async fn history<D: Database>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        if session.read_state().await?.is_none() {
            return Ok(Vec::new());
        }
        session.read_history().await
    }

    pub async fn force<D: Database>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.settings.check()?;
        let migration = self.find(version).ok_or(Error::UnknownVersion { version })?;
        let mut session = db.open(self.settings).await?;
        self.locked(&mut session, async |session| {
            let mut applied = AppliedSet::new(session.read_applied().await?);
            let record = Self::record(migration);
            applied.upsert(record.clone());
            session.set_record(version, Some(&record), &applied.state()).await
        })
        .await
    }

    pub async fn forget<D: Database>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.settings.check()?;
        let mut session = db.open(self.settings).await?;
        self.locked(&mut session, async |session| {
            let mut applied = AppliedSet::new(session.read_applied().await?);
            if applied.get(version).is_none() {
                return Err(Error::UnknownVersion { version });
            }
            applied.remove(version);
            session.set_record(version, None, &applied.state()).await
        })
        .await
    }
}
