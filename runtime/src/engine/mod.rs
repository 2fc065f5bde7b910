//! The one implementation of the migration rules, shared by every backend.
//! It sees a database only as a `&mut dyn Session`, so it is compiled once,
//! in this crate, whatever database and application use it.
//!
//! - plan.rs: the rules (drift, missing, out of order, dirty, irreversible,
//!   down targets) and the read-only views: plan, status, validate, history;
//! - apply.rs: `up` and `down`, the boot check and the apply-and-replan loop;
//! - repair.rs: `force` and `forget`, which rewrite a record and run nothing;
//! - adopt.rs: `baseline` and `import`, which record migrations as applied
//!   without running them.
//! - batch.rs: batch migrations, one batch per transaction with a checkpoint.

mod adopt;
mod apply;
mod batch;
mod plan;
mod repair;

pub use adopt::Tool;

use crate::backend::{BoxFuture, Database, Session, State};
use crate::core::{chain_step, time};
use crate::report::{AppliedMigration, HistoryEntry, Progress, ProgressEvent};
use crate::{Checksum, Direction, Error, Migration, Settings};

/// A [`Database`] with its language erased: what the engine opens sessions
/// on, so that it is not generic over the language either.
pub(crate) trait Connect: Sync {
    fn connect<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>>;
}

impl<D: Database> Connect for D {
    fn connect<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        self.open(settings)
    }
}

/// One operation's view of a table: its migrations and how to apply them.
pub(crate) struct Engine<'a> {
    pub migrations: &'static [Migration],
    /// `chains[i]`: running hash after the first `i + 1` migrations.
    pub chains: &'static [Checksum],
    /// Repeatable migrations in name order, each under its negative key.
    pub repeatables: &'static [Migration],
    pub settings: &'a Settings,
    pub reason: Option<&'a str>,
    pub progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
}

/// What `down` reverts: a number of the newest applied migrations, or every
/// one above a version.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DownTarget {
    Steps(usize),
    Version(i64),
}

/// Where a row sorts: versioned migrations by version, then the repeatable
/// ones (negative keys), so that the running hash over the versioned rows is
/// the one the macro precomputed, and the repeatables continue it.
fn order(version: i64) -> (bool, i64) {
    (version < 0, version)
}

/// The applied rows in that order, with the running hash and the running
/// count of dirty rows after each, so that applying the next migration,
/// reverting the last, or reading the state they call for costs O(1) (a
/// group of N migrations reads it twice per migration).
pub(crate) struct AppliedSet {
    rows: Vec<AppliedMigration>,
    chains: Vec<Checksum>,
    dirty_counts: Vec<usize>,
    /// How the session splits files: for a dirty row's committed
    /// statements (their lines and how many the file has).
    dialect: Option<crate::core::split::Dialect>,
}

impl AppliedSet {
    fn new(mut rows: Vec<AppliedMigration>) -> Self {
        rows.sort_by_key(|row| order(row.version));
        let mut set = AppliedSet {
            rows,
            chains: Vec::new(),
            dirty_counts: Vec::new(),
            dialect: None,
        };
        set.rechain(0);
        set
    }

    /// The same rows, read through a session that splits files as `dialect`.
    fn in_dialect(mut self, dialect: crate::core::split::Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// The state row these rows call for while a dirty up run's row is not
    /// counted: the dirty protocol writes the row of an up run before its
    /// statements, and the state row only once they all ran, so a dirty up
    /// row beside the state before it is that protocol, not a hand edit.
    fn state_without_dirty_up(&self) -> State {
        let rows: Vec<AppliedMigration> = self
            .rows
            .iter()
            .filter(|row| !(row.dirty && row.dirty_run.is_none_or(|run| run.direction == Direction::Up)))
            .cloned()
            .collect();
        let mut state = AppliedSet::new(rows).state();
        state.dirty = self.rows.iter().any(|row| row.dirty);
        state
    }

    fn rechain(&mut self, from: usize) {
        self.chains.truncate(from);
        self.dirty_counts.truncate(from);
        let (mut chain, mut dirty) = match from {
            0 => (Checksum::ZERO, 0),
            _ => (self.chains[from - 1], self.dirty_counts[from - 1]),
        };
        for row in &self.rows[from..] {
            chain = chain_step(&chain, row.version, &row.checksum);
            dirty += usize::from(row.dirty);
            self.chains.push(chain);
            self.dirty_counts.push(dirty);
        }
    }

    /// The state row these rows call for.
    fn state(&self) -> State {
        State {
            applied_count: self.rows.len() as i64,
            last_version: self.highest(),
            chain: self.chains.last().copied().unwrap_or(Checksum::ZERO),
            dirty: self.dirty_counts.last().is_some_and(|&count| count > 0),
        }
    }

    fn get(&self, version: i64) -> Option<&AppliedMigration> {
        self.position(version).ok().map(|i| &self.rows[i])
    }

    fn position(&self, version: i64) -> Result<usize, usize> {
        self.rows
            .binary_search_by_key(&order(version), |row| order(row.version))
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

    /// The highest applied version (repeatables aside), 0 when none.
    fn highest(&self) -> i64 {
        self.versioned().last().map_or(0, |row| row.version)
    }

    /// The rows of versioned migrations, in version order.
    fn versioned(&self) -> &[AppliedMigration] {
        let end = self.rows.partition_point(|row| row.version > 0);
        &self.rows[..end]
    }
}

impl Engine<'_> {
    /// Checks the settings (their names go into SQL and Cypher text), then
    /// takes a connection.
    async fn open<'d>(&'d self, db: &'d dyn Connect) -> Result<Box<dyn Session + 'd>, Error> {
        self.settings.check()?;
        db.connect(self.settings).await
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
        match session.prepare().await {
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
        }
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
