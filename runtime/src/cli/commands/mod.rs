//! Each `migrate` command's work, a file per group of commands; [`execute`]
//! routes a parsed [`Command`] to its function. A command reads its sets
//! from [`Ops`], prints through `cli/output.rs`, and returns a [`Failure`]
//! that becomes the exit code.

mod check;
mod down;
mod history;
mod lint;
mod plan;
mod records;
mod schema;
mod status;
mod up;

use super::command::Command;
use super::failure::Failure;
use super::ops::Ops;
use crate::engine::DownTarget;
use records::Adopt;

/// Runs `command` on the sets `ops` selected.
pub(super) async fn execute(ops: &Ops<'_, '_>, command: Command) -> Result<(), Failure> {
    match command {
        Command::Status { json, all } => status::status(ops, json, all).await,
        Command::Up {
            to,
            dry_run,
            concurrency,
            per_server,
            json,
        } => {
            let limits = (concurrency.map(usize::from), per_server.map(usize::from));
            up::up(ops, to, dry_run, limits, json).await
        }
        Command::Plan { to, json } => plan::plan(ops, to, json).await,
        Command::Down {
            steps,
            to,
            dry_run,
            reason,
            backup,
            backup_tool,
        } => {
            let back = match to {
                Some(to) => DownTarget::Version(to),
                None => DownTarget::Steps(steps.unwrap_or(1) as usize),
            };
            let backup = backup.map(|path| {
                let backup = crate::Backup::to(path);
                match backup_tool {
                    Some(tool) => backup.tool(tool),
                    None => backup,
                }
            });
            let how = down::How {
                to_given: to.is_some(),
                dry_run,
                reason,
                backup,
            };
            down::down(ops, back, how).await
        }
        Command::Validate => check::validate(ops).await,
        Command::Lint { json } => lint::lint(ops, json).await,
        Command::History { json } => history::history(ops, json).await,
        Command::Check { json } => check::check(ops, json).await,
        Command::Force { version } => records::force(ops, version).await,
        Command::Forget { version } => records::forget(ops, &version).await,
        Command::Repair { accept_edit, reason } => records::repair(ops, accept_edit, reason).await,
        Command::Baseline {
            version,
            reason,
            dry_run,
        } => records::adopt(ops, Adopt::Baseline(version), reason, dry_run).await,
        Command::Import { tool, dry_run } => records::adopt(ops, Adopt::Import(tool), None, dry_run).await,
        Command::Fresh { yes } => down::fresh(ops, yes).await,
        Command::Verify { yes } => schema::verify(ops, yes).await,
        Command::Schema { action } => schema::schema(ops, action).await,
    }
}
