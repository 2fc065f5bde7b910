//! The rules, and the operations that only read: what `run` and `down`
//! would do, the status of every migration, `validate` and `history`.
//! Nothing here creates a table or takes a lock.

use super::applied::AppliedSet;
use super::{Connect, DownTarget, Engine};
use crate::backend::{Session, State};
use crate::core::split::split;
use crate::records::{AppliedMigration, HistoryEntry};
use crate::report::{MigrationState, Plan, PlannedStep, Status, StatusEntry};
use crate::{Direction, Error, Migration};
use std::collections::BTreeMap;

impl Engine<'_> {
    /// True when the state row says exactly the binary's migrations are
    /// applied, clean, with the checksums the binary has.
    pub(crate) fn up_to_date(&self, state: &State) -> bool {
        let expected = State {
            applied_count: (self.migrations.len() + self.repeatables.len()) as i64,
            last_version: self.migrations.last().map_or(0, |m| m.version),
            chain: self.expected_chain(),
            dirty: false,
        };
        *state == expected || self.up_to_date_unsquashed(state)
    }

    /// The running hash of a database where everything of the binary is
    /// applied: the precomputed one of the versioned migrations, continued
    /// over the repeatable ones in key order (a few hashes, no I/O).
    fn expected_chain(&self) -> crate::Checksum {
        let mut chain = self.chains.last().copied().unwrap_or(crate::Checksum::ZERO);
        let mut repeatables: Vec<&Migration> = self.repeatables.iter().collect();
        repeatables.sort_by_key(|m| m.version);
        for m in repeatables {
            chain = crate::core::chain_step(&chain, m.version, &m.checksum());
        }
        chain
    }

    /// The first dirty row, as the error that stops every change.
    fn refuse_dirty(&self, applied: &AppliedSet) -> Result<(), Error> {
        match applied.rows.iter().find(|row| row.dirty) {
            Some(row) => Err(self.dirty(applied, row)),
            None => Ok(()),
        }
    }

    /// The error for a dirty row: the direction of the run that left it and,
    /// where the row counted them, its committed statements with their
    /// lines in the file (split as the session splits it).
    fn dirty(&self, applied: &AppliedSet, row: &AppliedMigration) -> Error {
        let direction = row.dirty_run.map_or(Direction::Up, |run| run.direction);
        let committed = row.dirty_run.and_then(|run| run.committed).map(|committed| {
            let statements = match (self.find(row.version), applied.dialect) {
                (Some(migration), Some(dialect)) => Some(
                    split(&self.text_of(migration, direction), dialect)
                        .into_iter()
                        .map(|s| s.line)
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            };
            let done = usize::try_from(committed).unwrap_or(usize::MAX);
            crate::Committed {
                statements: committed,
                total: statements.as_ref().map(Vec::len),
                lines: statements
                    .as_ref()
                    .map(|lines| lines.iter().take(done.min(10)).copied().collect())
                    .unwrap_or_default(),
                next_line: statements.as_ref().and_then(|lines| lines.get(done)).copied(),
            }
        });
        Error::Dirty {
            version: row.version,
            name: row.name.clone(),
            direction,
            committed,
        }
    }

    fn drift(migration: &Migration, recorded: crate::Checksum) -> Error {
        Error::Drift {
            version: migration.version,
            name: migration.name.to_string(),
            file: migration.up.file.to_string(),
            recorded,
            embedded: migration.checksum(),
        }
    }

    /// The rules `run` enforces before it changes anything: no dirty row, no
    /// drift, nothing applied that the binary lacks (unless allowed).
    pub(super) fn verify(&self, applied: &AppliedSet) -> Result<(), Error> {
        self.refuse_foreign(applied)?;
        self.refuse_dirty(applied)?;
        // The squashed history's rows stand for the baseline: not drift.
        for row in &applied.rows[self.squashed_rows(applied)..] {
            // A repeatable migration whose text changed is re-applied, not drift.
            if let Some(migration) = self.find(row.version) {
                if migration.checksum() != row.checksum && row.version > 0 {
                    return Err(Self::drift(migration, row.checksum));
                }
            }
        }
        match self.unknown(applied) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Applied rows this binary does not have, as the error the settings
    /// call for: `MissingInBinary` for a version inside the binary's range
    /// (a file deleted), else `Ahead` (a newer release applied them).
    fn unknown(&self, applied: &AppliedSet) -> Option<Error> {
        if self.settings.allow_missing {
            return None;
        }
        let latest = self.migrations.last().map_or(0, |m| m.version);
        let (mut missing, mut ahead) = (Vec::new(), Vec::new());
        let squashed = self.squashed_rows(applied);
        for row in applied.rows[squashed..]
            .iter()
            .filter(|row| self.find(row.version).is_none())
        {
            let entry = (row.version, row.name.clone());
            match row.version > latest {
                true => ahead.push(entry),
                false => missing.push(entry),
            }
        }
        if !missing.is_empty() {
            // Inside the range: never accepted by `allow_ahead`.
            missing.extend(ahead.into_iter().filter(|_| !self.settings.allow_ahead));
            return Some(Error::MissingInBinary { migrations: missing });
        }
        (!ahead.is_empty() && !self.settings.allow_ahead).then_some(Error::Ahead {
            latest,
            migrations: ahead,
        })
    }

    /// Another application's tracking table: rows exist, and not one of
    /// them has a version and name of this binary. (A drifted file keeps
    /// its name, and a database ahead of the binary shares its first
    /// rows, so neither looks like this.)
    pub(super) fn refuse_foreign(&self, applied: &AppliedSet) -> Result<(), Error> {
        let rows = applied.versioned();
        if rows.is_empty() || self.migrations.is_empty() {
            return Ok(());
        }
        // Rows of the versions a baseline replaced are this set's history
        // (all of it, or a database stopped inside it: missing, not foreign).
        if let Some(squashed) = &self.squashed {
            if rows.iter().any(|row| squashed.covers(row.version)) {
                return Ok(());
            }
        }
        let ours = rows
            .iter()
            .any(|row| self.find(row.version).is_some_and(|m| m.name == row.name));
        if ours {
            return Ok(());
        }
        Err(Error::ForeignTable {
            table: self.settings.table.clone(),
            rows: rows.iter().take(3).map(|row| (row.version, row.name.clone())).collect(),
            count: rows.len(),
        })
    }

    /// `StateMismatch` when the state row `recorded` disagrees with the
    /// tracking rows (a hand edit or a partial restore). A dirty up run's
    /// row is written before the state row moves, so that state agrees too.
    fn refuse_mismatch(&self, backend: &'static str, recorded: State, applied: &AppliedSet) -> Result<(), Error> {
        let rows = applied.state();
        if recorded == rows || recorded == applied.state_without_dirty_up() {
            return Ok(());
        }
        Err(Error::StateMismatch {
            backend,
            recorded: Box::new(recorded),
            rows: Box::new(rows),
        })
    }

    /// Pending migrations up to `to`, refusing out-of-order ones unless allowed.
    pub(super) fn pending(&self, applied: &AppliedSet, to: Option<i64>) -> Result<Vec<&'static Migration>, Error> {
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
        // After every versioned migration, in name order: each repeatable one
        // never applied, or whose text changed since.
        let all_versioned = to.is_none_or(|to| self.migrations.last().is_none_or(|last| to >= last.version));
        if all_versioned {
            pending.extend(
                self.repeatables
                    .iter()
                    .filter(|m| applied.get(m.version).is_none_or(|row| row.checksum != m.checksum())),
            );
        }
        Ok(pending)
    }

    /// A `run_to` target must be a version of the binary (or 0).
    pub(super) fn check_target(&self, to: Option<i64>) -> Result<(), Error> {
        match to {
            Some(version) if version != 0 && self.find(version).is_none() => Err(Error::UnknownVersion {
                version,
                in_binary: false,
                in_database: None,
            }),
            _ => Ok(()),
        }
    }

    /// The applied migrations `down` would revert, newest first, after
    /// checking every one of them can be reverted.
    pub(super) fn down_targets(
        &self,
        applied: &AppliedSet,
        target: DownTarget,
    ) -> Result<Vec<&'static Migration>, Error> {
        // Another set's rows would read as drift, whose advice
        // (`repair --accept-edit`) would run this set's down files on them.
        self.refuse_foreign(applied)?;
        self.refuse_dirty(applied)?;
        let rows: Vec<_> = match target {
            // Repeatable migrations are never reverted: the next version replaces them.
            DownTarget::Steps(steps) => applied.versioned().iter().rev().take(steps).collect(),
            DownTarget::Version(version) => {
                if version != 0 && self.find(version).is_none() && applied.get(version).is_none() {
                    return Err(Error::UnknownVersion {
                        version,
                        in_binary: false,
                        in_database: Some(false),
                    });
                }
                applied
                    .versioned()
                    .iter()
                    .rev()
                    .take_while(|row| row.version > version)
                    .collect()
            }
        };
        let reverted: Vec<i64> = rows.iter().map(|row| row.version).collect();
        self.refuse_reverting_squashed(&reverted, self.squashed_rows(applied))?;
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
                return Err(Self::drift(migration, row.checksum));
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

    /// Rows of an existing tracking table, with its state row; none when it
    /// does not exist yet.
    pub(super) async fn read_only_view(&self, session: &mut dyn Session) -> Result<Option<(State, AppliedSet)>, Error> {
        match session.read_state().await? {
            None => Ok(None),
            Some(state) => {
                let rows = session.read_applied().await?;
                Ok(Some((state, AppliedSet::new(rows).in_dialect(session.dialect()))))
            }
        }
    }

    /// The applied rows, or none when there is no tracking table yet.
    pub(super) async fn read_only_rows(&self, session: &mut dyn Session) -> Result<AppliedSet, Error> {
        Ok(match self.read_only_view(session).await? {
            Some((_, applied)) => applied,
            None => AppliedSet::new(Vec::new()),
        })
    }

    /// A step of a dry run: its statements as they will run, the
    /// placeholders substituted.
    fn planned(&self, migration: &Migration, direction: Direction, session: &dyn Session) -> PlannedStep {
        let script = migration.script(direction);
        let dialect = session.dialect();
        PlannedStep {
            version: migration.version,
            name: migration.name.to_string(),
            direction,
            file: script.file.to_string(),
            // What this database does with it, not only what the file says.
            no_transaction: !session.runs_in_transaction(script),
            // A secret value is shown as `***`.
            statements: split(&self.text_of(migration, direction), dialect)
                .into_iter()
                .map(|s| self.settings.placeholders.redact(s.text))
                .collect(),
            code: self.is_code(migration),
            batch: None,
        }
    }

    pub(crate) async fn plan_up(&self, db: &dyn Connect, to: Option<i64>) -> Result<Plan, Error> {
        self.settings.check()?;
        self.check_placeholders()?;
        self.check_target(to)?;
        let mut session = self.open(db).await?;
        let applied = self.agreeing_rows(&mut *session).await?;
        let mut plan = Plan {
            steps: self
                .pending(&applied, to)?
                .into_iter()
                .map(|m| self.planned(m, Direction::Up, &*session))
                .collect(),
        };
        self.plan_batches(&mut *session, &mut plan).await?;
        Ok(plan)
    }

    /// The rows `plan_up` plans on, after the rules `run` enforces: what
    /// `run` would find under its lock, where a state row that disagrees
    /// with the rows stops it before anything runs; so the plan says so
    /// instead of listing migrations `run` would never apply. Without the
    /// lock, a run committing between the two reads looks the same: they
    /// are read once more before the plan refuses.
    async fn agreeing_rows(&self, session: &mut dyn Session) -> Result<AppliedSet, Error> {
        let mut mismatch = None;
        for _ in 0..2 {
            let Some((recorded, applied)) = self.read_only_view(session).await? else {
                return Ok(AppliedSet::new(Vec::new()));
            };
            // The rules first: their errors (drift, dirty, ...) say more.
            self.verify(&applied)?;
            match self.refuse_mismatch(session.backend(), recorded, &applied) {
                Ok(()) => return Ok(applied),
                Err(err) => mismatch = Some(err),
            }
        }
        Err(mismatch.expect("two reads disagreed"))
    }

    pub(crate) async fn plan_down(&self, db: &dyn Connect, target: DownTarget) -> Result<Plan, Error> {
        self.check_placeholders()?;
        let mut session = self.open(db).await?;
        let applied = self.read_only_rows(&mut *session).await?;
        Ok(Plan {
            steps: self
                .down_targets(&applied, target)?
                .into_iter()
                .map(|m| self.planned(m, Direction::Down, &*session))
                .collect(),
        })
    }

    pub(super) fn status_of(&self, applied: &AppliedSet) -> Status {
        // Versioned migrations by version, then the repeatable ones.
        let mut entries: BTreeMap<(bool, i64), StatusEntry> = BTreeMap::new();
        for migration in self.migrations.iter().chain(self.repeatables) {
            entries.insert(
                (migration.version < 0, migration.version),
                StatusEntry {
                    version: migration.version,
                    name: migration.name.to_string(),
                    description: migration.description.map(str::to_string),
                    state: MigrationState::Pending,
                    applied_at: None,
                    execution_ms: None,
                    irreversible: migration.irreversible,
                    baseline: None,
                    noop: is_noop(migration),
                    repeatable: migration.version < 0,
                    batch: None,
                    allowed: crate::report::AllowedRule::of(migration),
                },
            );
        }
        let squashed = self.squashed_rows(applied);
        for (index, row) in applied.rows.iter().enumerate() {
            let migration = self.find(row.version);
            let state = if row.dirty {
                MigrationState::Dirty
            } else if index < squashed {
                // Applied before the squash: the baseline stands for it.
                MigrationState::Applied
            } else {
                match migration {
                    None => MigrationState::Missing,
                    // Changed since: a repeatable one is applied again.
                    Some(m) if m.checksum() != row.checksum && row.version < 0 => MigrationState::Pending,
                    Some(m) if m.checksum() != row.checksum => MigrationState::Drifted,
                    Some(_) => MigrationState::Applied,
                }
            };
            let entry = entries
                .entry((row.version < 0, row.version))
                .or_insert_with(|| StatusEntry {
                    version: row.version,
                    name: row.name.clone(),
                    description: None,
                    state,
                    applied_at: None,
                    execution_ms: None,
                    irreversible: false,
                    baseline: None,
                    noop: false,
                    repeatable: row.version < 0,
                    batch: None,
                    allowed: Vec::new(),
                });
            entry.state = state;
            entry.applied_at = Some(row.applied_at.clone());
            entry.execution_ms = Some(row.execution_ms);
        }
        Status {
            entries: entries.into_values().collect(),
            warnings: Vec::new(),
        }
    }

    pub(crate) async fn status(&self, db: &dyn Connect) -> Result<Status, Error> {
        let mut session = self.open(db).await?;
        let Some((state, applied)) = self.read_only_view(&mut *session).await? else {
            return Ok(self.status_of(&AppliedSet::new(Vec::new())));
        };
        let mut status = self.status_of_view(session.backend(), state, &applied)?;
        Self::mark_baselined(&mut status, &session.read_history().await?);
        self.read_checkpoints(&mut *session, &mut status).await?;
        Ok(status)
    }

    /// `status` of rows already read, before the history and the batch
    /// checkpoints add their marks.
    pub(super) fn status_of_view(
        &self,
        backend: &'static str,
        state: State,
        applied: &AppliedSet,
    ) -> Result<Status, Error> {
        // Every row would show as drifted or missing: say why instead.
        self.refuse_foreign(applied)?;
        let mut status = self.status_of(applied);
        if let Err(mismatch) = self.refuse_mismatch(backend, state, applied) {
            // Loudly: `run`'s boot check trusts the state row (one row read),
            // so a deleted row's migration would not run again before repair.
            status.warnings.push(mismatch.to_string());
        }
        Ok(status)
    }

    /// Every problem at once: drift, missing, dirty, out of order, and a state
    /// row that disagrees with the tracking rows (a hand edit).
    pub(crate) async fn validate(&self, db: &dyn Connect) -> Result<Status, Error> {
        let mut session = self.open(db).await?;
        let Some((state, applied)) = self.read_only_view(&mut *session).await? else {
            return Ok(self.status_of(&AppliedSet::new(Vec::new())));
        };
        let history = session.read_history().await?;
        let mut validated = self.validate_view(session.backend(), state, &applied);
        if let Ok(status) = &mut validated {
            Self::mark_baselined(status, &history);
        }
        validated
    }

    /// `validate` of rows already read (without the baseline marks, which
    /// judge nothing).
    pub(super) fn validate_view(
        &self,
        backend: &'static str,
        state: State,
        applied: &AppliedSet,
    ) -> Result<Status, Error> {
        let status = self.status_of(applied);
        if let Err(foreign) = self.refuse_foreign(applied) {
            // Every row would be reported as missing or drifted: say why.
            return Err(Error::Invalid {
                problems: vec![foreign],
            });
        }
        let mut problems = Vec::new();
        for entry in &status.entries {
            match entry.state {
                MigrationState::Dirty => {
                    let row = applied.get(entry.version).expect("dirty entries are applied");
                    problems.push(self.dirty(applied, row));
                }
                MigrationState::Drifted => {
                    let migration = self.find(entry.version).expect("drifted entries are in the binary");
                    let row = applied.get(entry.version).expect("drifted entries are applied");
                    problems.push(Self::drift(migration, row.checksum));
                }
                MigrationState::Pending
                    if !self.settings.allow_out_of_order && entry.version > 0 && entry.version < applied.highest() =>
                {
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
        problems.extend(self.unknown(applied));
        // A hand edit or a partial restore; `repair` is the fix.
        problems.extend(self.refuse_mismatch(backend, state, applied).err());
        if problems.is_empty() {
            Ok(status)
        } else {
            Err(Error::Invalid { problems })
        }
    }

    pub(crate) async fn history(&self, db: &dyn Connect) -> Result<Vec<HistoryEntry>, Error> {
        let mut session = self.open(db).await?;
        if session.read_state().await?.is_none() {
            return Ok(Vec::new());
        }
        session.read_history().await
    }
}

/// The up file says `migrate:noop` (in either language's comment syntax).
fn is_noop(migration: &Migration) -> bool {
    use crate::core::{parse_header, Language};
    [Language::Sql, Language::Cypher]
        .into_iter()
        .any(|language| parse_header(migration.up.text, language).is_ok_and(|header| header.noop))
}
