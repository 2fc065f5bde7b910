//! `migrate up [--to V] [--dry-run] [--concurrency N] [--per-server N] [--json]`:
//! the selected sets migrated in order (the first failure stops), a tenant
//! set's tenants `concurrency` at a time, `per-server` of one server.

use crate::cli::failure::{reported, Failure};
use crate::cli::json::{print_json, TenantSetReport, UpJson};
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::cli::progress::ProgressPrinter;
use crate::cli::set::Set;
use crate::cli::tenants;
use crate::targets::{Group, Pace, Target, Unit};
use crate::{Error, Progress, TargetReport, TenantOutcome, TenantsReport};

pub(super) async fn up(
    ops: &Ops<'_, '_>,
    to: Option<i64>,
    dry_run: bool,
    limits: (Option<usize>, Option<usize>),
    json: bool,
) -> Result<(), Failure> {
    if to.is_some() {
        ops.one_for_version("up")?;
    }
    if dry_run && json {
        return Err(Failure::Usage(
            "`up --dry-run` prints a script; for JSON run `migrate plan --json`".to_string(),
        ));
    }
    let mut done = UpJson::default();
    let mut result = Ok(());
    let mut shown = 0;
    for unit in ops.units() {
        let step = match unit {
            Unit::Tenants(group, members) if !dry_run => {
                shown += 1;
                up_tenants(shown - 1, group, &members, limits, json, &mut done).await
            }
            // A dry run plans each tenant in turn, a section each.
            Unit::Tenants(_, members) => {
                let mut step = Ok(());
                for set in members {
                    shown += 1;
                    step = up_one(ops, shown - 1, set, to, true, json, &mut done).await;
                    if step.is_err() {
                        break;
                    }
                }
                step
            }
            Unit::One(set) => {
                shown += 1;
                up_one(ops, shown - 1, set, to, dry_run, json, &mut done).await
            }
        };
        // A later set may depend on an earlier one: the first failure stops.
        if let Err(failure) = step {
            result = Err(failure);
            break;
        }
    }
    if json {
        print_json(&done);
    }
    result
}

/// One set: its report kept for the JSON, its plan printed (dry run), or
/// applied with a progress line per migration.
async fn up_one(
    ops: &Ops<'_, '_>,
    index: usize,
    set: &Set<'_, '_>,
    to: Option<i64>,
    dry_run: bool,
    json: bool,
    done: &mut UpJson,
) -> Result<(), Failure> {
    if json {
        let report = set
            .target
            .engine()
            .up(set.target.db(), to)
            .await
            .map_err(|err| ops.blame(set, err))?;
        if report.is_empty() {
            refuse_pending(ops, set, to).await?;
        }
        done.targets.push(TargetReport {
            name: set.target.name().to_string(),
            report,
        });
        return Ok(());
    }
    ops.section(index, set);
    match dry_run {
        true => print_plan(ops, set, to).await,
        false => apply(ops, set, to).await,
    }
}

/// `up --dry-run` of one set: the script it would run.
async fn print_plan(ops: &Ops<'_, '_>, set: &Set<'_, '_>, to: Option<i64>) -> Result<(), Failure> {
    let plan = match to {
        Some(to) => set.target.plan_to(to).await,
        None => set.target.plan().await,
    };
    let plan = plan.map_err(|err| ops.refused_plan(set, err))?;
    print!("{}", set.plan_text(&plan, "applied", "dry run"));
    Ok(())
}

/// `up` of one set, a line per migration as it runs, then where it is now.
async fn apply(ops: &Ops<'_, '_>, set: &Set<'_, '_>, to: Option<i64>) -> Result<(), Failure> {
    let target = set.target;
    let printer = ProgressPrinter::new(&set.versions);
    let progress = |p: &Progress| printer.event(p);
    let report = target.engine().with_progress(Some(&progress)).up(target.db(), to).await;
    printer.interrupted();
    let report = report.map_err(|err| ops.blame(set, err))?;
    if report.is_empty() {
        refuse_pending(ops, set, to).await?;
    }
    let status = target.status().await.map_err(|err| ops.blame(set, err))?;
    if report.is_empty() {
        let above = match (to, status.pending_count()) {
            (_, 0) => String::new(),
            (Some(to), pending) => format!(" ({pending} pending above {})", set.v(to)),
            (None, pending) => format!(" ({pending} pending)"),
        };
        println!(
            "nothing to apply; at version {}{above}",
            set.v(status.current_version())
        );
    } else {
        println!(
            "applied {} migration(s); now at version {}",
            report.steps.len(),
            set.v(status.current_version())
        );
    }
    Ok(())
}

/// After a run of one set that applied nothing: a failure when something
/// is pending after all (see [`still_pending`]).
async fn refuse_pending(ops: &Ops<'_, '_>, set: &Set<'_, '_>, to: Option<i64>) -> Result<(), Failure> {
    let pending = still_pending(set.target, to).await.map_err(|err| ops.blame(set, err))?;
    if pending > 0 {
        // A failure while running (exit 1), not a refusal: nothing is wrong
        // with the database, and the next run applies them.
        eprintln!(
            "error: `up` applied nothing, yet {pending} migration(s) are pending: another process changed the \
             tracking tables meanwhile; run `migrate status`, then `migrate up` again"
        );
        return Err(Failure::Reported(1));
    }
    Ok(())
}

/// After a run that applied nothing, how many migrations are pending: the
/// boot check trusted the state row, and the rows may disagree with it (one
/// deleted by hand). The plan reads them, and refuses as `up` does under its
/// lock when the state row is stale, so "nothing to apply" is never said
/// while something is pending.
async fn still_pending(target: &Target<'_>, to: Option<i64>) -> Result<usize, Error> {
    let plan = match to {
        Some(to) => target.plan_to(to).await,
        None => target.plan().await,
    }?;
    Ok(plan.steps.len())
}

/// Each tenant whose run applied nothing, checked as [`still_pending`]
/// does, `at_once` at a time: a refusal becomes its failure.
async fn refuse_stale_tenants(targets: &[&Target<'_>], report: &mut TenantsReport, at_once: usize) {
    use futures_util::StreamExt;
    let checks = futures_util::stream::iter(targets.iter().zip(&report.tenants).enumerate().filter_map(
        |(i, (target, run))| match &run.outcome {
            TenantOutcome::Applied(applied) if applied.is_empty() => {
                Some(async move { (i, still_pending(target, None).await) })
            }
            _ => None,
        },
    ))
    .buffer_unordered(at_once.max(1))
    .collect::<Vec<_>>()
    .await;
    for (i, check) in checks {
        if let Err(err) = check {
            report.tenants[i].outcome = TenantOutcome::Failed(err);
        }
    }
}

/// A tenant set's tenants, `concurrency` at a time (no progress lines:
/// they would interleave); each failure is named, and the others go on
/// unless the tenant set stops on failure.
async fn up_tenants(
    index: usize,
    group: &Group,
    members: &[&Set<'_, '_>],
    (concurrency, per_server): (Option<usize>, Option<usize>),
    json: bool,
    done: &mut UpJson,
) -> Result<(), Failure> {
    let targets: Vec<&Target> = members.iter().map(|set| set.target).collect();
    let at_once = concurrency.unwrap_or(group.concurrency);
    let pace = Pace {
        concurrency: at_once,
        per_server: per_server.or(group.per_server),
        stop_on_failure: group.stop_on_failure,
    };
    if !json {
        if index > 0 {
            println!();
        }
        println!("== {} ({} tenants, {at_once} at a time) ==", group.name, members.len());
    }
    let mut report = crate::targets::run_each(&targets, pace).await;
    refuse_stale_tenants(&targets, &mut report, at_once).await;
    if !json {
        print!("{}", tenants::up_text(members[0], &report));
    }
    let mut code = 0;
    let failures = report.failures();
    for (name, err) in failures.iter().take(tenants::LISTED) {
        eprintln!("error: tenant `{name}`: {err}");
    }
    if failures.len() > tenants::LISTED {
        eprintln!(
            "error: {} more tenant(s) failed (`up --json` names every one)",
            failures.len() - tenants::LISTED
        );
    }
    for (_, err) in &failures {
        code = code.max(err.exit_code());
    }
    if json {
        done.tenant_sets.push(TenantSetReport {
            name: group.name.clone(),
            report,
        });
    }
    reported(code)
}
