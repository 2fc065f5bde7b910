//! One named migration set bound to its database, with its language and
//! database type erased, so that a Cypher set and SQL sets live in one list.
//!
//! A target keeps the table and a `&dyn Connect` of its handle, and runs
//! each operation through the same engine `Migrator` does: an operation is
//! written once, in engine/, and reached from here and from `Migrator` by a
//! one-line call each.

use crate::backend::Database;
use crate::engine::{Connect, DownTarget, Engine, Table, Tool};
use crate::readiness::Readiness;
use crate::records::HistoryEntry;
use crate::report::{Adoption, Plan, Repair, Report, Status};
use crate::{Error, Language, Migration, Migrations, Settings};

/// The database handle of a target: one it owns (a pool clone) or one it
/// borrows (the single-set command line).
enum Handle<'a> {
    Owned(Box<dyn Connect + Send + 'a>),
    Borrowed(&'a (dyn Connect + 'a)),
}

/// One named migration set on its database, with its settings.
pub struct Target<'a> {
    name: String,
    /// The tenant set this target is a tenant of ([`Targets::tenants`](crate::Targets::tenants)).
    pub(super) group: Option<String>,
    language: crate::core::Language,
    table: Table,
    handle: Handle<'a>,
    settings: Settings,
}

impl<'a> Target<'a> {
    /// `migrations` on `db` (a pool or graph handle; clone yours, they are
    /// shared handles) with `settings`.
    ///
    /// # Panics
    /// When `name` is empty or holds whitespace: names are typed on command
    /// lines (`--only NAME`).
    pub fn new<L, D>(name: impl Into<String>, migrations: &'a Migrations<L>, db: D, settings: Settings) -> Self
    where
        L: Language,
        D: Database<Language = L> + Send + 'a,
    {
        Target::bind::<L>(name.into(), migrations, Handle::Owned(Box::new(db)), settings)
    }

    /// [`Target::new`] on a borrowed handle.
    pub fn borrowed<L, D>(name: impl Into<String>, migrations: &'a Migrations<L>, db: &'a D, settings: Settings) -> Self
    where
        L: Language,
        D: Database<Language = L> + 'a,
    {
        Target::bind::<L>(name.into(), migrations, Handle::Borrowed(db), settings)
    }

    fn bind<L: Language>(name: String, migrations: &Migrations<L>, handle: Handle<'a>, settings: Settings) -> Self {
        assert!(
            !name.is_empty() && !name.chars().any(char::is_whitespace),
            "a migration set's name is typed after `--only`: `{name}` must be non-empty, without spaces"
        );
        Target {
            name,
            group: None,
            language: L::LANGUAGE,
            table: migrations.table(),
            handle,
            settings,
        }
    }

    /// The name `--only` picks it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the tenant set this target belongs to, when it is a tenant.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The language of its migration files.
    pub fn language(&self) -> crate::core::Language {
        self.language
    }

    /// Every migration of its table, in version order.
    pub fn migrations(&self) -> &'static [Migration] {
        self.table.migrations
    }

    /// Its repeatable migrations (`<name>.repeatable.sql`), in name order;
    /// each `version` is its negative tracking key.
    pub fn repeatables(&self) -> &'static [Migration] {
        self.table.repeatables
    }

    /// The settings it is applied with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Highest version in the binary, 0 when none.
    pub fn latest_version(&self) -> i64 {
        self.migrations().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The database, its type erased, for the engine.
    pub(crate) fn db(&self) -> &dyn Connect {
        match &self.handle {
            Handle::Owned(db) => &**db,
            Handle::Borrowed(db) => *db,
        }
    }

    /// This set on the same database, its settings given `values` for
    /// their placeholders (the command line's `--placeholder`): a value the
    /// settings mark secret stays secret.
    #[cfg(feature = "cli")]
    pub(crate) fn with_placeholder_values(&self, values: &[(String, String)]) -> Target<'_> {
        let mut settings = self.settings.clone();
        for (name, value) in values {
            settings.placeholders.set_keeping_secret(name, value);
        }
        Target {
            name: self.name.clone(),
            group: self.group.clone(),
            language: self.language,
            table: self.table,
            handle: Handle::Borrowed(self.db()),
            settings,
        }
    }

    /// The engine on this set's table and settings: every operation of
    /// the set is one call on it.
    pub(crate) fn engine(&self) -> Engine<'_> {
        Engine::new(self.table, &self.settings)
    }

    /// See [`Migrator::run`](crate::Migrator::run).
    pub async fn run(&self) -> Result<Report, Error> {
        self.engine().up(self.db(), None).await
    }

    /// See [`Migrator::run_to`](crate::Migrator::run_to).
    pub async fn run_to(&self, version: i64) -> Result<Report, Error> {
        self.engine().up(self.db(), Some(version)).await
    }

    /// See [`Migrator::plan`](crate::Migrator::plan).
    pub async fn plan(&self) -> Result<Plan, Error> {
        self.engine().plan_up(self.db(), None).await
    }

    /// See [`Migrator::plan_to`](crate::Migrator::plan_to).
    pub async fn plan_to(&self, version: i64) -> Result<Plan, Error> {
        self.engine().plan_up(self.db(), Some(version)).await
    }

    /// See [`Migrator::down`](crate::Migrator::down).
    pub async fn down(&self, steps: usize) -> Result<Report, Error> {
        self.engine().down(self.db(), DownTarget::Steps(steps)).await
    }

    /// See [`Migrator::down_to`](crate::Migrator::down_to).
    pub async fn down_to(&self, version: i64) -> Result<Report, Error> {
        self.engine().down(self.db(), DownTarget::Version(version)).await
    }

    /// See [`Migrator::down_with_backup`](crate::Migrator::down_with_backup).
    pub async fn down_with_backup(&self, steps: usize, backup: &crate::Backup) -> Result<Report, Error> {
        self.engine()
            .down_after_backup(self.db(), DownTarget::Steps(steps), Some(backup))
            .await
    }

    /// See [`Migrator::down_to_with_backup`](crate::Migrator::down_to_with_backup).
    pub async fn down_to_with_backup(&self, version: i64, backup: &crate::Backup) -> Result<Report, Error> {
        self.engine()
            .down_after_backup(self.db(), DownTarget::Version(version), Some(backup))
            .await
    }

    /// See [`Migrator::plan_down`](crate::Migrator::plan_down).
    pub async fn plan_down(&self, steps: usize) -> Result<Plan, Error> {
        self.engine().plan_down(self.db(), DownTarget::Steps(steps)).await
    }

    /// See [`Migrator::plan_down_to`](crate::Migrator::plan_down_to).
    pub async fn plan_down_to(&self, version: i64) -> Result<Plan, Error> {
        self.engine().plan_down(self.db(), DownTarget::Version(version)).await
    }

    /// See [`Migrator::status`](crate::Migrator::status).
    pub async fn status(&self) -> Result<Status, Error> {
        self.engine().status(self.db()).await
    }

    /// See [`Migrator::lint`](crate::Migrator::lint).
    pub async fn lint(&self) -> Result<crate::LintReport, Error> {
        self.engine().lint(self.db()).await
    }

    /// See [`Migrator::validate`](crate::Migrator::validate).
    pub async fn validate(&self) -> Result<Status, Error> {
        self.engine().validate(self.db()).await
    }

    /// See [`Migrator::history`](crate::Migrator::history).
    pub async fn history(&self) -> Result<Vec<HistoryEntry>, Error> {
        self.engine().history(self.db()).await
    }

    /// See [`Migrator::force`](crate::Migrator::force).
    pub async fn force(&self, version: i64) -> Result<(), Error> {
        self.engine().force(self.db(), version).await
    }

    /// See [`Migrator::forget`](crate::Migrator::forget).
    pub async fn forget(&self, version: i64) -> Result<(), Error> {
        self.engine().forget(self.db(), version).await
    }

    /// See [`Migrator::repair`](crate::Migrator::repair) and
    /// [`Migrator::repair_accepting_edit`](crate::Migrator::repair_accepting_edit)
    /// (`accept_edit`); `reason` goes into the history row.
    pub async fn repair(&self, accept_edit: Option<i64>, reason: Option<&str>) -> Result<Repair, Error> {
        self.engine().with_reason(reason).repair(self.db(), accept_edit).await
    }

    /// See [`Migrator::baseline`](crate::Migrator::baseline).
    pub async fn baseline(&self, version: i64) -> Result<Adoption, Error> {
        self.engine().baseline(self.db(), version, false).await
    }

    /// See [`Migrator::import`](crate::Migrator::import).
    pub async fn import(&self, tool: Tool) -> Result<Adoption, Error> {
        self.engine().import(self.db(), tool, false).await
    }

    /// See [`Migrator::readiness`](crate::Migrator::readiness).
    pub async fn readiness(&self) -> Readiness {
        self.engine().readiness(self.db()).await
    }

    /// `error` as coming from this set.
    pub(crate) fn blame(&self, error: Error) -> Error {
        Error::Target {
            name: self.name.clone(),
            tenant: self.group.is_some(),
            error: Box::new(error),
        }
    }
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("language", &self.language())
            .field("migrations", &self.migrations().len())
            .field("settings", self.settings())
            .finish()
    }
}

/// A set's readiness, with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NamedReadiness {
    /// The set's (or tenant's) name.
    pub name: String,
    /// Where it stands.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub readiness: Readiness,
}
