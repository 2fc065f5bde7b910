//! Several migration sets of one application, each on its own database, as
//! one value: applied at boot in a declared order, mounted whole by the ops
//! command line.
//!
//! ```no_run
//! # #[cfg(all(feature = "postgres", feature = "neo4j"))]
//! # async fn boot(pg_pool: sqlx::PgPool, ts_pool: sqlx::PgPool, graph: neo4rs::Graph) -> Result<(), embedded_migrations::Error> {
//! use embedded_migrations::{embed_migrations, CypherMigrations, Migrations, Settings, Targets};
//!
//! static POSTGRES: Migrations = embed_migrations!("docs/migrations/postgres");
//! static TIMESCALE: Migrations = embed_migrations!("docs/migrations/events");
//! static GRAPH: CypherMigrations = embed_migrations!("docs/migrations/neo4j");
//!
//! let targets = Targets::new()
//!     .add("postgres", &POSTGRES, pg_pool.clone())
//!     .add_with("timescale", &TIMESCALE, ts_pool.clone(), Settings::default().table("ts_migrations"))
//!     .add("graph", &GRAPH, graph.clone());
//! targets.run().await?; // in that order; the first failure stops, naming its set
//! # Ok(())
//! # }
//! ```

use super::target::{NamedReadiness, Target};
use super::tenants::{run_each, Tenants};
use crate::backend::Database;
use crate::report::{Plan, Report, Status};
use crate::{Error, Language, Migrations, Settings};

/// What one set did in [`Targets::run`].
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetReport {
    /// The set's name (a tenant's, for a tenant set).
    pub name: String,
    /// What [`Target::run`] did on it.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub report: Report,
}

/// Every set's readiness: `ready` when all are. Serialized as
/// `{"ready": bool, "targets": [{"name": ..., <Readiness fields>}, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TargetsReadiness {
    /// Every set is up to date.
    pub ready: bool,
    /// Each set's readiness, in the declared order (each tenant on its own).
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
    pub per_server: Option<usize>,
    pub stop_on_failure: bool,
}

impl Group {
    /// How its tenants are run.
    pub(crate) fn pace(&self) -> super::tenants::Pace {
        super::tenants::Pace {
            concurrency: self.concurrency,
            per_server: self.per_server,
            stop_on_failure: self.stop_on_failure,
        }
    }
}

/// The selected targets in order, a tenant set's tenants gathered into one
/// unit (they are consecutive: [`Targets::tenants`] adds them together).
pub(crate) enum Unit<'g, T> {
    One(T),
    Tenants(&'g Group, Vec<T>),
}

impl<'a> Targets<'a> {
    /// These sets on the same databases, each one's settings given
    /// `values` for their placeholders (the command line's `--placeholder`).
    #[cfg(feature = "cli")]
    pub(crate) fn with_placeholder_values(&self, values: &[(String, String)]) -> Targets<'_> {
        Targets {
            targets: self
                .targets
                .iter()
                .map(|target| target.with_placeholder_values(values))
                .collect(),
            groups: self.groups.clone(),
        }
    }

    /// No set yet: add them with [`add`](Self::add),
    /// [`add_with`](Self::add_with), [`push`](Self::push) and
    /// [`tenants`](Self::tenants).
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
    pub fn tenants<L: Language>(mut self, name: impl Into<String>, tenants: Tenants<'a, L>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty() && !name.chars().any(char::is_whitespace),
            "a tenant set's name is typed after `--only`: `{name}` must be non-empty, without spaces"
        );
        assert!(
            self.get(&name).is_none() && self.group(&name).is_none(),
            "`{name}` names a migration set already; names pick sets on the command line, so each must be unique"
        );
        let (members, pace) = tenants.into_parts();
        for mut member in members {
            assert!(
                member.name() != name,
                "the tenant set `{name}` holds a tenant of the same name; names pick sets on the command line"
            );
            member.group = Some(name.clone());
            self = self.push(member);
        }
        self.groups.push(Group {
            name,
            concurrency: pace.concurrency,
            per_server: pace.per_server,
            stop_on_failure: pace.stop_on_failure,
        });
        self
    }

    /// The set, or tenant, named `name`; `None` for a tenant set's own name.
    pub fn get(&self, name: &str) -> Option<&Target<'a>> {
        self.targets.iter().find(|t| t.name() == name)
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

    /// The sets' names in their declared order, each tenant under its own.
    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(Target::name).collect()
    }

    /// How many sets there are, each tenant counted as one.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether no set was added.
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
                        name: target.name().to_string(),
                        report,
                    });
                }
                Unit::Tenants(group, members) => {
                    let run = run_each(&members, group.pace()).await;
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
            plans.push((target.name().to_string(), plan));
        }
        Ok(plans)
    }

    /// Every set's status, read one after the other: a set that cannot be
    /// read does not hide the others.
    pub async fn status(&self) -> Vec<(String, Result<Status, Error>)> {
        let mut statuses = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            statuses.push((target.name().to_string(), target.status().await));
        }
        statuses
    }

    /// Every set's readiness, read one after the other; never fails.
    pub async fn readiness(&self) -> TargetsReadiness {
        let mut targets = Vec::with_capacity(self.targets.len());
        for target in &self.targets {
            targets.push(NamedReadiness {
                name: target.name().to_string(),
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
