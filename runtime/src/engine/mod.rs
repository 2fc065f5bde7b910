//! The one implementation of the migration rules, shared by every backend.
//! It sees a database only as a `&mut dyn Session`, so it is compiled once,
//! in this crate, whatever database and application use it.
//!
//! - applied.rs: the applied rows with their running hashes: the state they call for;
//! - plan.rs: the rules (drift, missing, out of order, dirty, irreversible,
//!   down targets) and the read-only views: plan, status, validate, history;
//! - readiness.rs: one value for a health check, from validate and status;
//! - apply.rs: `up` and `down`, the boot check and the apply-and-replan loop;
//! - repair.rs: `force`, `forget` and `repair`, which rewrite records and run nothing;
//! - adopt.rs: `baseline` and `import` (of the tools in tool.rs), which
//!   record migrations as applied without running them;
//! - batch.rs: batch migrations, one batch per transaction with a checkpoint;
//! - squashed.rs: a squashed folder's baseline, and the rows of the versions
//!   it replaced that a database migrated before the squash keeps.

mod adopt;
mod applied;
mod apply;
mod batch;
mod lint;
mod plan;
mod readiness;
mod repair;
mod squashed;
mod tool;

pub use tool::Tool;

use crate::backend::{BoxFuture, Database, SchemaDdl, Session, SharedReads, Snapshot};
use crate::code::CodeMigration;
use crate::core::baseline::Squashed;
use crate::core::time;
use crate::records::{AppliedMigration, HistoryEntry};
use crate::report::{Progress, ProgressEvent};
use crate::{Checksum, Direction, Error, Migration, Settings};

/// A [`Database`] with its type and language erased: what the engine opens
/// sessions on, so that it is not generic over either.
pub(crate) trait Connect: Sync {
    fn connect<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>>;
    fn snapshots(&self) -> Option<&dyn Snapshot>;
    fn shared_reads(&self) -> Option<&dyn SharedReads>;
    fn schema_ddl(&self) -> Option<&dyn SchemaDdl>;
}

impl<D: Database> Connect for D {
    fn connect<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        self.open(settings)
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Database::snapshots(self)
    }

    fn shared_reads(&self) -> Option<&dyn SharedReads> {
        Database::shared_reads(self)
    }

    fn schema_ddl(&self) -> Option<&dyn SchemaDdl> {
        Database::schema_ddl(self)
    }
}

/// The migrations `embed_migrations!` embedded from one folder, without
/// their language.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table {
    /// Every versioned migration, in version order.
    pub migrations: &'static [Migration],
    /// `chains[i]`: running hash after the first `i + 1` migrations.
    pub chains: &'static [Checksum],
    /// Repeatable migrations in name order, each under its negative key.
    pub repeatables: &'static [Migration],
    /// The functions of the Rust code migrations, in version order.
    pub code: &'static [CodeMigration],
}

/// One operation's view of a table: its migrations and how to apply them.
pub(crate) struct Engine<'a> {
    pub migrations: &'static [Migration],
    /// `chains[i]`: running hash after the first `i + 1` migrations.
    pub chains: &'static [Checksum],
    /// Repeatable migrations in name order, each under its negative key.
    pub repeatables: &'static [Migration],
    /// The functions of the Rust code migrations, in version order.
    pub code: &'static [CodeMigration],
    pub settings: &'a Settings,
    pub reason: Option<&'a str>,
    pub progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
    /// A squashed folder's baseline (its first migration's
    /// `migrate:baseline`): the versions it replaced, whose rows a database
    /// migrated before the squash keeps (squashed.rs).
    pub squashed: Option<Squashed>,
}

/// What `down` reverts: a number of the newest applied migrations, or every
/// one above a version.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DownTarget {
    /// The newest applied migrations, this many.
    Steps(usize),
    /// Every applied migration above this version (0: all).
    Version(i64),
}

impl<'a> Engine<'a> {
    /// `table` applied with `settings`, no reason, no progress callback.
    pub(crate) fn new(table: Table, settings: &'a Settings) -> Self {
        Engine {
            migrations: table.migrations,
            chains: table.chains,
            repeatables: table.repeatables,
            code: table.code,
            settings,
            reason: None,
            progress: None,
            squashed: Squashed::of(table.migrations),
        }
    }

    /// Every history row of this operation gives `reason` (the command
    /// line's `--reason`).
    pub(crate) fn with_reason(mut self, reason: Option<&'a str>) -> Self {
        self.reason = reason;
        self
    }

    /// `progress` hears of every step of this operation.
    pub(crate) fn with_progress(mut self, progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>) -> Self {
        self.progress = progress;
        self
    }

    /// Checks the settings (their names go into SQL and Cypher text), then
    /// takes a connection.
    async fn open<'d>(&'d self, db: &'d dyn Connect) -> Result<Box<dyn Session + 'd>, Error> {
        self.settings.check()?;
        db.connect(self.settings).await
    }

    /// The function of `migration` for `direction`, if it is a Rust code
    /// migration.
    fn code_of(&self, migration: &Migration, direction: Direction) -> Option<crate::code::Code> {
        if self.code.is_empty() {
            return None;
        }
        self.code
            .iter()
            .find(|entry| entry.version == migration.version)
            .and_then(|entry| entry.function(direction))
    }

    /// Whether `migration` is a Rust code migration.
    fn is_code(&self, migration: &Migration) -> bool {
        self.code.iter().any(|entry| entry.version == migration.version)
    }

    fn find(&self, version: i64) -> Option<&'static Migration> {
        if version < 0 {
            return self.repeatables.iter().find(|m| m.version == version);
        }
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
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

    /// Takes the lock, then creates the tracking tables if needed; the lock
    /// is released again when that fails. After `Ok`, the caller hands its
    /// result to [`Engine::release`].
    async fn lock(&self, session: &mut dyn Session) -> Result<(), Error> {
        if let Err(err) = session.lock(self.settings.lock_timeout).await {
            return Err(self.explain_lock_timeout(session, err).await);
        }
        match session.create_tracking().await {
            Ok(()) => Ok(()),
            Err(err) => self.release(session, Err(err)).await,
        }
    }

    /// Releases the lock, whatever the work under it returned.
    async fn release<T>(&self, session: &mut dyn Session, result: Result<T, Error>) -> Result<T, Error> {
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
            placeholders: crate::placeholders::recorded(migration.script(direction), &self.settings.placeholders),
        }
    }

    /// The text `migration` runs in `direction`: its placeholders
    /// substituted with the settings' values.
    fn text_of(&self, migration: &Migration, direction: Direction) -> std::borrow::Cow<'static, str> {
        crate::placeholders::text(migration.script(direction), &self.settings.placeholders)
    }

    /// Every placeholder the table's files use has a value in the settings:
    /// checked before an operation that runs or shows a file's text, whether
    /// or not that file is pending, so that a value missing from a
    /// deployment's settings is found at its first boot, not at the
    /// rollback that would need it.
    pub(crate) fn check_placeholders(&self) -> Result<(), Error> {
        crate::placeholders::check(
            &self.settings.placeholders,
            self.migrations.iter().chain(self.repeatables),
        )
    }

    /// The tracking row of `migration`, applied now.
    fn record(migration: &Migration) -> AppliedMigration {
        AppliedMigration {
            version: migration.version,
            name: migration.name.to_string(),
            checksum: migration.checksum(),
            applied_at: time::now_iso8601(),
            execution_ms: 0,
            dirty: false,
            dirty_run: None,
        }
    }
}
