//! Adoption: a database whose schema exists already (built by hand, or by
//! another migration tool) gets tracking rows for the migrations it has,
//! without running them.
//!
//! - `baseline`: every migration up to and including a version;
//! - `import`: what another tool's history table in the same database says
//!   was applied, after proving (where the tool kept a checksum) that each
//!   file is the one it applied.
//!
//! Both end in [`Engine::adopt`]: under the migration lock, every existing
//! tracking row must be one that would be recorded, identical; then the
//! rows, their history rows (reason `baseline...`) and the state row are
//! written through `Session::record_applied`, one transaction where the
//! database allows. Nothing else is touched (the other tool's table stays).

use super::applied::AppliedSet;
use super::tool::Tool;
use super::{Connect, Engine};
use crate::backend::{Change, Session, State};
use crate::records::HistoryEntry;
use crate::report::{AdoptedMigration, Adoption, Status};
use crate::{Direction, Error, Migration};
use sha2::{Digest, Sha384};
use std::collections::BTreeMap;

/// Every history reason written by `baseline` and `import` starts with this:
/// how `status` tells a baselined migration from one that ran.
const BASELINE: &str = "baseline";

/// One row of the other tool's table, read as text.
struct ToolRow {
    version: String,
    /// `success` (sqlx) or not `dirty` (golang-migrate); true elsewhere.
    clean: bool,
    /// sqlx's SHA-384, hex.
    checksum: Option<String>,
}

fn truthy(text: Option<&str>) -> bool {
    matches!(text.map(str::trim), Some("1" | "t" | "true" | "TRUE"))
}

impl ToolRow {
    /// A row of `tool.columns()`, read as text.
    fn new(tool: Tool, cells: Vec<Option<String>>) -> ToolRow {
        let mut cells = cells.into_iter();
        let version = cells.next().flatten().unwrap_or_default();
        let second = cells.next().flatten();
        let third = cells.next().flatten();
        let (clean, checksum) = match tool {
            Tool::Sqlx => (truthy(second.as_deref()), third),
            Tool::GolangMigrate => (!truthy(second.as_deref()), None),
            Tool::Refinery | Tool::Diesel => (true, None),
        };
        ToolRow {
            version,
            clean,
            checksum,
        }
    }
}

impl Engine<'_> {
    /// Records every migration up to and including `version` as applied.
    pub(crate) async fn baseline(&self, db: &dyn Connect, version: i64, dry_run: bool) -> Result<Adoption, Error> {
        self.settings.check()?;
        if self.find(version).is_none() {
            return Err(Error::UnknownVersion {
                version,
                in_binary: false,
                in_database: None,
            });
        }
        let reason = match self.reason {
            Some(why) => format!("{BASELINE}: {why}"),
            None => BASELINE.to_string(),
        };
        let targets: Vec<&'static Migration> = self.migrations.iter().filter(|m| m.version <= version).collect();
        self.adopt(db, BASELINE, &targets, reason, dry_run).await
    }

    /// Records what `tool`'s history table says was applied, after checking
    /// every row against this binary. The table is read before the lock is
    /// taken: the other tool is not expected to run during an adoption.
    pub(crate) async fn import(&self, db: &dyn Connect, tool: Tool, dry_run: bool) -> Result<Adoption, Error> {
        self.settings.check()?;
        let cells = {
            let mut session = self.open(db).await?;
            let backend = session.backend();
            let Some(foreign) = session.foreign_history() else {
                return Err(Error::Unsupported {
                    backend,
                    what: "importing another tool's history".to_string(),
                });
            };
            foreign.read_foreign(tool.table(), tool.columns()).await?
        };
        let rows: Vec<ToolRow> = cells.into_iter().map(|row| ToolRow::new(tool, row)).collect();
        let targets = self.imported(tool, &rows)?;
        let reason = format!("{BASELINE} (imported from {tool})");
        let mut adoption = self
            .adopt(db, &format!("import from {tool}"), &targets, reason, dry_run)
            .await?;
        adoption.source = tool.name().to_string();
        Ok(adoption)
    }

    /// The migrations of this binary that `rows` say were applied, or every
    /// reason they cannot be taken as such.
    fn imported(&self, tool: Tool, rows: &[ToolRow]) -> Result<Vec<&'static Migration>, Error> {
        let mut problems = Vec::new();
        let mut applied: BTreeMap<i64, &'static Migration> = BTreeMap::new();
        // Every version the tool has a row for, whatever is wrong with it.
        let mut seen = std::collections::BTreeSet::new();
        if rows.is_empty() {
            problems.push(format!("`{}` has no row: {tool} applied nothing here", tool.table()));
        }
        for row in rows {
            match self.imported_row(tool, row) {
                Ok(migration) => {
                    seen.insert(migration.version);
                    applied.insert(migration.version, migration);
                }
                Err((version, problem)) => {
                    seen.extend(version);
                    problems.push(problem);
                }
            }
        }
        if tool == Tool::GolangMigrate {
            // One row: the version, with everything below it applied.
            if let Some((&version, _)) = applied.iter().next_back() {
                applied = self
                    .migrations
                    .iter()
                    .filter(|m| m.version <= version)
                    .map(|m| (m.version, m))
                    .collect();
            }
        }
        self.never_applied(tool, &seen, &applied, &mut problems);
        if problems.is_empty() {
            Ok(applied.into_values().collect())
        } else {
            Err(Error::Adoption {
                what: format!("import from {tool}"),
                problems,
            })
        }
    }

    /// The migration one row of the tool proves applied, or what is wrong
    /// with the row (with its version when it has one).
    fn imported_row(&self, tool: Tool, row: &ToolRow) -> Result<&'static Migration, (Option<i64>, String)> {
        // diesel's rows go through the function `layout = "diesel"` reads its
        // folders with, so the two agree (its setup folder's 0 included).
        let parsed = match tool {
            Tool::Diesel => embedded_migrations_core::diesel_version(row.version.trim()).ok_or(()),
            _ => row.version.trim().parse::<i64>().map_err(|_| ()),
        };
        let version = match parsed {
            Ok(version) if version > 0 => version,
            // golang-migrate writes -1 once every migration was reverted.
            _ => {
                return Err((
                    None,
                    format!(
                        "version `{}` of `{}` is not a migration version (a positive number, as this binary's file names start with)",
                        row.version,
                        tool.table()
                    ),
                ))
            }
        };
        let problem = |text: String| Err((Some(version), text));
        if !row.clean {
            return problem(match tool {
                Tool::GolangMigrate => {
                    format!("{tool} is dirty at version {version}: its last run failed halfway; repair it with {tool} first")
                }
                _ => format!(
                    "{tool} recorded version {version} as failed (success = false); repair it with {tool} first"
                ),
            });
        }
        let Some(migration) = self.find(version) else {
            let setup = if tool == Tool::Diesel && row.version.trim().bytes().all(|b| b == b'0') {
                format!(
                    " (diesel's setup folder, `{}`, which `layout = \"diesel\"` embeds as version {version})",
                    row.version.trim()
                )
            } else {
                String::new()
            };
            return problem(format!(
                "version {version}{setup} was applied by {tool} but is not in this binary; add its file, or delete the row"
            ));
        };
        if let Some(recorded) = &row.checksum {
            let embedded = hex(&Sha384::digest(migration.up.text.as_bytes()));
            if !recorded.eq_ignore_ascii_case(&embedded) {
                return problem(format!(
                    "version {version} (`{}`): {tool} recorded SHA-384 {recorded}, this binary's file hashes to \
                     {embedded}; {tool} hashed the file's raw bytes, so the same text with other line ends \
                     (CRLF) or a byte-order mark differs too",
                    migration.up.file
                ));
            }
        }
        Ok(migration)
    }

    /// A migration of the binary below the highest imported one that the
    /// tool has no row for: `run` would refuse it as out of order later.
    fn never_applied(
        &self,
        tool: Tool,
        seen: &std::collections::BTreeSet<i64>,
        applied: &BTreeMap<i64, &'static Migration>,
        problems: &mut Vec<String>,
    ) {
        let Some(&highest) = applied.keys().next_back() else {
            return;
        };
        for migration in self.migrations.iter().filter(|m| m.version < highest) {
            if !seen.contains(&migration.version) && !applied.contains_key(&migration.version) {
                problems.push(format!(
                    "version {} (`{}`) is in this binary below version {highest}, the highest {tool} applied, but {tool} never applied it",
                    migration.version, migration.up.file
                ));
            }
        }
    }

    /// Records `targets` as applied, under the lock (dry run: says what it
    /// would record, reading only).
    async fn adopt(
        &self,
        db: &dyn Connect,
        what: &str,
        targets: &[&'static Migration],
        reason: String,
        dry_run: bool,
    ) -> Result<Adoption, Error> {
        let mut session = self.open(db).await?;
        if dry_run {
            let applied = self.read_only_rows(&mut *session).await?;
            let pending = Self::not_yet_recorded(what, &applied, targets)?;
            return Ok(Self::adoption(what, reason, targets, &pending, true));
        }
        self.lock(&mut *session).await?;
        let result = self.adopt_locked(&mut *session, what, targets, reason).await;
        self.release(&mut *session, result).await
    }

    async fn adopt_locked(
        &self,
        session: &mut dyn Session,
        what: &str,
        targets: &[&'static Migration],
        reason: String,
    ) -> Result<Adoption, Error> {
        const ROUNDS: usize = 3;
        for _ in 0..ROUNDS {
            let recorded = session.read_state().await?;
            let mut applied = AppliedSet::new(session.read_applied().await?);
            let pending = Self::not_yet_recorded(what, &applied, targets)?;
            let rows = applied.state();
            if let Some(recorded) = recorded.filter(|recorded| *recorded != rows) {
                return Err(Error::StateMismatch {
                    backend: session.backend(),
                    recorded: Box::new(recorded),
                    rows: Box::new(rows),
                });
            }
            let changes: Vec<Change<'static>> = pending
                .iter()
                .map(|migration| self.record_only(&mut applied, migration, &reason))
                .collect();
            match session.record_applied(&changes).await {
                // SQLite holds no lock between reads: another process wrote
                // in between; read again.
                Err(Error::Conflict) => continue,
                Err(err) => return Err(err),
                Ok(()) => return Ok(Self::adoption(what, reason, targets, &pending, false)),
            }
        }
        Err(Error::Contended {
            backend: session.backend(),
            rounds: ROUNDS,
        })
    }

    /// The change that records `migration` as applied, running nothing.
    fn record_only(&self, applied: &mut AppliedSet, migration: &'static Migration, reason: &str) -> Change<'static> {
        let state_before: State = applied.state();
        let record = Self::record(migration);
        applied.upsert(record.clone());
        let mut history = self.history_entry(migration, Direction::Up);
        history.reason = Some(reason.to_string());
        // Nothing runs, so no value is used.
        history.placeholders = None;
        Change {
            migration,
            direction: Direction::Up,
            record: Some(record),
            state_before,
            state_after: applied.state(),
            history,
            // Recorded, not run.
            code: None,
            text: std::borrow::Cow::Borrowed(migration.up.text),
        }
    }

    /// The targets without a tracking row, after checking every row there is
    /// one of the targets, clean, with this binary's checksum.
    fn not_yet_recorded(
        what: &str,
        applied: &AppliedSet,
        targets: &[&'static Migration],
    ) -> Result<Vec<&'static Migration>, Error> {
        let mut problems = Vec::new();
        for row in &applied.rows {
            match targets.iter().find(|m| m.version == row.version) {
                None => problems.push(format!(
                    "version {} ({}) is already recorded as applied, and {what} would not record it",
                    row.version, row.name
                )),
                Some(_) if row.dirty => problems.push(format!(
                    "version {} ({}) is recorded dirty: resolve it with `force` or `forget` first",
                    row.version, row.name
                )),
                Some(m) if m.checksum() != row.checksum => problems.push(format!(
                    "version {} ({}) is recorded with checksum {}, but this binary's `{}` has {}",
                    row.version,
                    row.name,
                    row.checksum,
                    m.up.file,
                    m.checksum()
                )),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(Error::Adoption {
                what: what.to_string(),
                problems,
            });
        }
        Ok(targets
            .iter()
            .copied()
            .filter(|m| applied.get(m.version).is_none())
            .collect())
    }

    fn adoption(
        what: &str,
        reason: String,
        targets: &[&'static Migration],
        recorded: &[&'static Migration],
        dry_run: bool,
    ) -> Adoption {
        Adoption {
            source: what.to_string(),
            reason,
            recorded: recorded
                .iter()
                .map(|m| AdoptedMigration {
                    version: m.version,
                    name: m.name.to_string(),
                    checksum: m.checksum().to_hex(),
                })
                .collect(),
            already_recorded: targets
                .iter()
                .filter(|t| !recorded.iter().any(|r| r.version == t.version))
                .map(|t| t.version)
                .collect(),
            dry_run,
        }
    }

    /// Fills in `baseline` of every applied entry whose latest successful up
    /// run in `history` was a baseline or an import.
    pub(super) fn mark_baselined(status: &mut Status, history: &[HistoryEntry]) {
        let mut last_up: BTreeMap<i64, &HistoryEntry> = BTreeMap::new();
        for entry in history.iter().filter(|e| e.success && e.direction == Direction::Up) {
            last_up.insert(entry.version, entry);
        }
        for entry in status.entries.iter_mut().filter(|e| e.applied_at.is_some()) {
            entry.baseline = last_up
                .get(&entry.version)
                .and_then(|h| h.reason.clone())
                .filter(|reason| reason.starts_with(BASELINE));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
