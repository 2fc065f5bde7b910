//! `migrate history [--json]`: every up and down run of each selected set.

use crate::cli::failure::Failure;
use crate::cli::json::{print_json, HistoryRow, SetHistory, TargetsHistory};
use crate::cli::ops::Ops;
use crate::cli::output::{eprintln, print, println};
use crate::{Error, HistoryEntry};

pub(super) async fn history(ops: &Ops<'_, '_>, json: bool) -> Result<(), Failure> {
    let mut histories = Vec::with_capacity(ops.selected.len());
    for set in &ops.selected {
        histories.push(set.target.history().await);
    }
    if !ops.sections {
        let history = histories.pop().expect("one set")?;
        if json {
            print_json(&HistoryRow::all(ops.selected[0].target.migrations(), &history));
        } else {
            print!("{}", ops.selected[0].history_table(&history));
        }
        return Ok(());
    }
    let failed = histories.iter().any(Result::is_err);
    if json {
        print_json(&document(ops, &histories));
    } else {
        print_sections(ops, &histories);
    }
    if failed {
        return Err(Failure::Reported(1));
    }
    Ok(())
}

/// `history --json` over several sets: one document.
fn document<'s>(ops: &'s Ops<'_, '_>, histories: &'s [Result<Vec<HistoryEntry>, Error>]) -> TargetsHistory<'s> {
    TargetsHistory {
        targets: ops
            .selected
            .iter()
            .zip(histories)
            .map(|(set, result)| SetHistory {
                name: set.target.name(),
                history: result
                    .as_ref()
                    .ok()
                    .map(|history| HistoryRow::all(set.target.migrations(), history)),
                error: result.as_ref().err().map(Error::to_string),
            })
            .collect(),
    }
}

/// A section per set: its table, or why it could not be read.
fn print_sections(ops: &Ops<'_, '_>, histories: &[Result<Vec<HistoryEntry>, Error>]) {
    for (i, (set, result)) in ops.selected.iter().zip(histories).enumerate() {
        ops.section(i, set);
        match result {
            Ok(history) => print!("{}", set.history_table(history)),
            Err(err) => {
                println!("cannot read this set's history (see the error below)");
                eprintln!("error: {}: {err}", set.label());
            }
        }
    }
}
