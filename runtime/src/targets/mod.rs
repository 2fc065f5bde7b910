//! Several migration sets, and one set on many tenants, as values an
//! application applies at boot and the ops command line mounts whole.
//!
//! - target.rs: [`Target`], one named set bound to its database, types erased;
//! - set.rs: [`Targets`], the sets of an application in their order, tenant sets among them;
//! - tenants.rs: [`Tenants`], one set on many databases, bounded concurrency;
//! - together.rs: the tenants of one server read in one query;
//! - from_template.rs: new tenant databases copied from the set's template.

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod from_template;
mod set;
mod target;
mod tenants;
mod together;

#[cfg(feature = "cli")]
pub(crate) use set::{Group, Unit};
pub use set::{TargetReport, Targets, TargetsReadiness};
pub use target::{NamedReadiness, Target};
#[cfg(feature = "cli")]
pub(crate) use tenants::{run_each, status_each, Pace};
pub use tenants::{TenantOutcome, TenantRun, Tenants, TenantsReport, TenantsStatus};
