//! `migrate plan [--to V] [--json]`: what `up` would apply, every selected
//! set planned even when one cannot be; writes nothing. The exit code says
//! what was found, as `check`'s does (0 nothing pending, 3 pending, 2 `up`
//! would refuse, 1 unreadable), and a refusal is printed as `up`'s.

use crate::cli::failure::{reported, Failure};
use crate::cli::json::{print_json, SetPlan, TargetsPlan};
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::{Error, Plan};

pub(super) async fn plan(ops: &Ops<'_, '_>, to: Option<i64>, json: bool) -> Result<(), Failure> {
    if to.is_some() {
        ops.one_for_version("plan")?;
    }
    let mut plans = read_plans(ops, to).await;
    let code = exit_code(&plans);
    if !ops.sections {
        let plan = plans
            .pop()
            .expect("one set")
            .map_err(|err| ops.refused_plan(&ops.selected[0], err))?;
        match json {
            true => print_json(&plan),
            false => print!("{}", ops.selected[0].plan_text(&plan, "applied", "plan")),
        }
        return reported(code);
    }
    if json {
        print_json(&document(ops, &plans));
    }
    print_sections(ops, &plans, json);
    reported(code)
}

/// Each selected set's plan, in order.
async fn read_plans(ops: &Ops<'_, '_>, to: Option<i64>) -> Vec<Result<Plan, Error>> {
    let mut plans = Vec::with_capacity(ops.selected.len());
    for set in &ops.selected {
        plans.push(match to {
            Some(to) => set.target.plan_to(to).await,
            None => set.target.plan().await,
        });
    }
    plans
}

/// As `check`: an unreadable database first, then a refusal, then pending work.
fn exit_code(plans: &[Result<Plan, Error>]) -> i32 {
    let codes: Vec<i32> = plans
        .iter()
        .map(|plan| match plan {
            Err(err) => err.exit_code(),
            Ok(plan) if plan.steps.is_empty() => 0,
            Ok(_) => 3,
        })
        .collect();
    [1, 2, 3].into_iter().find(|c| codes.contains(c)).unwrap_or(0)
}

/// `plan --json` over several sets: one document.
fn document<'s>(ops: &'s Ops<'_, '_>, plans: &'s [Result<Plan, Error>]) -> TargetsPlan<'s> {
    TargetsPlan {
        pending_count: plans.iter().flatten().map(|p| p.steps.len()).sum(),
        targets: ops
            .selected
            .iter()
            .zip(plans)
            .map(|(set, plan)| SetPlan {
                name: set.target.name(),
                plan: plan.as_ref().ok(),
                error: plan.as_ref().err().map(Error::to_string),
            })
            .collect(),
    }
}

/// A section per set with something to apply or an error (the errors on
/// stderr with JSON too).
fn print_sections(ops: &Ops<'_, '_>, plans: &[Result<Plan, Error>], json: bool) {
    // A tenant with nothing to apply is counted, not given a section:
    // with hundreds of tenants the plan shows the ones that would change.
    let mut shown = 0;
    let mut idle_tenants = 0;
    for (set, plan) in ops.selected.iter().zip(plans) {
        if set.target.group().is_some() && plan.as_ref().is_ok_and(|p| p.steps.is_empty()) {
            idle_tenants += 1;
            continue;
        }
        if !json {
            ops.section(shown, set);
        }
        shown += 1;
        match plan {
            Ok(plan) if !json => print!("{}", set.plan_text(plan, "applied", "plan")),
            Ok(_) => {}
            Err(err) => {
                if !json {
                    println!("cannot plan this set (see the error below)");
                }
                let refusal = if err.exit_code() == 2 { "`up` will refuse: " } else { "" };
                eprintln!("error: {}: {refusal}{err}", set.label());
            }
        }
    }
    if idle_tenants > 0 && !json {
        println!("\n{idle_tenants} tenant(s) with nothing to apply are not listed");
    }
}
