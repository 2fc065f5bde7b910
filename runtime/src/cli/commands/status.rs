//! `migrate status [--json] [--all]`: every migration of every selected set,
//! a tenant set as its counts and the tenants needing attention, then a total.

use crate::cli::failure::Failure;
use crate::cli::json::{print_json, SetStatus, TargetsStatus, TenantSetStatus};
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::cli::set::Set;
use crate::cli::tenants;
use crate::cli::text::total_line;
use crate::targets::{Group, Target, Unit};
use crate::{Error, Status, TenantsStatus};

/// One set's or tenant set's status as read, in declared order.
enum Read<'t, 'a, 's> {
    One(&'s Set<'t, 'a>, Result<Status, Error>),
    Tenants(&'t Group, Vec<&'s Set<'t, 'a>>, TenantsStatus),
}

pub(super) async fn status(ops: &Ops<'_, '_>, json: bool, all: bool) -> Result<(), Failure> {
    if !ops.sections {
        return one_set(&ops.selected[0], json).await;
    }
    // Everything is read first: the JSON is one document.
    let read = read_all(ops).await;
    let statuses = statuses(&read);
    let groups = groups(&read);
    let failed = statuses.iter().any(|r| r.is_err()) || groups.iter().any(|(_, g)| g.failed > 0);
    if json {
        print_json(&document(&read, &statuses, &groups, failed));
    } else {
        print_sections(ops, &read, all);
        println!("\n{}", total_line(&statuses, &groups));
    }
    if failed {
        return Err(Failure::Reported(1));
    }
    Ok(())
}

/// One set mounted: its table (or its `Status` as JSON), no section.
async fn one_set(set: &Set<'_, '_>, json: bool) -> Result<(), Failure> {
    let status = set.target.status().await?;
    match json {
        true => print_json(&status),
        false => print!("{}", set.status_table(&status)),
    }
    Ok(())
}

/// Each set's status, and each tenant set's tenants' readiness read
/// together.
async fn read_all<'t, 'a, 's>(ops: &'s Ops<'t, 'a>) -> Vec<Read<'t, 'a, 's>> {
    let mut read = Vec::new();
    for unit in ops.units() {
        read.push(match unit {
            Unit::One(set) => Read::One(set, set.target.status().await),
            Unit::Tenants(group, members) => {
                let targets: Vec<&Target> = members.iter().map(|set| set.target).collect();
                let status = crate::targets::status_each(&targets, group.concurrency).await;
                Read::Tenants(group, members, status)
            }
        });
    }
    read
}

/// The plain sets' statuses, in order.
fn statuses<'r>(read: &'r [Read<'_, '_, '_>]) -> Vec<&'r Result<Status, Error>> {
    read.iter()
        .filter_map(|r| match r {
            Read::One(_, status) => Some(status),
            Read::Tenants(..) => None,
        })
        .collect()
}

/// The tenant sets' names and counts, in order.
fn groups<'r>(read: &'r [Read<'_, '_, '_>]) -> Vec<(&'r str, &'r TenantsStatus)> {
    read.iter()
        .filter_map(|r| match r {
            Read::Tenants(group, _, status) => Some((group.name.as_str(), status)),
            Read::One(..) => None,
        })
        .collect()
}

/// `status --json` over several sets: one document.
fn document<'r>(
    read: &'r [Read<'_, '_, '_>],
    statuses: &[&'r Result<Status, Error>],
    groups: &[(&'r str, &'r TenantsStatus)],
    failed: bool,
) -> TargetsStatus<'r> {
    let ok: Vec<&Status> = statuses.iter().filter_map(|r| r.as_ref().ok()).collect();
    TargetsStatus {
        up_to_date: !failed && ok.iter().all(|s| s.is_up_to_date()) && groups.iter().all(|(_, g)| g.all_ready()),
        applied_count: ok.iter().map(|s| s.applied_count()).sum(),
        pending_count: ok.iter().map(|s| s.pending_count()).sum(),
        targets: read
            .iter()
            .filter_map(|r| match r {
                Read::One(set, result) => Some(SetStatus {
                    name: set.target.name(),
                    status: result.as_ref().ok(),
                    error: result.as_ref().err().map(Error::to_string),
                }),
                Read::Tenants(..) => None,
            })
            .collect(),
        tenant_sets: groups
            .iter()
            .map(|&(name, status)| TenantSetStatus { name, status })
            .collect(),
    }
}

/// A section per set (its table, or why it could not be read) and per
/// tenant set (its counts and the tenants needing attention).
fn print_sections(ops: &Ops<'_, '_>, read: &[Read<'_, '_, '_>], all: bool) {
    for (i, r) in read.iter().enumerate() {
        match r {
            Read::One(set, result) => {
                ops.section(i, set);
                match result {
                    Ok(status) => print!("{}", set.status_table(status)),
                    Err(err) => {
                        println!("cannot read this set's status (see the error below)");
                        eprintln!("error: {}: {err}", set.label());
                    }
                }
            }
            Read::Tenants(group, members, status) => {
                if i > 0 {
                    println!();
                }
                print!("{}", tenants::status_text(&group.name, members[0], status, all));
            }
        }
    }
}
