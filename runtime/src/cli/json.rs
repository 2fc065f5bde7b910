//! What `--json` prints when several sets (or a tenant set) are mounted: one
//! document wrapping each set's report. With one set `status`, `plan`,
//! `history` and `check` print the report's own JSON (`Status`, `Plan`,
//! `Readiness`, ...) unwrapped; `up --json` is always [`UpJson`]. Scripts
//! read these field names: they do not change.

use super::output::{eprintln, println};
use crate::report::AllowedRule;
use crate::{HistoryEntry, Migration, Plan, Status, TargetReport, TenantsReport, TenantsStatus};
use serde::Serialize;

/// Pretty JSON on stdout, for scripts and people alike.
pub(super) fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        // Only a map with non-string keys fails, and none is serialized here.
        Err(err) => eprintln!("error: cannot write JSON: {err}"),
    }
}

/// `status --json` with several sets.
#[derive(Serialize)]
pub(super) struct TargetsStatus<'s> {
    pub(super) up_to_date: bool,
    pub(super) applied_count: usize,
    pub(super) pending_count: usize,
    pub(super) targets: Vec<SetStatus<'s>>,
    /// The tenant sets (absent when none is mounted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tenant_sets: Vec<TenantSetStatus<'s>>,
}

#[derive(Serialize)]
pub(super) struct SetStatus<'s> {
    pub(super) name: &'s str,
    #[serde(flatten)]
    pub(super) status: Option<&'s Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

/// `status --json` of a tenant set: its counts and every tenant's readiness.
#[derive(Serialize)]
pub(super) struct TenantSetStatus<'s> {
    pub(super) name: &'s str,
    #[serde(flatten)]
    pub(super) status: &'s TenantsStatus,
}

/// `up --json`: what each set, and each tenant set's tenants, applied.
#[derive(Serialize, Default)]
pub(super) struct UpJson {
    pub(super) targets: Vec<TargetReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tenant_sets: Vec<TenantSetReport>,
}

#[derive(Serialize)]
pub(super) struct TenantSetReport {
    pub(super) name: String,
    #[serde(flatten)]
    pub(super) report: TenantsReport,
}

/// `plan --json` with several sets.
#[derive(Serialize)]
pub(super) struct TargetsPlan<'s> {
    /// Migrations that would be applied, over every set.
    pub(super) pending_count: usize,
    pub(super) targets: Vec<SetPlan<'s>>,
}

#[derive(Serialize)]
pub(super) struct SetPlan<'s> {
    pub(super) name: &'s str,
    #[serde(flatten)]
    pub(super) plan: Option<&'s Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

/// A history row as `history --json` prints it: the row, and for an up
/// run the lint rules its file allows and why, as the table's reason
/// column says them.
#[derive(Serialize)]
pub(super) struct HistoryRow<'s> {
    #[serde(flatten)]
    pub(super) entry: &'s HistoryEntry,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) allowed: Vec<AllowedRule>,
}

impl<'s> HistoryRow<'s> {
    /// Each row of `history`, with what `migrations` (the set as this
    /// binary embeds it) says each up run's file allows.
    pub(super) fn all(migrations: &[Migration], history: &'s [HistoryEntry]) -> Vec<HistoryRow<'s>> {
        history
            .iter()
            .map(|entry| HistoryRow {
                entry,
                allowed: AllowedRule::of_run(migrations, entry),
            })
            .collect()
    }
}

/// `history --json` with several sets.
#[derive(Serialize)]
pub(super) struct TargetsHistory<'s> {
    pub(super) targets: Vec<SetHistory<'s>>,
}

#[derive(Serialize)]
pub(super) struct SetHistory<'s> {
    pub(super) name: &'s str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) history: Option<Vec<HistoryRow<'s>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}
