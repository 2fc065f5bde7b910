//! Several migration sets of one application, each on its own database, as
//! one value: applied at boot in a declared order, mounted whole by the ops
//! command line.
//!
//! ```ignore
//! let targets = Targets::new()
//!     .add("postgres", &POSTGRES, pg_pool.clone())
//!     .add_with("timescale", &TIMESCALE, ts_pool.clone(), Settings::default().table("ts_migrations"))
//!     .add("graph", &GRAPH, graph.clone());
//! targets.run().await?; // in that order; the first failure stops, naming its set
//! ```
//!
//! Each set keeps its own language and database type: a [`Target`] erases
//! them behind a boxed object that calls the public `Migrator` methods, so a
//! Cypher set and SQL sets live in one list.

use crate::backend::{BoxFuture, Database};
use crate::readiness::Readiness;
use crate::{
    Adoption, Error, HistoryEntry, Language, Migration, Migrations, Plan, Progress, Repair, Report, Settings, Status,
};

/// What an operation hands the migrator besides the database.
#[derive(Clone, Copy, Default)]
pub(crate) struct Hooks<'h> {
    pub reason: Option<&'h str>,
    pub progress: Option<&'h (dyn Fn(&Progress) + Send + Sync)>,
}

/// Where a revert stops: after `n` migrations, or above a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Back {
    Steps(usize),
    To(i64),
}

/// What `baseline`/`import` adopt from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adopt {
    Baseline(i64),
    Import(crate::Tool),
}

/// A database handle the target owns (a pool clone) or borrows (the
/// single-set command line): either way shared between threads.
trait Handle: Send + Sync {
    type Db: Database;
    fn db(&self) -> &Self::Db;
}

struct Owned<D>(D);

impl<D: Database + Send> Handle for Owned<D> {
    type Db = D;
    fn db(&self) -> &D {
        &self.0
    }
}

impl<D: Database> Handle for &D {
    type Db = D;
    fn db(&self) -> &D {
        self
    }
}

/// One migration set bound to its database, with its language and database
/// type erased. Every method goes through the public `Migrator` API.
trait BoundSet: Send + Sync {
    fn language(&self) -> crate::core::Language;
    fn migrations(&self) -> &'static [Migration];
    fn settings(&self) -> &Settings;
    fn up<'s>(&'s self, to: Option<i64>, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Report, Error>>;
    fn plan_up<'s>(&'s self, to: Option<i64>) -> BoxFuture<'s, Result<Plan, Error>>;
    fn down<'s>(&'s self, back: Back, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Report, Error>>;
    fn plan_down<'s>(&'s self, back: Back) -> BoxFuture<'s, Result<Plan, Error>>;
    fn status(&self) -> BoxFuture<'_, Result<Status, Error>>;
    fn validate(&self) -> BoxFuture<'_, Result<Status, Error>>;
    fn history(&self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>>;
    fn force(&self, version: i64) -> BoxFuture<'_, Result<(), Error>>;
    fn forget(&self, version: i64) -> BoxFuture<'_, Result<(), Error>>;
    fn repair<'s>(&'s self, accept_edit: Option<i64>, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Repair, Error>>;
    fn readiness(&self) -> BoxFuture<'_, Readiness>;
    #[cfg(feature = "cli")]
    fn verify_cli(&self) -> BoxFuture<'_, Result<(), Error>>;
    #[cfg(feature = "cli")]
    fn schema_cli(&self, action: crate::snapshot::cli::SchemaAction) -> BoxFuture<'_, Result<(), Error>>;
    fn adopt<'s>(&'s self, from: Adopt, dry_run: bool, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Adoption, Error>>;
}

struct Bound<'a, L: Language, H> {
    migrations: &'a Migrations<L>,
    handle: H,
    settings: Settings,
}

impl<L: Language, H> Bound<'_, L, H> {
    fn migrator<'s>(&'s self, hooks: Hooks<'s>) -> crate::Migrator<'s, L> {
        let mut migrator = self.migrations.with(self.settings.clone());
        if let Some(reason) = hooks.reason {
            migrator = migrator.reason(reason);
        }
        if let Some(progress) = hooks.progress {
            migrator = migrator.on_progress(progress);
        }
        migrator
    }
}

impl<L: Language, H: Handle> BoundSet for Bound<'_, L, H>
where
    H::Db: Database<Language = L>,
{
    fn language(&self) -> crate::core::Language {
        L::LANGUAGE
    }

    fn migrations(&self) -> &'static [Migration] {
        self.migrations.migrations()
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn up<'s>(&'s self, to: Option<i64>, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Report, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(hooks);
            match to {
                Some(version) => migrator.run_to(self.handle.db(), version).await,
                None => migrator.run(self.handle.db()).await,
            }
        })
    }

    fn plan_up<'s>(&'s self, to: Option<i64>) -> BoxFuture<'s, Result<Plan, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(Hooks::default());
            match to {
                Some(version) => migrator.plan_to(self.handle.db(), version).await,
                None => migrator.plan(self.handle.db()).await,
            }
        })
    }

    fn down<'s>(&'s self, back: Back, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Report, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(hooks);
            match back {
                Back::Steps(steps) => migrator.down(self.handle.db(), steps).await,
                Back::To(version) => migrator.down_to(self.handle.db(), version).await,
            }
        })
    }

    fn plan_down<'s>(&'s self, back: Back) -> BoxFuture<'s, Result<Plan, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(Hooks::default());
            match back {
                Back::Steps(steps) => migrator.plan_down(self.handle.db(), steps).await,
                Back::To(version) => migrator.plan_down_to(self.handle.db(), version).await,
            }
        })
    }

    fn status(&self) -> BoxFuture<'_, Result<Status, Error>> {
        Box::pin(async move { self.migrator(Hooks::default()).status(self.handle.db()).await })
    }

    fn validate(&self) -> BoxFuture<'_, Result<Status, Error>> {
        Box::pin(async move { self.migrator(Hooks::default()).validate(self.handle.db()).await })
    }

    fn history(&self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(async move { self.migrator(Hooks::default()).history(self.handle.db()).await })
    }

    fn force(&self, version: i64) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { self.migrator(Hooks::default()).force(self.handle.db(), version).await })
    }

    fn forget(&self, version: i64) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { self.migrator(Hooks::default()).forget(self.handle.db(), version).await })
    }

    fn repair<'s>(&'s self, accept_edit: Option<i64>, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Repair, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(hooks);
            match accept_edit {
                Some(version) => migrator.repair_accepting_edit(self.handle.db(), version).await,
                None => migrator.repair(self.handle.db()).await,
            }
        })
    }

    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async move { self.migrator(Hooks::default()).readiness(self.handle.db()).await })
    }

    #[cfg(feature = "cli")]
    fn verify_cli(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(crate::snapshot::cli::verify(
            self.migrations,
            self.settings.clone(),
            self.handle.db(),
        ))
    }

    #[cfg(feature = "cli")]
    fn schema_cli(&self, action: crate::snapshot::cli::SchemaAction) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(crate::snapshot::cli::schema(
            self.migrations,
            self.settings.clone(),
            self.handle.db(),
            action,
        ))
    }

    fn adopt<'s>(&'s self, from: Adopt, dry_run: bool, hooks: Hooks<'s>) -> BoxFuture<'s, Result<Adoption, Error>> {
        Box::pin(async move {
            let migrator = self.migrator(hooks);
            let db = self.handle.db();
            match (from, dry_run) {
                (Adopt::Baseline(version), false) => migrator.baseline(db, version).await,
                (Adopt::Baseline(version), true) => migrator.plan_baseline(db, version).await,
                (Adopt::Import(tool), false) => migrator.import(db, tool).await,
                (Adopt::Import(tool), true) => migrator.plan_import(db, tool).await,
            }
        })
    }
}

/// One named migration set on its database, with its settings.
pub struct Target<'a> {
    name: String,
    /// The tenant set this target is a tenant of ([`Targets::tenants`]).
    group: Option<String>,
    set: Box<dyn BoundSet + 'a>,
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
        Target::bind(name.into(), migrations, Owned(db), settings)
    }

    /// [`Target::new`] on a borrowed handle.
    pub fn borrowed<L, D>(name: impl Into<String>, migrations: &'a Migrations<L>, db: &'a D, settings: Settings) -> Self
    where
        L: Language,
        D: Database<Language = L> + 'a,
    {
        Target::bind(name.into(), migrations, db, settings)
    }

    fn bind<L, H>(name: String, migrations: &'a Migrations<L>, handle: H, settings: Settings) -> Self
    where
        L: Language,
        H: Handle + 'a,
        H::Db: Database<Language = L>,
    {
        assert!(
            !name.is_empty() && !name.chars().any(char::is_whitespace),
            "a migration set's name is typed after `--only`: `{name}` must be non-empty, without spaces"
        );
        Target {
            name,
            group: None,
            set: Box::new(Bound {
                migrations,
                handle,
                settings,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the tenant set this target belongs to, when it is a tenant.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    pub fn language(&self) -> crate::core::Language {
        self.set.language()
    }

    pub fn migrations(&self) -> &'static [Migration] {
        self.set.migrations()
    }

    pub fn settings(&self) -> &Settings {
        self.set.settings()
    }

    /// Highest version in the binary, 0 when none.
    pub fn latest_version(&self) -> i64 {
        self.migrations().iter().map(|m| m.version).max().unwrap_or(0)
    }

    pub async fn run(&self) -> Result<Report, Error> {
        self.set.up(None, Hooks::default()).await
    }

    pub async fn run_to(&self, version: i64) -> Result<Report, Error> {
        self.set.up(Some(version), Hooks::default()).await
    }

    pub async fn plan(&self) -> Result<Plan, Error> {
        self.set.plan_up(None).await
    }

    pub async fn plan_to(&self, version: i64) -> Result<Plan, Error> {
        self.set.plan_up(Some(version)).await
    }

    pub async fn down(&self, steps: usize) -> Result<Report, Error> {
        self.set.down(Back::Steps(steps), Hooks::default()).await
    }

    pub async fn down_to(&self, version: i64) -> Result<Report, Error> {
        self.set.down(Back::To(version), Hooks::default()).await
    }

    pub async fn plan_down(&self, steps: usize) -> Result<Plan, Error> {
        self.set.plan_down(Back::Steps(steps)).await
    }

    pub async fn plan_down_to(&self, version: i64) -> Result<Plan, Error> {
        self.set.plan_down(Back::To(version)).await
    }

    pub async fn status(&self) -> Result<Status, Error> {
        self.set.status().await
    }

    pub async fn validate(&self) -> Result<Status, Error> {
        self.set.validate().await
    }

    pub async fn history(&self) -> Result<Vec<HistoryEntry>, Error> {
        self.set.history().await
    }

    pub async fn force(&self, version: i64) -> Result<(), Error> {
        self.set.force(version).await
    }

    pub async fn forget(&self, version: i64) -> Result<(), Error> {
        self.set.forget(version).await
    }

    /// See [`Migrator::repair`](crate::Migrator::repair) and
    /// [`Migrator::repair_accepting_edit`](crate::Migrator::repair_accepting_edit)
    /// (`accept_edit`); `reason` goes into the history row.
    pub async fn repair(&self, accept_edit: Option<i64>, reason: Option<&str>) -> Result<Repair, Error> {
        self.set.repair(accept_edit, Hooks { reason, progress: None }).await
    }

    /// See [`Migrator::baseline`](crate::Migrator::baseline).
    pub async fn baseline(&self, version: i64) -> Result<Adoption, Error> {
        self.set.adopt(Adopt::Baseline(version), false, Hooks::default()).await
    }

    /// See [`Migrator::import`](crate::Migrator::import).
    pub async fn import(&self, tool: crate::Tool) -> Result<Adoption, Error> {
        self.set.adopt(Adopt::Import(tool), false, Hooks::default()).await
    }

    #[cfg(feature = "cli")]
    pub(crate) async fn adopt_with(&self, from: Adopt, dry_run: bool, hooks: Hooks<'_>) -> Result<Adoption, Error> {
        self.set.adopt(from, dry_run, hooks).await
    }

    /// See [`Migrations::readiness`].
    pub async fn readiness(&self) -> Readiness {
        self.set.readiness().await
    }

    #[cfg(feature = "cli")]
    pub(crate) async fn up_with(&self, to: Option<i64>, hooks: Hooks<'_>) -> Result<Report, Error> {
        self.set.up(to, hooks).await
    }

    #[cfg(feature = "cli")]
    pub(crate) async fn down_with(&self, back: Back, hooks: Hooks<'_>) -> Result<Report, Error> {
        self.set.down(back, hooks).await
    }

    /// `migrate verify --yes`: prints the reversibility report.
    #[cfg(feature = "cli")]
    pub(crate) async fn verify_cli(&self) -> Result<(), Error> {
        self.set.verify_cli().await
    }

    /// `migrate schema record|check`: prints what it recorded or found.
    #[cfg(feature = "cli")]
    pub(crate) async fn schema_cli(&self, action: crate::snapshot::cli::SchemaAction) -> Result<(), Error> {
        self.set.schema_cli(action).await
    }

    #[cfg(feature = "cli")]
    pub(crate) async fn plan_down_with(&self, back: Back) -> Result<Plan, Error> {
        self.set.plan_down(back).await
    }

    /// `error` as coming from this set.
    pub(crate) fn blame(&self, error: Error) -> Error {
        Error::Target {
            name: self.name.clone(),
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

/// What one set did in [`Targets::run`].
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetReport {
    pub name: String,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub report: Report,
}

/// A set's readiness, with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NamedReadiness {
    pub name: String,
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub readiness: Readiness,
}

/// Every set's readiness: `ready` when all are. Serialized as
/// `{"ready": bool, "targets": [{"name": ..., <Readiness fields>}, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetsReadiness {
    pub ready: bool,
    pub targets: Vec<NamedReadiness>,
}

/// The migration sets of an application, in the order they are applied.
///
/// A tenant set ([`Targets::tenants`]) is stored flat: each tenant is a
/// [`Target`] of its own (so every command and `--only TENANT` reach it like
/// any set), marked with its group, whose tenants are worked on together,
/// `concurrency` at a time, at the group's place in the order.
#[derive(Debug, Default)]
pub struct Targets<'a> {
    targets: Vec<Target<'a>>,
    groups: Vec<Group>,
}

/// A tenant set mounted in [`Targets`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub name: String,
    pub concurrency: usize,
    pub stop_on_failure: bool,
}

/// The selected targets in order, a tenant set's tenants gathered into one
/// unit (they are consecutive: [`Targets::tenants`] adds them together).
pub(crate) enum Unit<'g, T> {
    One(T),
    Tenants(&'g Group, Vec<T>),
}

impl<'a> Targets<'a> {
    pub fn new() -> Self {
        Targets::default()
    }

    /// Adds `migrations` on `db` with the default settings, after the sets
    /// added before.
    ///
    /// # Panics
    /// When a set of that name was added already, or the name is empty or
    /// holds whitespace.
    pub fn add<L, D>(self, name: impl Into<String>, migrations: &'a Migrations<L>, db: D) -> Self
    where
        L: Language,
        D: Database<Language = L> + Send + 'a,
    {
        self.push(Target::new(name, migrations, db, Settings::default()))
    }

    /// [`Targets::add`] with settings (tracking table, schema, lock timeout, ...).
    pub fn add_with<L, D>(
        self,
        name: impl Into<String>,
        migrations: &'a Migrations<L>,
        db: D,
        settings: Settings,
    ) -> Self
    where
        L: Language,
        D: Database<Language = L> + Send + 'a,
    {
        self.push(Target::new(name, migrations, db, settings))
    }

    /// Adds a target built with [`Target::new`] or [`Target::borrowed`].
    ///
    /// # Panics
    /// When a set of that name was added already.
    pub fn push(mut self, target: Target<'a>) -> Self {
        assert!(
            self.get(target.name()).is_none() && self.group(target.name()).is_none(),
            "two migration sets are named `{}`; names pick sets on the command line, so each must be unique",
            target.name()
        );
        self.targets.push(target);
        self
    }

    /// Adds a tenant set under `name`, after the sets added before: the same
    /// migrations on many databases ([`Tenants`](crate::Tenants)). Each tenant
    /// is a target named after the tenant; the set's name selects them all
    /// (`--only NAME`). [`Targets::run`] and `migrate up` apply them with the
    /// tenant set's concurrency; a failing tenant does not stop the others
    /// unless [`Tenants::stop_on_failure`](crate::Tenants::stop_on_failure)
    /// asked for it, and the run then stops after this set, naming the tenant.
    ///
    /// # Panics
    /// When `name` or a tenant's name is taken already (by a set, a tenant or
    /// a tenant set), or `name` is empty or holds whitespace.
    pub fn tenants<L: Language>(mut self, name: impl Into<String>, tenants: crate::Tenants<'a, L>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty() && !name.chars().any(char::is_whitespace),
            "a tenant set's name is typed after `--only`: `{name}` must be non-empty, without spaces"
        );
        assert!(
            self.get(&name).is_none() && self.group(&name).is_none(),
            "`{name}` names a migration set already; names pick sets on the command line, so each must be unique"
        );
        let (members, concurrency, stop_on_failure) = tenants.into_parts();
        for mut member in members {
            assert!(
                member.name != name,
                "the tenant set `{name}` holds a tenant of the same name; names pick sets on the command line"
            );
            member.group = Some(name.clone());
            self = self.push(member);
        }
        self.groups.push(Group {
            name,
            concurrency,
            stop_on_failure,
        });
        self
    }

    pub fn get(&self, name: &str) -> Option<&Target<'a>> {
        self.targets.iter().find(|t| t.name == name)
    }

    pub(crate) fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The names of the tenant sets, in their declared order.
    pub fn tenant_set_names(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.name.as_str()).collect()
    }

    /// `items` (targets in declared order, or what wraps them) with each tenant
    /// set's tenants gathered into one unit.
    pub(crate) fn units<T>(
        &self,
        items: impl IntoIterator<Item = T>,
        target: impl Fn(&T) -> &Target<'a>,
    ) -> Vec<Unit<'_, T>> {
        let mut units: Vec<Unit<'_, T>> = Vec::new();
        for item in items {
            let group = target(&item).group.as_deref().and_then(|name| self.group(name));
            match (group, units.last_mut()) {
                (Some(group), Some(Unit::Tenants(last, members))) if last.name == group.name => members.push(item),
                (Some(group), _) => units.push(Unit::Tenants(group, vec![item])),
                (None, _) => units.push(Unit::One(item)),
            }
        }
        units
    }

    /// The sets in their declared order.
    pub fn iter(&self) -> std::slice::Iter<'_, Target<'a>> {
        self.targets.iter()
    }

    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(Target::name).collect()
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Applies every set's pending migrations, one set after the other in the
    /// declared order. The first failure stops it: later sets are not
    /// touched, and the error is [`Error::Target`] naming the set.
    ///
    /// A tenant set's tenants run together, `concurrency` at a time; their
    /// reports come in the order the tenants were added, and the first failed
    /// tenant (in that order) is the error once all have finished.
    pub async fn run(&self) -> Result<Vec<TargetReport>, Error> {
        let mut reports = Vec::with_capacity(self.targets.len());
        for unit in self.units(&self.targets, |t| t) {
            match unit {
                Unit::One(target) => {
                    let report = target.run().await.map_err(|err| target.blame(err))?;
                    reports.push(TargetReport {
                        name: target.name.clone(),
                        report,
                    });
                }
                Unit::Tenants(group, members) => {
                    let run = crate::tenants::run_each(&members, group.concurrency, group.stop_on_failure).await;
                    for (name, report) in run.into_result()? {
                        reports.push(TargetReport { name, report });
                    }
                }
            }
        }
        Ok(reports)
    }

    /// What [`Targets::run`] would do, set by set, changing nothing. The first
    /// set that cannot be planned (drift, dirty, unreachable) stops it, named.
    pub async fn plan(&self) -> Result<Vec<(String, Plan)>, Error> {
        let mut plans = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            let plan = target.plan().await.map_err(|err| target.blame(err))?;
            plans.push((target.name.clone(), plan));
        }
        Ok(plans)
    }

    /// Every set's status, read one after the other: a set that cannot be
    /// read does not hide the others.
    pub async fn status(&self) -> Vec<(String, Result<Status, Error>)> {
        let mut statuses = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            statuses.push((target.name.clone(), target.status().await));
        }
        statuses
    }

    /// Every set's readiness, read one after the other; never fails.
    pub async fn readiness(&self) -> TargetsReadiness {
        let mut targets = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            targets.push(NamedReadiness {
                name: target.name.clone(),
                readiness: target.readiness().await,
            });
        }
        TargetsReadiness {
            ready: targets.iter().all(|t| t.readiness.up_to_date),
            targets,
        }
    }
}

impl<'t, 'a> IntoIterator for &'t Targets<'a> {
    type Item = &'t Target<'a>;
    type IntoIter = std::slice::Iter<'t, Target<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.targets.iter()
    }
}
