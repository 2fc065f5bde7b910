//! The commands that revert: `migrate down [N | --to V] [--dry-run]
//! [--reason TEXT] [--backup PATH [--backup-tool PROGRAM]]` and `migrate fresh --yes` (revert everything, apply
//! everything). With several sets mounted both need `--only`; `down` works
//! newest set first, `fresh` checks every set before it changes any.

use crate::cli::failure::Failure;
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::cli::progress::ProgressPrinter;
use crate::cli::set::Set;
use crate::engine::DownTarget;
use crate::Progress;

/// How `down` goes, from its flags.
pub(super) struct How {
    /// `--to` was given (one set only).
    pub to_given: bool,
    pub dry_run: bool,
    pub reason: Option<String>,
    /// `--backup PATH` (one set only: one file is one database's backup).
    pub backup: Option<crate::Backup>,
}

pub(super) async fn down(ops: &Ops<'_, '_>, back: DownTarget, how: How) -> Result<(), Failure> {
    ops.explicit("down")?;
    if how.to_given {
        ops.one_for_version("down")?;
    }
    if how.backup.is_some() {
        ops.one("down --backup")?;
    }
    // Newest first: a later set may depend on an earlier one.
    for (i, set) in ops.selected.iter().rev().enumerate() {
        ops.section(i, set);
        if how.dry_run {
            let plan = set
                .target
                .engine()
                .plan_down(set.target.db(), back)
                .await
                .map_err(|err| ops.blame(set, err))?;
            print!("{}", set.plan_text(&plan, "reverted", "dry run"));
            if let (Some(backup), false) = (&how.backup, plan.steps.is_empty()) {
                println!("a backup would be written first to {}", backup.path().display());
            }
            continue;
        }
        revert(ops, set, back, &how).await?;
    }
    Ok(())
}

/// `down` of one set, a line per migration as it is reverted, then where it
/// is now.
async fn revert(ops: &Ops<'_, '_>, set: &Set<'_, '_>, back: DownTarget, how: &How) -> Result<(), Failure> {
    let target = set.target;
    let printer = ProgressPrinter::new(&set.versions);
    let progress = |p: &Progress| printer.event(p);
    let report = target
        .engine()
        .with_reason(how.reason.as_deref())
        .with_progress(Some(&progress))
        .down_after_backup(target.db(), back, how.backup.as_ref())
        .await;
    printer.interrupted();
    let report = report.map_err(|err| ops.blame(set, err))?;
    let status = target.status().await.map_err(|err| ops.blame(set, err))?;
    if report.is_empty() {
        println!("nothing to revert; at version {}", set.v(status.current_version()));
    } else {
        if let Some(backup) = &how.backup {
            println!("backup written to {}", backup.path().display());
        }
        println!(
            "reverted {} migration(s); now at version {}",
            report.steps.len(),
            set.v(status.current_version())
        );
    }
    Ok(())
}

pub(super) async fn fresh(ops: &Ops<'_, '_>, yes: bool) -> Result<(), Failure> {
    ops.explicit("fresh")?;
    if !yes {
        return Err(Failure::Usage(
            "fresh reverts every applied migration, destroying the data they hold, then applies them all again; \
             run `migrate fresh --yes` to do it"
                .to_string(),
        ));
    }
    // The down plans check every applied migration (irreversible, drift,
    // dirty, missing) of every set before anything changes, so a refusal
    // leaves every database as it was.
    for set in &ops.selected {
        if let Err(err) = set.target.plan_down_to(0).await {
            eprintln!("fresh refused before changing anything:");
            return Err(ops.blame(set, err));
        }
    }
    for (i, set) in ops.selected.iter().enumerate() {
        ops.section(i, set);
        refresh(ops, set).await?;
    }
    Ok(())
}

/// `fresh` of one set: every migration reverted, then every one applied.
async fn refresh(ops: &Ops<'_, '_>, set: &Set<'_, '_>) -> Result<(), Failure> {
    let printer = ProgressPrinter::new(&set.versions);
    let progress = |p: &Progress| printer.event(p);
    let engine = set
        .target
        .engine()
        .with_reason(Some("fresh"))
        .with_progress(Some(&progress));
    let reverted = engine.down(set.target.db(), DownTarget::Version(0)).await;
    printer.interrupted();
    let reverted = reverted.map_err(|err| ops.blame(set, err))?;
    let applied = engine.up(set.target.db(), None).await;
    printer.interrupted();
    let applied = applied.map_err(|err| ops.blame(set, err))?;
    println!(
        "fresh: reverted {}, applied {} migration(s)",
        reverted.steps.len(),
        applied.steps.len()
    );
    Ok(())
}
