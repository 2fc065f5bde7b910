//! The reversibility check: does every down file undo its up file?
//!
//! On a scratch database, for each pending migration in order: snapshot,
//! up, down, snapshot again (it must equal the first), up again, go on. The
//! first migration whose down leaves a different schema stops the check and
//! is named with the objects that differ.

use super::check::snapshots;
use super::schema::SchemaDiff;
use crate::engine::{Connect, DownTarget, Engine};
use crate::report::MigrationState;
use crate::Error;
use std::fmt;

/// What [`Migrator::verify_reversible`](crate::Migrator::verify_reversible) found.
#[derive(Clone, Debug, Default)]
pub struct Reversibility {
    /// Reverted to the exact schema before them, then applied again.
    pub checked: Vec<(i64, String)>,
    /// Their down file says `migrate:irreversible`: applied, not reverted.
    pub irreversible: Vec<(i64, String)>,
    /// Already applied when the check began: not checked (use an empty
    /// scratch database to check them all).
    pub already_applied: Vec<(i64, String)>,
    /// The first migration whose down did not revert; the check stopped there.
    pub failure: Option<NotReverted>,
}

/// A migration whose down file leaves a schema other than the one its up
/// file started from.
#[derive(Clone, Debug)]
pub struct NotReverted {
    /// The migration's version.
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// The down file, e.g. `003_add_index.down.sql`.
    pub down_file: String,
    /// From the schema before the up file to the schema after the down file.
    pub diff: SchemaDiff,
}

impl Reversibility {
    /// Every checked migration reverted (irreversible ones are skipped).
    pub fn is_reversible(&self) -> bool {
        self.failure.is_none()
    }
}

impl fmt::Display for NotReverted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "migration {} ({}) does not revert: after `{}` the schema differs from before its up file \
             (- before up, + after down):",
            self.version, self.name, self.down_file
        )?;
        write!(f, "{}", self.diff)
    }
}

impl fmt::Display for Reversibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &[(i64, String)]| {
            items
                .iter()
                .map(|(v, n)| format!("{v} ({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.already_applied.is_empty() {
            writeln!(
                f,
                "not checked, applied before the check: {}",
                list(&self.already_applied)
            )?;
        }
        if !self.irreversible.is_empty() {
            writeln!(f, "skipped, irreversible: {}", list(&self.irreversible))?;
        }
        match &self.failure {
            Some(failure) => {
                if !self.checked.is_empty() {
                    writeln!(f, "reverted exactly: {}", list(&self.checked))?;
                }
                write!(f, "{failure}")
            }
            None if self.already_applied.is_empty() => writeln!(
                f,
                "every down file reverts its up file: {} migration(s) checked",
                self.checked.len()
            ),
            // Not "every": the ones applied before were not checked.
            None => writeln!(
                f,
                "each checked down file reverts its up file: {} migration(s) checked, {} not checked",
                self.checked.len(),
                self.already_applied.len()
            ),
        }
    }
}

/// See [`Migrator::verify_reversible`](crate::Migrator::verify_reversible).
pub(crate) async fn verify_reversible(engine: &Engine<'_>, db: &dyn Connect) -> Result<Reversibility, Error> {
    let snapshots = snapshots(db)?;
    let status = engine.status(db).await?;
    let mut report = Reversibility::default();
    for migration in engine.migrations {
        let name = migration.name.to_string();
        let applied = status
            .entries
            .iter()
            .any(|e| e.version == migration.version && e.state != MigrationState::Pending);
        if applied {
            report.already_applied.push((migration.version, name));
            continue;
        }
        if migration.irreversible {
            engine.up(db, Some(migration.version)).await?;
            report.irreversible.push((migration.version, name));
            continue;
        }
        let before = snapshots.snapshot(engine.settings).await?;
        engine.up(db, Some(migration.version)).await?;
        let version_before = version_before(engine, migration.version);
        engine.down(db, DownTarget::Version(version_before)).await?;
        let after = snapshots.snapshot(engine.settings).await?;
        let diff = before.diff(&after);
        if !diff.is_empty() {
            report.failure = Some(NotReverted {
                version: migration.version,
                name,
                down_file: migration.down.file.to_string(),
                diff,
            });
            return Ok(report);
        }
        engine.up(db, Some(migration.version)).await?;
        report.checked.push((migration.version, name));
    }
    Ok(report)
}

/// The highest version of the table below `version` (0 for none): the
/// target that reverts exactly `version`.
fn version_before(engine: &Engine<'_>, version: i64) -> i64 {
    engine
        .migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| *v < version)
        .max()
        .unwrap_or(0)
}
