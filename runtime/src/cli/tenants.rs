//! What the command line prints for a tenant set ([`Targets::tenants`]):
//! the counts, then the tenants that need attention (every tenant with
//! `status --all`), one line each.

use super::set::Set;
use crate::{ReadinessState, Targets, TenantOutcome, TenantsReport, TenantsStatus};
use std::fmt::Write as _;

use super::output::eprintln;

/// The names a person picks with `--only`: each set's, and each tenant set's
/// (with its size) rather than its hundreds of tenants.
pub(super) fn set_names(targets: &Targets<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for target in targets {
        match target.group() {
            None => names.push(target.name().to_string()),
            Some(group) if !names.iter().any(|n: &String| n.split(' ').next() == Some(group)) => {
                let count = targets.iter().filter(|t| t.group() == Some(group)).count();
                names.push(format!("{group} (a tenant set of {count})"));
            }
            Some(_) => {}
        }
    }
    names
}

/// `status` of a tenant set: a header, the counts, and one readiness line per
/// tenant that is not up to date (per tenant when `all`); the errors go to
/// stderr, named.
pub(super) fn status_text(name: &str, any: &Set<'_, '_>, status: &TenantsStatus, all: bool) -> String {
    let mut out = format!("== {name} ({} tenants) ==\n", status.total);
    let _ = write!(
        out,
        "{} up to date, {} pending, {} failed, {} dirty, {} drifted",
        status.up_to_date, status.pending, status.failed, status.dirty, status.drifted
    );
    for (n, what) in [(status.ahead, "ahead"), (status.invalid, "invalid")] {
        if n > 0 {
            let _ = write!(out, ", {n} {what}");
        }
    }
    out.push('\n');
    let mut listed = 0;
    let mut unlisted: Vec<ReadinessState> = Vec::new();
    for tenant in &status.tenants {
        let ready = tenant.readiness.state == ReadinessState::Ready;
        if ready && !all {
            continue;
        }
        if !all && listed == LISTED {
            unlisted.push(tenant.readiness.state);
            continue;
        }
        listed += 1;
        // Every tenant has the same migrations: any tenant's set prints versions.
        let _ = writeln!(out, "{}: {}", tenant.name, any.readiness_line(&tenant.readiness));
        if let Some(error) = &tenant.readiness.error {
            eprintln!("error: tenant `{}`: {error}", tenant.name);
        }
    }
    if let Some(line) = unlisted_line(&unlisted) {
        let _ = writeln!(out, "{line}");
    }
    if status.up_to_date > 0 && !all {
        let _ = writeln!(
            out,
            "(tenants up to date are not listed; `status --all` lists every tenant)"
        );
    }
    out
}

/// How many tenants needing attention are named, one line each, before the
/// rest are counted: a thousand failing tenants are one problem, seldom a
/// thousand, and the screen should show its shape.
pub(super) const LISTED: usize = 20;

/// The tenants past the first [`LISTED`], counted by state: "... and 312
/// more: 300 error, 12 pending (`status --all` lists every tenant)".
pub(super) fn unlisted_line(states: &[ReadinessState]) -> Option<String> {
    if states.is_empty() {
        return None;
    }
    let mut counts: Vec<(ReadinessState, usize)> = Vec::new();
    for state in states {
        match counts.iter_mut().find(|(s, _)| s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((*state, 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {}", s.as_str())).collect();
    Some(format!(
        "... and {} more: {} (`status --all` lists every tenant)",
        states.len(),
        counts.join(", ")
    ))
}

/// `up` of a tenant set: one line per tenant that applied something, failed
/// or was skipped, then the counts.
pub(super) fn up_text(any: &Set<'_, '_>, report: &TenantsReport) -> String {
    let mut out = String::new();
    let mut unchanged = 0;
    for run in &report.tenants {
        match &run.outcome {
            TenantOutcome::Applied(applied) if applied.is_empty() => unchanged += 1,
            TenantOutcome::Applied(applied) => {
                let last = applied.steps.iter().map(|s| s.version).max().unwrap_or(0);
                let _ = writeln!(
                    out,
                    "{}: applied {} migration(s); now at version {}",
                    run.name,
                    applied.steps.len(),
                    any.v(last)
                );
            }
            TenantOutcome::Failed(_) => {
                let _ = writeln!(out, "{}: failed (see the error below)", run.name);
            }
            TenantOutcome::Skipped => {
                let _ = writeln!(out, "{}: skipped (an earlier tenant failed)", run.name);
            }
        }
    }
    let _ = writeln!(
        out,
        "{} tenants: {} migrated ({unchanged} had nothing to apply), {} failed, {} skipped",
        report.tenants.len(),
        report.applied_count(),
        report.failed_count(),
        report.skipped_count()
    );
    out
}
