//! One migration set applied to many databases: a PostgreSQL schema, a MySQL
//! database or an SQLite file per tenant.
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn boot(pool: sqlx::PgPool, tenant_names: Vec<String>) {
//! # static MIGRATIONS: embedded_migrations::Migrations =
//! #     embedded_migrations::embed_migrations!("docs/migrations/postgres");
//! use embedded_migrations::{Settings, Tenants};
//!
//! let mut tenants = Tenants::new(&MIGRATIONS).concurrency(8);
//! for name in tenant_names {
//!     // one schema per tenant: tracking tables, lock key and search_path
//!     tenants = tenants.tenant(&name, pool.clone(), Settings::default().schema(&name));
//! }
//! let report = tenants.run().await;          // every tenant, failures reported by name
//! let status = tenants.status().await;       // how many up to date, pending, failed, dirty
//! # }
//! ```
//!
//! Each tenant is a [`Target`]: its own settings, so its own tracking tables
//! and its own migration lock (the PostgreSQL lock key comes from the schema
//! and table, the MySQL lock name from the database and table, SQLite locks
//! its file). Two processes migrating the same tenants at once apply each
//! migration once per tenant, as with a single database.

use super::target::{NamedReadiness, Target};
use super::together;
use crate::backend::Database;
use crate::readiness::ReadinessState;
use crate::report::Report;
use crate::{Error, Language, Migrations, Settings};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// The same migration set on many databases.
pub struct Tenants<'a, L: Language> {
    migrations: &'a Migrations<L>,
    tenants: Vec<Target<'a>>,
    concurrency: usize,
    per_server: Option<usize>,
    stop_on_failure: bool,
}

impl<'a, L: Language> Tenants<'a, L> {
    /// No tenant yet; 4 at a time; a failure does not stop the others.
    pub fn new(migrations: &'a Migrations<L>) -> Self {
        Tenants {
            migrations,
            tenants: Vec::new(),
            concurrency: 4,
            per_server: None,
            stop_on_failure: false,
        }
    }

    /// Adds a tenant: its database handle and the settings that place it
    /// (`Settings::schema` for a PostgreSQL schema per tenant). Its files'
    /// `${tenant}` placeholder is its name, unless `settings` give a value
    /// for `tenant` ([`Settings::placeholder`]); other values per tenant go
    /// in each tenant's settings. A new
    /// tenant is provisioned in one transaction where the database can
    /// ([`Settings::provision_in_one_transaction`], on unless the settings
    /// turn it off).
    ///
    /// # Panics
    /// When a tenant of that name was added already, or the name is empty or
    /// holds whitespace.
    pub fn tenant<D>(mut self, name: impl Into<String>, db: D, settings: Settings) -> Self
    where
        D: Database<Language = L> + Send + 'a,
    {
        // A new tenant in one transaction, unless the settings say otherwise.
        let settings = match settings.provision {
            None => settings.provision_in_one_transaction(true),
            Some(_) => settings,
        };
        // `${tenant}` is the tenant's name, unless the settings give another.
        let name = name.into();
        let settings = settings.placeholder_default("tenant", &name);
        let target = Target::new(name, self.migrations, db, settings);
        assert!(
            self.get(target.name()).is_none(),
            "two tenants are named `{}`; each must be unique",
            target.name()
        );
        self.tenants.push(target);
        self
    }

    /// How many tenants are worked on at once (at least 1). With a shared
    /// pool, give the pool at least this many connections: each tenant's
    /// operation holds one.
    pub fn concurrency(mut self, tenants_at_once: usize) -> Self {
        self.concurrency = tenants_at_once.max(1);
        self
    }

    /// At most this many tenants of one server are migrated at once (at
    /// least 1), when the tenants span several servers: `concurrency` bounds
    /// them all, this bounds each server's share. A server is a PostgreSQL
    /// or MySQL `host:port`; tenants whose database cannot say (SQLite
    /// files, Neo4j) are bounded by `concurrency` alone.
    pub fn per_server(mut self, tenants_at_once: usize) -> Self {
        self.per_server = Some(tenants_at_once.max(1));
        self
    }

    /// After the first failure, start no other tenant (those already running
    /// finish); the ones not started are reported `Skipped`.
    pub fn stop_on_failure(mut self, stop: bool) -> Self {
        self.stop_on_failure = stop;
        self
    }

    /// The migration set every tenant gets.
    pub fn migrations(&self) -> &'a Migrations<L> {
        self.migrations
    }

    /// The tenant named `name`.
    pub fn get(&self, name: &str) -> Option<&Target<'a>> {
        self.tenants.iter().find(|t| t.name() == name)
    }

    /// The tenants in the order they were added.
    pub fn iter(&self) -> std::slice::Iter<'_, Target<'a>> {
        self.tenants.iter()
    }

    /// How many tenants were added.
    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    /// Whether no tenant was added.
    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }

    /// Applies the pending migrations of every tenant, `concurrency` at a
    /// time. Results come back in the order the tenants were added.
    ///
    /// The boot check reads the state rows of tenants on one server
    /// together (PostgreSQL schemas of one database, MySQL databases): one
    /// query instead of one per tenant; only the tenants that differ are
    /// opened one by one.
    pub async fn run(&self) -> TenantsReport {
        let tenants: Vec<&Target> = self.tenants.iter().collect();
        run_each(&tenants, self.pace()).await
    }

    /// Every tenant's readiness, with the counts. Reads only: the tenants
    /// on one server in one query where the database can
    /// ([`SharedReads`](crate::backend::SharedReads)), the others
    /// `concurrency` at a time.
    pub async fn status(&self) -> TenantsStatus {
        let tenants: Vec<&Target> = self.tenants.iter().collect();
        status_each(&tenants, self.concurrency).await
    }

    /// The tenants, the concurrency and the failure policy, for
    /// [`Targets::tenants`](crate::Targets::tenants).
    pub(crate) fn into_parts(self) -> (Vec<Target<'a>>, Pace) {
        let pace = self.pace();
        (self.tenants, pace)
    }

    fn pace(&self) -> Pace {
        Pace {
            concurrency: self.concurrency,
            per_server: self.per_server,
            stop_on_failure: self.stop_on_failure,
        }
    }
}

/// How a tenant set's tenants are run: how many at once, how many of one
/// server at once, and whether a failure stops the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pace {
    pub concurrency: usize,
    pub per_server: Option<usize>,
    pub stop_on_failure: bool,
}

/// One slot of a server: held by a tenant for its whole run.
type Slot = std::sync::Arc<futures_util::lock::Mutex<()>>;

/// At most `limit` tenants of one server at once: each server has `limit`
/// slots, and its n-th tenant takes slot `n % limit` for its whole run.
struct ServerSlots {
    slots: Vec<Option<Slot>>,
}

impl ServerSlots {
    fn new(tenants: &[&Target<'_>], limit: Option<usize>) -> ServerSlots {
        let Some(limit) = limit else {
            return ServerSlots {
                slots: vec![None; tenants.len()],
            };
        };
        // Per server: how many of its tenants were given a slot, and its slots.
        let mut servers: HashMap<String, (usize, Vec<Slot>)> = HashMap::new();
        let slots = tenants
            .iter()
            .map(|tenant| {
                let server = together::server(tenant)?;
                let (seen, slots) = servers
                    .entry(server)
                    .or_insert_with(|| (0, (0..limit).map(|_| Slot::default()).collect()));
                let slot = slots[*seen % limit].clone();
                *seen += 1;
                Some(slot)
            })
            .collect();
        ServerSlots { slots }
    }
}

/// The one runner of tenants, for [`Tenants::run`], [`Targets::run`](crate::Targets::run) and
/// `migrate up`: the boot check of the tenants read together first, then
/// every other tenant `concurrency` at a time (and `per_server` of one
/// server), results in the order given.
pub(crate) async fn run_each(tenants: &[&Target<'_>], pace: Pace) -> TenantsReport {
    let current = together::up_to_date(tenants).await;
    let slots = ServerSlots::new(tenants, pace.per_server);
    let failed = AtomicBool::new(false);
    let failed = &failed;
    let work = tenants.iter().zip(current).zip(slots.slots);
    let tenants = futures_util::stream::iter(work.map(|((tenant, current), slot)| async move {
        // As a run of its own would: a value missing from a tenant's
        // settings fails it, even when the shared read found it current.
        let missing = tenant.engine().check_placeholders();
        let outcome = if let Err(err) = missing {
            failed.store(true, Ordering::SeqCst);
            TenantOutcome::Failed(err)
        } else if current {
            TenantOutcome::Applied(Report::default())
        } else if pace.stop_on_failure && failed.load(Ordering::SeqCst) {
            TenantOutcome::Skipped
        } else {
            let _held = match &slot {
                Some(slot) => Some(slot.lock().await),
                None => None,
            };
            match tenant.run().await {
                Ok(report) => TenantOutcome::Applied(report),
                Err(err) => {
                    failed.store(true, Ordering::SeqCst);
                    TenantOutcome::Failed(err)
                }
            }
        };
        TenantRun {
            name: tenant.name().to_string(),
            outcome,
        }
    }))
    .buffered(pace.concurrency.max(1))
    .collect()
    .await;
    TenantsReport { tenants }
}

/// Every tenant's readiness, with the counts (for [`Tenants::status`],
/// `migrate status` and `migrate check`): the tenants read together first,
/// the others `concurrency` at a time.
pub(crate) async fn status_each(tenants: &[&Target<'_>], concurrency: usize) -> TenantsStatus {
    let judged = together::readiness(tenants).await;
    let read_together = judged.iter().filter(|r| r.is_some()).count();
    let tenants: Vec<NamedReadiness> =
        futures_util::stream::iter(tenants.iter().zip(judged).map(|(tenant, judged)| async move {
            let readiness = match judged {
                Some(readiness) => readiness,
                None => tenant.readiness().await,
            };
            NamedReadiness {
                name: tenant.name().to_string(),
                readiness,
            }
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut status = TenantsStatus::of(tenants);
    status.read_together = read_together;
    status
}

/// What happened to one tenant in [`Tenants::run`].
#[derive(Debug)]
pub enum TenantOutcome {
    /// Its pending migrations were applied (the report is empty when none were).
    Applied(Report),
    /// Its run failed with this error; the migrations it applied before
    /// stay applied ([`Error::applied`] lists them).
    Failed(Error),
    /// Not attempted: an earlier tenant failed with `stop_on_failure`.
    Skipped,
}

/// One tenant's name and what happened to it.
#[derive(Debug)]
pub struct TenantRun {
    /// The tenant's name.
    pub name: String,
    /// What happened to it.
    pub outcome: TenantOutcome,
}

/// Every tenant's outcome, in the order the tenants were added.
///
/// Serialized (feature `serde`) as `{"applied": n, "failed": n, "skipped": n,
/// "tenants": [{"name", "outcome": "applied"|"failed"|"skipped", "steps": n,
/// "error": text|null}]}`.
#[derive(Debug)]
pub struct TenantsReport {
    /// One entry per tenant, in the order they were added.
    pub tenants: Vec<TenantRun>,
}

impl TenantsReport {
    /// The tenants that failed, with their errors.
    pub fn failures(&self) -> Vec<(&str, &Error)> {
        self.tenants
            .iter()
            .filter_map(|run| match &run.outcome {
                TenantOutcome::Failed(err) => Some((run.name.as_str(), err)),
                _ => None,
            })
            .collect()
    }

    fn count(&self, matches: fn(&TenantOutcome) -> bool) -> usize {
        self.tenants.iter().filter(|run| matches(&run.outcome)).count()
    }

    /// Tenants brought up to date (including those that already were).
    pub fn applied_count(&self) -> usize {
        self.count(|o| matches!(o, TenantOutcome::Applied(_)))
    }

    /// Tenants whose run failed.
    pub fn failed_count(&self) -> usize {
        self.count(|o| matches!(o, TenantOutcome::Failed(_)))
    }

    /// Tenants not attempted after a failure (`stop_on_failure`).
    pub fn skipped_count(&self) -> usize {
        self.count(|o| matches!(o, TenantOutcome::Skipped))
    }

    /// `Ok` when every tenant was brought up to date; otherwise the first
    /// failure in tenant order, as [`Error::Target`] naming the tenant.
    pub fn into_result(self) -> Result<Vec<(String, Report)>, Error> {
        let mut reports = Vec::with_capacity(self.tenants.len());
        for run in self.tenants {
            match run.outcome {
                TenantOutcome::Applied(report) => reports.push((run.name, report)),
                TenantOutcome::Failed(error) => {
                    return Err(Error::Target {
                        name: run.name,
                        tenant: true,
                        error: Box::new(error),
                    })
                }
                // Tenants are started in order and only after a failure are
                // any skipped, so that failure came first and returned above.
                TenantOutcome::Skipped => {}
            }
        }
        Ok(reports)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for TenantRun {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (outcome, steps, error) = match &self.outcome {
            TenantOutcome::Applied(report) => ("applied", report.steps.len(), None),
            TenantOutcome::Failed(err) => ("failed", 0, Some(err.to_string())),
            TenantOutcome::Skipped => ("skipped", 0, None),
        };
        let mut out = serializer.serialize_struct("TenantRun", 4)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("outcome", outcome)?;
        out.serialize_field("steps", &steps)?;
        out.serialize_field("error", &error)?;
        out.end()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for TenantsReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("TenantsReport", 4)?;
        out.serialize_field("applied", &self.applied_count())?;
        out.serialize_field("failed", &self.failed_count())?;
        out.serialize_field("skipped", &self.skipped_count())?;
        out.serialize_field("tenants", &self.tenants)?;
        out.end()
    }
}

/// How the tenants stand: each tenant's readiness and how many are in each
/// state. Every tenant counts in exactly one of the counts (its
/// [`ReadinessState`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TenantsStatus {
    /// How many tenants there are.
    pub total: usize,
    /// Tenants `ready`: every migration applied, nothing wrong.
    pub up_to_date: usize,
    /// Tenants `pending`: migrations to apply, nothing wrong.
    pub pending: usize,
    /// The database could not be read.
    pub failed: usize,
    /// Tenants `dirty`: a migration failed halfway.
    pub dirty: usize,
    /// Tenants `drifted`: an applied migration's file changed.
    pub drifted: usize,
    /// Tenants `ahead`: migrations applied that this binary lacks.
    pub ahead: usize,
    /// Tenants `invalid`: another problem `validate` found.
    pub invalid: usize,
    /// Each tenant's readiness, in the order they were added.
    pub tenants: Vec<NamedReadiness>,
    /// How many tenants were judged on records read together with others'
    /// (one query per server, [`SharedReads`](crate::backend::SharedReads))
    /// rather than one by one.
    pub read_together: usize,
}

impl TenantsStatus {
    fn of(tenants: Vec<NamedReadiness>) -> TenantsStatus {
        let count = |state: ReadinessState| tenants.iter().filter(|t| t.readiness.state == state).count();
        TenantsStatus {
            total: tenants.len(),
            up_to_date: count(ReadinessState::Ready),
            pending: count(ReadinessState::Pending),
            failed: count(ReadinessState::Error),
            dirty: count(ReadinessState::Dirty),
            drifted: count(ReadinessState::Drifted),
            ahead: count(ReadinessState::Ahead),
            invalid: count(ReadinessState::Invalid),
            tenants,
            read_together: 0,
        }
    }

    /// Every tenant is up to date.
    pub fn all_ready(&self) -> bool {
        self.up_to_date == self.total
    }

    /// The tenants in `state`, by name.
    pub fn in_state(&self, state: ReadinessState) -> Vec<&str> {
        self.tenants
            .iter()
            .filter(|t| t.readiness.state == state)
            .map(|t| t.name.as_str())
            .collect()
    }
}
