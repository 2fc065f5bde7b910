//! The commands that judge each database against this binary, writing
//! nothing: `migrate validate` (drift, missing, dirty, out of order) and
//! `migrate check [--json]` (the readiness a deploy gate reads, its exit
//! code the worst set's).

use crate::cli::failure::{reported, Failure};
use crate::cli::json::print_json;
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, println};
use crate::cli::tenants;
use crate::targets::{NamedReadiness, Target, TargetsReadiness, Unit};
use crate::ReadinessState;

pub(super) async fn validate(ops: &Ops<'_, '_>) -> Result<(), Failure> {
    let mut code = 0;
    for (i, set) in ops.selected.iter().enumerate() {
        ops.section(i, set);
        match set.target.validate().await {
            Ok(status) => println!(
                "ok: {} applied, {} pending; at version {}, latest {}",
                status.applied_count(),
                status.pending_count(),
                set.v(status.current_version()),
                set.v(status.latest_version())
            ),
            Err(err) if !ops.sections => return Err(err.into()),
            Err(err) => {
                println!("problems found (see the error below)");
                eprintln!("error: {}: {err}", set.label());
                code = code.max(err.exit_code());
            }
        }
    }
    reported(code)
}

/// Reads only (validate and status); the exit code is the worst set's.
pub(super) async fn check(ops: &Ops<'_, '_>, json: bool) -> Result<(), Failure> {
    let mut sets = Vec::with_capacity(ops.selected.len());
    for unit in ops.units() {
        match unit {
            Unit::One(set) => sets.push(NamedReadiness {
                name: set.target.name().to_string(),
                readiness: set.target.readiness().await,
            }),
            // The tenants of one server in one query where the database can.
            Unit::Tenants(group, members) => {
                let targets: Vec<&Target> = members.iter().map(|set| set.target).collect();
                sets.extend(crate::targets::status_each(&targets, group.concurrency).await.tenants);
            }
        }
    }
    match (json, ops.sections) {
        (true, true) => print_json(&TargetsReadiness {
            ready: sets.iter().all(|s| s.readiness.up_to_date),
            targets: sets.clone(),
        }),
        (true, false) => print_json(&sets[0].readiness),
        (false, _) => print_lines(ops, &sets),
    }
    print_errors(ops, &sets);
    reported(exit_code(&sets))
}

/// A readiness line per set (prefixed with its name when several are
/// mounted); ready tenants are counted, not listed (as in `status`).
fn print_lines(ops: &Ops<'_, '_>, sets: &[NamedReadiness]) {
    let mut ready_tenants = 0;
    let mut listed_tenants = 0;
    let mut unlisted = Vec::new();
    for (set, named) in ops.selected.iter().zip(sets) {
        if set.target.group().is_some() && named.readiness.state == ReadinessState::Ready {
            ready_tenants += 1;
            continue;
        }
        if set.target.group().is_some() {
            if listed_tenants == tenants::LISTED {
                unlisted.push(named.readiness.state);
                continue;
            }
            listed_tenants += 1;
        }
        let prefix = if ops.sections {
            format!("{}: ", named.name)
        } else {
            String::new()
        };
        println!("{prefix}{}", set.readiness_line(&named.readiness));
    }
    if let Some(line) = tenants::unlisted_line(&unlisted) {
        println!("{line}");
    }
    if ready_tenants > 0 {
        println!("{ready_tenants} tenant(s) ready: at the latest version");
    }
}

/// Each set's read error on stderr, named when several sets are mounted;
/// a tenant set's first [`tenants::LISTED`] (the lines above count the rest).
fn print_errors(ops: &Ops<'_, '_>, sets: &[NamedReadiness]) {
    let mut tenant_errors = 0;
    for (set, named) in ops.selected.iter().zip(sets) {
        if let Some(error) = &named.readiness.error {
            if set.target.group().is_some() {
                tenant_errors += 1;
                if tenant_errors > tenants::LISTED {
                    continue;
                }
            }
            match ops.sections {
                true => eprintln!("error: {}: {error}", set.label()),
                false => eprintln!("error: {error}"),
            }
        }
    }
}

/// An unreadable database first, then a problem, then pending work.
fn exit_code(sets: &[NamedReadiness]) -> i32 {
    let states: Vec<ReadinessState> = sets.iter().map(|s| s.readiness.state).collect();
    if states.contains(&ReadinessState::Error) {
        1
    } else if states.iter().any(|s| s.exit_code() == 2) {
        2
    } else if states.contains(&ReadinessState::Pending) {
        3
    } else {
        0
    }
}
