#[cfg(feature = "serde")]
use crate::records::direction_str;
use crate::records::Checkpoint;
use crate::records::State;
use crate::{Checksum, Direction};
use std::time::Duration;

/// What one operation did.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Report {
    /// The migrations applied or reverted, in the order they ran.
    pub steps: Vec<StepReport>,
}

impl Report {
    /// Whether no migration was applied or reverted.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Serialized with `duration` as `duration_ms` (whole milliseconds).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StepReport {
    /// The migration's version (a repeatable migration's negative key).
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// Whether it was applied or reverted.
    #[cfg_attr(feature = "serde", serde(serialize_with = "direction_str"))]
    pub direction: Direction,
    /// How long the step took, timed by this process around the backend's
    /// run and record of it; in group mode, an equal share of the group's
    /// time.
    #[cfg_attr(feature = "serde", serde(rename = "duration_ms", serialize_with = "millis"))]
    pub duration: Duration,
}

/// What an operation would do: the steps in order, with their statements.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Plan {
    /// The migrations to apply or revert, in the order they would run.
    pub steps: Vec<PlannedStep>,
}

/// One migration a dry run would apply or revert.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PlannedStep {
    /// The migration's version (a repeatable migration's negative key).
    pub version: i64,
    /// The migration's name.
    pub name: String,
    /// Whether it would be applied or reverted.
    #[cfg_attr(feature = "serde", serde(serialize_with = "direction_str"))]
    pub direction: Direction,
    /// The file that would run, as named in the folder.
    pub file: String,
    /// Whether this database would run the file outside a transaction:
    /// what it does with it, not only what the file says.
    pub no_transaction: bool,
    /// The statements exactly as they would be sent; none for a Rust code
    /// migration.
    pub statements: Vec<String>,
    /// A Rust code migration (`004_split_names.rs`): its function for this
    /// direction runs, there is no statement to show.
    pub code: bool,
    /// For a batch migration: its size, count query and what it returns now.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub batch: Option<PlannedBatch>,
}

/// What a dry run says about a batch migration (`migrate:batch`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PlannedBatch {
    /// Rows per batch, bound to `:batch`.
    pub size: u64,
    /// The `migrate:total` count query, and what it returned.
    pub total_query: Option<String>,
    /// What the count query returns now; `None` without a query, or when it
    /// could not run (`total_error` says why).
    pub total: Option<u64>,
    /// Why the count is missing when the query could not run (its table is
    /// created by an earlier pending migration, say).
    pub total_error: Option<String>,
    /// Where an interrupted run left it.
    pub checkpoint: Option<Checkpoint>,
}

/// Serialized as its `as_str()`: `"applied"`, `"pending"`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum MigrationState {
    /// Applied, and its file unchanged.
    Applied,
    /// In the binary and not applied; or a repeatable migration whose file
    /// changed since it was applied.
    Pending,
    /// Applied, but the file changed since.
    Drifted,
    /// Applied, but not in this binary.
    Missing,
    /// A run failed halfway where the database could not roll back.
    Dirty,
}

impl MigrationState {
    /// The state as one lowercase word, as `status` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Drifted => "drifted",
            MigrationState::Missing => "missing",
            MigrationState::Dirty => "dirty",
        }
    }
}

/// Non-exhaustive: fields are added as features arrive (the batch
/// checkpoint did), without breaking code that reads the others.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct StatusEntry {
    /// The migration's version (a repeatable migration's negative key).
    pub version: i64,
    /// The binary's name for it; the recorded one when the binary lacks it.
    pub name: String,
    /// The up file's `description:` line; `None` when it has none or the
    /// binary lacks the migration.
    pub description: Option<String>,
    /// Where it stands.
    pub state: MigrationState,
    /// When it was applied, as its tracking row says (ISO 8601 in UTC, from
    /// the clock of the process that applied it, as the run started);
    /// `None` when it has no row.
    pub applied_at: Option<String>,
    /// How long applying it took in milliseconds, as its tracking row says
    /// (0 for one recorded without running); `None` when it has no row.
    pub execution_ms: Option<i64>,
    /// It cannot be reverted: its down file says `migrate:irreversible`, or
    /// it is a repeatable migration (false when the binary lacks it).
    pub irreversible: bool,
    /// Recorded as applied without running here (`baseline`, `import`):
    /// the reason its history row gives, e.g. `baseline: adopted from the
    /// hand-built schema` or `baseline (imported from sqlx)`.
    pub baseline: Option<String>,
    /// The up file says `migrate:noop`: a version kept on purpose with
    /// nothing to run on this database.
    pub noop: bool,
    /// A repeatable migration (`<name>.repeatable.sql`): `version` is its
    /// negative tracking key; `pending` when it changed since it was applied.
    pub repeatable: bool,
    /// A batch migration started and not finished (state `pending`, not
    /// dirty): the batches and rows its checkpoint holds. The next run
    /// resumes from there.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub batch: Option<Checkpoint>,
    /// The lint rules its up file allows (`-- migrate:allow <rule> <reason>`),
    /// each with the reason written there; read from the text the binary
    /// embeds (empty when the binary lacks the migration).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub allowed: Vec<AllowedRule>,
}

/// One `migrate:allow` line of an up file: a lint rule it may break, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AllowedRule {
    /// The rule's name, e.g. `drop-column`.
    pub rule: String,
    /// The reason the file gives.
    pub reason: String,
}

impl AllowedRule {
    /// The `migrate:allow` lines of a migration's up file.
    pub(crate) fn of(migration: &crate::Migration) -> Vec<AllowedRule> {
        use crate::core::{parse_header, Language};
        [Language::Sql, Language::Cypher]
            .into_iter()
            .filter_map(|language| parse_header(migration.up.text, language).ok())
            .flat_map(|header| header.allows)
            .map(|allow| AllowedRule {
                rule: allow.rule,
                reason: allow.reason,
            })
            .collect()
    }

    /// What the file of a history row's up run allows, as this binary
    /// embeds it (none for a down run, or a version the binary lacks).
    #[cfg(feature = "cli")]
    pub(crate) fn of_run(migrations: &[crate::Migration], entry: &crate::HistoryEntry) -> Vec<AllowedRule> {
        match entry.direction {
            crate::Direction::Up => migrations
                .iter()
                .find(|m| m.version == entry.version)
                .map(AllowedRule::of)
                .unwrap_or_default(),
            crate::Direction::Down => Vec::new(),
        }
    }
}

/// What `baseline` or `import` recorded, or with a dry run would record:
/// migrations marked applied without running them.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Adoption {
    /// `baseline`, or the tool imported from (`sqlx`, `refinery`, ...).
    pub source: String,
    /// The reason each history row gives.
    pub reason: String,
    /// Recorded now (dry run: would be), in version order.
    pub recorded: Vec<AdoptedMigration>,
    /// Versions already recorded exactly as they would be: left alone.
    pub already_recorded: Vec<i64>,
    /// True when nothing was written.
    pub dry_run: bool,
}

/// One tracking row `baseline` or `import` writes.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AdoptedMigration {
    /// The migration's version.
    pub version: i64,
    /// The migration's name in this binary.
    pub name: String,
    /// This binary's checksum of the up file (hex), as recorded.
    pub checksum: String,
}

/// Every migration of the binary and the database, in version order.
///
/// Serialized (feature `serde`) as the object `migrate status --json`
/// prints: `current_version`, `latest_version`, `pending_count`,
/// `applied_count`, `up_to_date`, then `migrations`, the entries.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// One entry per migration of the binary or row of the database: the
    /// versioned ones in version order, then the repeatable ones.
    pub entries: Vec<StatusEntry>,
    /// Problems with the tracking tables themselves, each a sentence with
    /// its fix: the state row disagrees with the tracking rows (a row
    /// deleted or edited by hand; `run` trusts the state row, so it would
    /// not apply the migration of a deleted row before `migrate repair`).
    pub warnings: Vec<String>,
}

impl Status {
    /// Highest applied version, 0 when none.
    pub fn current_version(&self) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.state != MigrationState::Pending && !e.repeatable)
            .map(|e| e.version)
            .max()
            .unwrap_or(0)
    }

    /// Highest version in the binary, 0 when none.
    pub fn latest_version(&self) -> i64 {
        self.entries
            .iter()
            .filter(|e| e.state != MigrationState::Missing && !e.repeatable)
            .map(|e| e.version)
            .max()
            .unwrap_or(0)
    }

    /// How many entries are in `state`.
    pub fn count(&self, state: MigrationState) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }

    /// Migrations with a row in the database (applied, drifted, missing or
    /// dirty).
    pub fn applied_count(&self) -> usize {
        self.entries.iter().filter(|e| e.applied_at.is_some()).count()
    }

    /// How many entries are pending (repeatable migrations to apply again
    /// included).
    pub fn pending_count(&self) -> usize {
        self.count(MigrationState::Pending)
    }

    /// Nothing pending, drifted, missing or dirty, and no warning.
    pub fn is_up_to_date(&self) -> bool {
        self.warnings.is_empty() && self.entries.iter().all(|e| e.state == MigrationState::Applied)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Status", 7)?;
        out.serialize_field("current_version", &self.current_version())?;
        out.serialize_field("latest_version", &self.latest_version())?;
        out.serialize_field("pending_count", &self.pending_count())?;
        out.serialize_field("applied_count", &self.applied_count())?;
        out.serialize_field("up_to_date", &self.is_up_to_date())?;
        out.serialize_field("migrations", &self.entries)?;
        out.serialize_field("warnings", &self.warnings)?;
        out.end()
    }
}

/// `duration` as whole milliseconds (serde's `serialize_with`).
#[cfg(feature = "serde")]
fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_millis() as u64)
}

/// Progress of an operation, for command lines and logs.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// 1-based position of this step, and the number of steps.
    pub index: usize,
    /// The number of steps (see `index`).
    pub total: usize,
    /// The migration's version (a repeatable migration's negative key).
    pub version: i64,
    /// The migration's name.
    pub name: &'a str,
    /// Whether it is being applied or reverted.
    pub direction: Direction,
    /// What happened.
    pub event: ProgressEvent,
}

/// Non-exhaustive: a new kind of event (as `Batch` was) must not break a
/// callback's `match`; give it a `_` arm.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The step is about to run (not sent in group mode).
    Started,
    /// The step ran and was recorded, after this long (in group mode, an
    /// equal share of the group's time, sent once the group committed).
    Finished(Duration),
    /// The step failed after this long (not sent in group mode).
    Failed(Duration),
    /// A batch of a batch migration committed (after `Started`, before
    /// `Finished`); its counts never go down.
    Batch(BatchProgress),
}

/// Where a batch migration stands after a committed batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchProgress {
    /// Batches and rows committed, counting those before a resume.
    pub batches: u64,
    /// Rows those batches changed (see `batches`).
    pub rows: u64,
    /// Rows done plus what the `migrate:total` query counted at the start
    /// of this run, when the file has one.
    pub total: Option<u64>,
    /// Rows per second in this run.
    pub rate: f64,
    /// Time left at that rate, when the total is known.
    pub eta: Option<Duration>,
}

/// What `repair` did: the state row before (none when it was missing) and
/// after, the accepted edit, and the reason, as written to the history.
#[derive(Clone, Debug)]
pub struct Repair {
    /// The state row as it was; `None` when there was none.
    pub state_before: Option<State>,
    /// The state row rebuilt from the tracking rows (with the accepted
    /// edit's checksum).
    pub state_after: State,
    /// The edit accepted (`accept_edit`); `None` when none was asked for, or
    /// the recorded checksum already was the binary's.
    pub accepted: Option<AcceptedEdit>,
    /// Why, as given (`.reason(..)`, `--reason`); the history row's reason
    /// is [`Repair::describe`]: what changed, from what to what, and this.
    pub reason: Option<String>,
}

/// An applied migration's file edited on purpose, its new checksum recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedEdit {
    /// The migration's version.
    pub version: i64,
    /// The migration's name in this binary.
    pub name: String,
    /// The checksum the tracking row held before.
    pub recorded: Checksum,
    /// This binary's checksum of the up file, now recorded.
    pub embedded: Checksum,
}

impl Repair {
    /// Whether anything was written.
    pub fn changed(&self) -> bool {
        self.accepted.is_some() || self.state_before != Some(self.state_after)
    }

    /// One line: what changed, from what to what, and why.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(edit) = &self.accepted {
            parts.push(format!(
                "accepted the edit of {} ({}): checksum {} -> {}",
                edit.version, edit.name, edit.recorded, edit.embedded
            ));
        }
        if self.state_before != Some(self.state_after) {
            let before = match &self.state_before {
                Some(state) => describe_state(state),
                None => "missing".to_string(),
            };
            parts.push(format!("state row {before} -> {}", describe_state(&self.state_after)));
        }
        if parts.is_empty() {
            parts.push("nothing to repair: the state row agrees with the tracking rows".to_string());
        }
        let mut text = format!("repair: {}", parts.join("; "));
        if let Some(reason) = &self.reason {
            text.push_str(&format!("; reason: {reason}"));
        }
        text
    }
}

fn describe_state(state: &State) -> String {
    format!(
        "{} applied up to {}{} (chain {})",
        state.applied_count,
        state.last_version,
        if state.dirty { ", dirty" } else { "" },
        &state.chain.to_string()[..12]
    )
}

/// What [`Migrator::lint`](crate::Migrator::lint) found.
#[derive(Clone, Debug)]
pub struct LintReport {
    /// Every finding of the binary's up files, in version order, the ones
    /// their `migrate:allow` lines permit left out.
    pub findings: Vec<crate::core::lint::Finding>,
    /// The versions the database has applied: a finding there is
    /// information (the statement has run; a change now is a new
    /// migration), not something to fix before the deploy.
    pub applied: Vec<i64>,
}

impl LintReport {
    /// Whether the database has applied this version.
    pub fn is_applied(&self, version: i64) -> bool {
        self.applied.binary_search(&version).is_ok()
    }

    /// The findings of migrations not applied yet: what a deploy would run.
    pub fn pending(&self) -> impl Iterator<Item = &crate::core::lint::Finding> {
        self.findings.iter().filter(|f| !self.is_applied(f.version))
    }
}
