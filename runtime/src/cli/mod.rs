//! The ops command line for the binary that embeds the migrations
//! (feature `cli`).
//!
//! Migrations are compiled into the application, so operations belong to it.
//! Nest [`Command`] under your own clap CLI:
//!
//! ```ignore
//! #[derive(clap::Subcommand)]
//! enum AppCommand {
//!     /// Inspect, apply, preview and revert the database migrations.
//!     #[command(subcommand)]
//!     Migrate(embedded_migrations::cli::Command),
//! }
//! // ...
//! AppCommand::Migrate(command) => std::process::exit(cli::run(&MIGRATIONS, &pool, command).await),
//! ```
//!
//! or, in an application without clap, one line before it starts:
//!
//! ```ignore
//! if let Some(code) = embedded_migrations::cli::dispatch(&MIGRATIONS, &pool).await {
//!     std::process::exit(code); // `app migrate ...` was asked for
//! }
//! ```
//!
//! An application with several databases mounts its whole
//! [`Targets`] value instead ([`dispatch_targets`],
//! [`run_targets`] with [`MigrateArgs`]): every command then works on every
//! set in their declared order, one section each, and `--only NAME` narrows
//! it. A value holding one set prints exactly as the single-set functions do.
//!
//! Exit codes: 0 success, 1 a migration (or the database) failed, 2 usage or
//! validation error; `check` gives 3 when migrations are pending. Results go
//! to stdout, errors to stderr.

use crate::backend::Database;
use crate::targets::{Adopt, Back, Hooks, NamedReadiness, Target, Targets, TargetsReadiness, Unit};
use crate::TenantsStatus;
use crate::{Error, Language, Migrations, Progress};
use crate::{ReadinessState, Settings, Status};
use clap::Parser;
use json::{
    print_json, SetHistory, SetPlan, SetStatus, TargetsHistory, TargetsPlan, TargetsStatus, TenantSetReport,
    TenantSetStatus, UpJson,
};
use progress::ProgressPrinter;
use set::Set;
use text::total_line;

pub use clap;
pub use command::Command;

mod command;
mod json;
pub(crate) mod output;
mod progress;
mod set;
mod tenants;
mod text;
use output::{eprintln, print, println};

/// `migrate [--only NAME]... <command>`: the command line of an application
/// with several migration sets ([`run_targets`]). Nest it in your clap CLI
/// with `Migrate(embedded_migrations::cli::MigrateArgs)`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct MigrateArgs {
    /// Only this migration set (repeat for several); every set when absent.
    /// `down`, `fresh`, `force` and `forget` need it when there are several sets.
    #[arg(long, value_name = "NAME", global = true)]
    pub only: Vec<String>,
    #[command(subcommand)]
    pub command: Command,
}

impl From<Command> for MigrateArgs {
    fn from(command: Command) -> Self {
        MigrateArgs {
            only: Vec::new(),
            command,
        }
    }
}

/// The command line of [`main`] and [`dispatch`]: one migration set.
#[derive(Parser, Debug)]
#[command(about = "Inspect, apply, preview and revert the embedded database migrations")]
struct MigrateCli {
    #[command(subcommand)]
    command: Command,
}

/// The command line of [`targets_main`] and [`dispatch_targets`].
#[derive(Parser, Debug)]
#[command(about = "Inspect, apply, preview and revert the embedded migrations of every database")]
struct TargetsCli {
    #[command(flatten)]
    args: MigrateArgs,
}

/// Runs the process's arguments as a migrate command line: `<program>
/// <command> ...`, for a binary whose whole CLI is migrations. Returns the exit
/// code (usage errors print clap's message and give 2; `--help` gives 0).
pub async fn main<L: Language, D: Database<Language = L>>(migrations: &Migrations<L>, db: &D) -> i32 {
    from_args(migrations, Settings::default(), db, std::env::args_os()).await
}

/// When the process was started as `<program> migrate <command> ...`, runs
/// that command and returns its exit code; otherwise returns `None` and the
/// application goes on.
pub async fn dispatch<L: Language, D: Database<Language = L>>(migrations: &Migrations<L>, db: &D) -> Option<i32> {
    dispatch_with(migrations, Settings::default(), db).await
}

/// [`dispatch`] with the settings the application applies its migrations with.
pub async fn dispatch_with<L: Language, D: Database<Language = L>>(
    migrations: &Migrations<L>,
    settings: Settings,
    db: &D,
) -> Option<i32> {
    let args = migrate_args(std::env::args_os().collect())?;
    Some(from_args(migrations, settings, db, args).await)
}

/// [`main`] for every migration set of the application.
pub async fn targets_main(targets: &Targets<'_>) -> i32 {
    targets_from_args(targets, std::env::args_os()).await
}

/// [`dispatch`] for every migration set of the application: `app migrate
/// [--only NAME] <command>`.
pub async fn dispatch_targets(targets: &Targets<'_>) -> Option<i32> {
    let args = migrate_args(std::env::args_os().collect())?;
    Some(targets_from_args(targets, args).await)
}

/// `[app, migrate, status, ...]` -> `[app migrate, status, ...]`, so that
/// usage lines read `app migrate <COMMAND>`; `None` for any other command line.
fn migrate_args(mut args: Vec<std::ffi::OsString>) -> Option<Vec<std::ffi::OsString>> {
    if args.get(1).is_none_or(|arg| arg != "migrate") {
        return None;
    }
    let program = args.remove(0);
    args[0] = format!("{} migrate", program.to_string_lossy()).into();
    Some(args)
}

/// Parses `args` (the first is the program name) and runs the command.
pub async fn from_args<L, D, I, T>(migrations: &Migrations<L>, settings: Settings, db: &D, args: I) -> i32
where
    L: Language,
    D: Database<Language = L>,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match MigrateCli::try_parse_from(args) {
        Ok(cli) => run_with(migrations, settings, db, cli.command).await,
        Err(err) => {
            let _ = err.print();
            err.exit_code()
        }
    }
}

/// Parses `args` (the first is the program name) and runs the command on
/// the sets it selects.
pub async fn targets_from_args<I, T>(targets: &Targets<'_>, args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match TargetsCli::try_parse_from(args) {
        Ok(cli) => run_targets(targets, cli.args).await,
        Err(err) => {
            let _ = err.print();
            err.exit_code()
        }
    }
}

/// Runs one command with the default settings; returns the exit code.
pub async fn run<L: Language, D: Database<Language = L>>(migrations: &Migrations<L>, db: &D, command: Command) -> i32 {
    run_with(migrations, Settings::default(), db, command).await
}

/// Runs one command with `settings` (table name, allow out-of-order, ...);
/// returns the exit code: 0 ok, 1 a migration or the database failed, 2
/// usage or validation.
pub async fn run_with<L: Language, D: Database<Language = L>>(
    migrations: &Migrations<L>,
    settings: Settings,
    db: &D,
    command: Command,
) -> i32 {
    let targets = Targets::new().push(Target::borrowed("default", migrations, db, settings));
    run_targets(&targets, command.into()).await
}

/// Runs one command on the sets `args.only` names (every set when empty), in
/// their declared order (`down` and `fresh`: reverse order); returns the exit
/// code.
pub async fn run_targets(targets: &Targets<'_>, args: MigrateArgs) -> i32 {
    let result = match Ops::new(targets, &args.only) {
        Ok(ops) => ops.execute(args.command).await,
        Err(failure) => Err(failure),
    };
    output::flush();
    match result {
        Ok(()) => 0,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            2
        }
        Err(Failure::Migrations(err)) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
        Err(Failure::Reported(code)) => code,
    }
}

enum Failure {
    Usage(String),
    /// Boxed: an `Error` is large, and most results here are `Ok`.
    Migrations(Box<Error>),
    /// The messages are printed already; this is the exit code.
    Reported(i32),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Migrations(Box::new(err))
    }
}

/// One command over the selected sets.
struct Ops<'t, 'a> {
    targets: &'t Targets<'a>,
    selected: Vec<Set<'t, 'a>>,
    /// Several sets (or a tenant set) are mounted: one section per set, then a total.
    sections: bool,
    /// Every set's name (a tenant set's, not each tenant's), for messages.
    names: Vec<String>,
    /// `--only` was given: the user named the sets.
    named: bool,
}

impl<'t, 'a> Ops<'t, 'a> {
    fn new(targets: &'t Targets<'a>, only: &[String]) -> Result<Self, Failure> {
        let names = tenants::set_names(targets);
        for name in only {
            if targets.get(name).is_none() && targets.group(name).is_none() {
                let kind = match targets.tenant_set_names().is_empty() {
                    true => "migration set",
                    false => "migration set, tenant set or tenant",
                };
                return Err(Failure::Usage(format!(
                    "no {kind} is named `{name}`; the sets are: {}",
                    names.join(", ")
                )));
            }
        }
        // `--only` takes a set's name, a tenant's, or a tenant set's (all its tenants).
        let selected = targets
            .iter()
            .filter(|t| {
                only.is_empty()
                    || only
                        .iter()
                        .any(|name| name == t.name() || Some(name.as_str()) == t.group())
            })
            .map(Set::new)
            .collect();
        Ok(Ops {
            targets,
            selected,
            sections: targets.len() > 1 || !targets.tenant_set_names().is_empty(),
            names,
            named: !only.is_empty(),
        })
    }

    async fn execute(&self, command: Command) -> Result<(), Failure> {
        match command {
            Command::Status { json, all } => self.status(json, all).await,
            Command::Up {
                to,
                dry_run,
                concurrency,
                json,
            } => self.up(to, dry_run, concurrency.map(usize::from), json).await,
            Command::Plan { to, json } => self.plan(to, json).await,
            Command::Down {
                steps,
                to,
                dry_run,
                reason,
            } => {
                let back = match to {
                    Some(to) => Back::To(to),
                    None => Back::Steps(steps.unwrap_or(1) as usize),
                };
                self.down(back, to.is_some(), dry_run, reason).await
            }
            Command::Validate => self.validate().await,
            Command::History { json } => self.history(json).await,
            Command::Check { json } => self.check(json).await,
            Command::Force { version } => {
                let set = self.one("force")?;
                set.target.force(version).await.map_err(|err| self.blame(set, err))?;
                println!(
                    "marked {} {} as applied; nothing was run",
                    set.v(version),
                    set.name_of(version)
                );
                Ok(())
            }
            Command::Forget { version } => {
                let set = self.one("forget")?;
                set.target.forget(version).await.map_err(|err| self.blame(set, err))?;
                println!("removed the record of {}; nothing was run", set.v(version));
                Ok(())
            }
            Command::Repair { accept_edit, reason } => {
                let set = self.one("repair")?;
                let repair = set
                    .target
                    .repair(accept_edit, reason.as_deref())
                    .await
                    .map_err(|err| self.blame(set, err))?;
                match repair.changed() {
                    true => println!("{}; nothing was run", repair.describe()),
                    false => println!("{}", repair.describe()),
                }
                Ok(())
            }
            Command::Baseline {
                version,
                reason,
                dry_run,
            } => self.adopt(Adopt::Baseline(version), reason, dry_run).await,
            Command::Import { tool, dry_run } => self.adopt(Adopt::Import(tool), None, dry_run).await,
            Command::Fresh { yes } => self.fresh(yes).await,
            Command::Verify { yes: false } => Err(Failure::Usage(
                "verify runs every down file; point the application at a scratch database and run `migrate verify --yes`"
                    .to_string(),
            )),
            Command::Verify { yes: true } => {
                let set = self.one("verify")?;
                set.target.verify_cli().await.map_err(|err| self.blame(set, err))?;
                Ok(())
            }
            Command::Schema { action } => {
                let set = self.one("schema")?;
                set.target.schema_cli(action).await.map_err(|err| self.blame(set, err))?;
                Ok(())
            }
        }
    }

    /// `baseline` and `import`: one set, its tracking rows written (or, dry
    /// run, listed) without running a migration.
    async fn adopt(&self, from: Adopt, reason: Option<String>, dry_run: bool) -> Result<(), Failure> {
        let command = match from {
            Adopt::Baseline(_) => "baseline",
            Adopt::Import(_) => "import",
        };
        let set = self.one(command)?;
        let hooks = Hooks {
            reason: reason.as_deref(),
            progress: None,
        };
        let adoption = set
            .target
            .adopt_with(from, dry_run, hooks)
            .await
            .map_err(|err| self.blame(set, err))?;
        let verb = if dry_run { "would record" } else { "recorded" };
        for m in &adoption.recorded {
            println!(
                "{verb} {} {} as applied (not run), checksum {}",
                set.v(m.version),
                m.name,
                &m.checksum[..12]
            );
        }
        if !adoption.already_recorded.is_empty() {
            let versions: Vec<String> = adoption.already_recorded.iter().map(|v| set.v(*v)).collect();
            println!("already recorded: {}", versions.join(", "));
        }
        println!(
            "{} {} migration(s) with history reason `{}`; nothing was run{}",
            verb,
            adoption.recorded.len(),
            adoption.reason,
            if dry_run { ", nothing was changed" } else { "" }
        );
        Ok(())
    }

    /// With several sets an error says which one it comes from.
    fn blame(&self, set: &Set, err: Error) -> Failure {
        if self.sections {
            set.target.blame(err).into()
        } else {
            err.into()
        }
    }

    /// `== name ==` before a set's output when several sets are mounted.
    fn section(&self, index: usize, set: &Set) {
        if self.sections {
            if index > 0 {
                println!();
            }
            println!("== {} ==", set.target.name());
        }
    }

    /// The one set a command that changes a single record works on.
    fn one(&self, command: &str) -> Result<&Set<'t, 'a>, Failure> {
        match self.selected.as_slice() {
            [set] => Ok(set),
            _ => Err(Failure::Usage(format!(
                "`{command}` works on one migration set: name it with --only NAME (the sets are: {})",
                self.names.join(", ")
            ))),
        }
    }

    /// Commands that destroy data do not run across every set by default.
    fn explicit(&self, command: &str) -> Result<(), Failure> {
        if self.sections && !self.named {
            return Err(Failure::Usage(format!(
                "`{command}` reverts migrations, so with several migration sets it needs --only NAME \
                 (repeatable) to say which (the sets are: {})",
                self.names.join(", ")
            )));
        }
        Ok(())
    }

    /// `--to` is a version of one set's folder.
    fn one_for_version(&self, command: &str) -> Result<(), Failure> {
        if self.selected.len() > 1 {
            return Err(Failure::Usage(format!(
                "`{command} --to` names a version of one migration set: add --only NAME (the sets are: {})",
                self.names.join(", ")
            )));
        }
        Ok(())
    }

    /// The selected sets with each tenant set's tenants gathered.
    fn units(&self) -> Vec<Unit<'t, &Set<'t, 'a>>> {
        self.targets.units(&self.selected, |set| set.target)
    }

    async fn status(&self, json: bool, all: bool) -> Result<(), Failure> {
        if !self.sections {
            let set = &self.selected[0];
            let status = set.target.status().await?;
            match json {
                true => print_json(&status),
                false => print!("{}", set.status_table(&status)),
            }
            return Ok(());
        }
        // Everything is read first: the JSON is one document.
        let mut read = Vec::new();
        for unit in self.units() {
            read.push(match unit {
                Unit::One(set) => Read::One(set, set.target.status().await),
                Unit::Tenants(group, members) => {
                    let targets: Vec<&Target> = members.iter().map(|set| set.target).collect();
                    let status = crate::tenants::status_each(&targets, group.concurrency).await;
                    Read::Tenants(group, members, status)
                }
            });
        }
        let statuses: Vec<&Result<Status, Error>> = read
            .iter()
            .filter_map(|r| match r {
                Read::One(_, status) => Some(status),
                Read::Tenants(..) => None,
            })
            .collect();
        let groups: Vec<(&str, &TenantsStatus)> = read
            .iter()
            .filter_map(|r| match r {
                Read::Tenants(group, _, status) => Some((group.name.as_str(), status)),
                Read::One(..) => None,
            })
            .collect();
        let failed = statuses.iter().any(|r| r.is_err()) || groups.iter().any(|(_, g)| g.failed > 0);
        if json {
            let ok: Vec<&Status> = statuses.iter().filter_map(|r| r.as_ref().ok()).collect();
            print_json(&TargetsStatus {
                up_to_date: !failed
                    && ok.iter().all(|s| s.is_up_to_date())
                    && groups.iter().all(|(_, g)| g.all_ready()),
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
            });
        } else {
            for (i, r) in read.iter().enumerate() {
                match r {
                    Read::One(set, result) => {
                        self.section(i, set);
                        match result {
                            Ok(status) => print!("{}", set.status_table(status)),
                            Err(err) => {
                                println!("cannot read this set's status (see the error below)");
                                eprintln!("error: migration set `{}`: {err}", set.target.name());
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
            println!("\n{}", total_line(&statuses, &groups));
        }
        if failed {
            return Err(Failure::Reported(1));
        }
        Ok(())
    }

    async fn up(&self, to: Option<i64>, dry_run: bool, concurrency: Option<usize>, json: bool) -> Result<(), Failure> {
        if to.is_some() {
            self.one_for_version("up")?;
        }
        if dry_run && json {
            return Err(Failure::Usage(
                "`up --dry-run` prints a script; for JSON run `migrate plan --json`".to_string(),
            ));
        }
        let mut done = UpJson::default();
        let mut result = Ok(());
        let mut shown = 0;
        for unit in self.units() {
            let step = match unit {
                Unit::Tenants(group, members) if !dry_run => {
                    shown += 1;
                    self.up_tenants(shown - 1, group, &members, concurrency, json, &mut done)
                        .await
                }
                // A dry run plans each tenant in turn, a section each.
                Unit::Tenants(_, members) => {
                    let mut step = Ok(());
                    for set in members {
                        shown += 1;
                        step = self.up_one(shown - 1, set, to, true, json, &mut done).await;
                        if step.is_err() {
                            break;
                        }
                    }
                    step
                }
                Unit::One(set) => {
                    shown += 1;
                    self.up_one(shown - 1, set, to, dry_run, json, &mut done).await
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

    async fn up_one(
        &self,
        index: usize,
        set: &Set<'t, 'a>,
        to: Option<i64>,
        dry_run: bool,
        json: bool,
        done: &mut UpJson,
    ) -> Result<(), Failure> {
        let target = set.target;
        if json {
            let report = target
                .up_with(to, Hooks::default())
                .await
                .map_err(|err| self.blame(set, err))?;
            done.targets.push(crate::TargetReport {
                name: target.name().to_string(),
                report,
            });
            return Ok(());
        }
        self.section(index, set);
        if dry_run {
            let plan = match to {
                Some(to) => target.plan_to(to).await,
                None => target.plan().await,
            };
            print!(
                "{}",
                set.plan_text(&plan.map_err(|err| self.blame(set, err))?, "applied", "dry run")
            );
            return Ok(());
        }
        let printer = ProgressPrinter::new(&set.versions);
        let progress = |p: &Progress| printer.event(p);
        let hooks = Hooks {
            reason: None,
            progress: Some(&progress),
        };
        let report = target.up_with(to, hooks).await;
        printer.interrupted();
        let report = report.map_err(|err| self.blame(set, err))?;
        let status = target.status().await.map_err(|err| self.blame(set, err))?;
        if report.is_empty() {
            println!(
                "nothing to apply; at version {} ({} pending)",
                set.v(status.current_version()),
                status.pending_count()
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

    /// A tenant set's tenants, `concurrency` at a time (no progress lines:
    /// they would interleave); each failure is named, and the others go on
    /// unless the tenant set stops on failure.
    async fn up_tenants(
        &self,
        index: usize,
        group: &crate::targets::Group,
        members: &[&Set<'t, 'a>],
        concurrency: Option<usize>,
        json: bool,
        done: &mut UpJson,
    ) -> Result<(), Failure> {
        let targets: Vec<&Target> = members.iter().map(|set| set.target).collect();
        let at_once = concurrency.unwrap_or(group.concurrency);
        if !json {
            if index > 0 {
                println!();
            }
            println!("== {} ({} tenants, {at_once} at a time) ==", group.name, members.len());
        }
        let report = crate::tenants::run_each(&targets, at_once, group.stop_on_failure).await;
        if !json {
            print!("{}", tenants::up_text(members[0], &report));
        }
        let mut code = 0;
        for (name, err) in report.failures() {
            eprintln!("error: tenant `{name}`: {err}");
            code = code.max(err.exit_code());
        }
        if json {
            done.tenant_sets.push(TenantSetReport {
                name: group.name.clone(),
                report,
            });
        }
        match code {
            0 => Ok(()),
            code => Err(Failure::Reported(code)),
        }
    }

    /// `plan`: what `up` would apply, every selected set planned even when
    /// one cannot be; writes nothing.
    async fn plan(&self, to: Option<i64>, json: bool) -> Result<(), Failure> {
        if to.is_some() {
            self.one_for_version("plan")?;
        }
        let mut plans = Vec::with_capacity(self.selected.len());
        for set in &self.selected {
            plans.push(match to {
                Some(to) => set.target.plan_to(to).await,
                None => set.target.plan().await,
            });
        }
        let codes: Vec<i32> = plans
            .iter()
            .map(|plan| match plan {
                Err(err) => err.exit_code(),
                Ok(plan) if plan.steps.is_empty() => 0,
                Ok(_) => 3,
            })
            .collect();
        // As `check`: an unreadable database first, then a refusal, then pending work.
        let code = [1, 2, 3].into_iter().find(|c| codes.contains(c)).unwrap_or(0);
        if !self.sections {
            let plan = plans.pop().expect("one set")?;
            match json {
                true => print_json(&plan),
                false => print!("{}", self.selected[0].plan_text(&plan, "applied", "plan")),
            }
            return match code {
                0 => Ok(()),
                code => Err(Failure::Reported(code)),
            };
        }
        if json {
            print_json(&TargetsPlan {
                pending_count: plans.iter().flatten().map(|p| p.steps.len()).sum(),
                targets: self
                    .selected
                    .iter()
                    .zip(&plans)
                    .map(|(set, plan)| SetPlan {
                        name: set.target.name(),
                        plan: plan.as_ref().ok(),
                        error: plan.as_ref().err().map(Error::to_string),
                    })
                    .collect(),
            });
        }
        // A tenant with nothing to apply is counted, not given a section:
        // with hundreds of tenants the plan shows the ones that would change.
        let mut shown = 0;
        let mut idle_tenants = 0;
        for (set, plan) in self.selected.iter().zip(&plans) {
            if set.target.group().is_some() && plan.as_ref().is_ok_and(|p| p.steps.is_empty()) {
                idle_tenants += 1;
                continue;
            }
            if !json {
                self.section(shown, set);
            }
            shown += 1;
            match plan {
                Ok(plan) if !json => print!("{}", set.plan_text(plan, "applied", "plan")),
                Ok(_) => {}
                Err(err) => {
                    if !json {
                        println!("cannot plan this set (see the error below)");
                    }
                    eprintln!("error: migration set `{}`: {err}", set.target.name());
                }
            }
        }
        if idle_tenants > 0 && !json {
            println!("\n{idle_tenants} tenant(s) with nothing to apply are not listed");
        }
        match code {
            0 => Ok(()),
            code => Err(Failure::Reported(code)),
        }
    }

    async fn down(&self, back: Back, to_given: bool, dry_run: bool, reason: Option<String>) -> Result<(), Failure> {
        self.explicit("down")?;
        if to_given {
            self.one_for_version("down")?;
        }
        // Newest first: a later set may depend on an earlier one.
        for (i, set) in self.selected.iter().rev().enumerate() {
            self.section(i, set);
            let target = set.target;
            if dry_run {
                let plan = target.plan_down_with(back).await.map_err(|err| self.blame(set, err))?;
                print!("{}", set.plan_text(&plan, "reverted", "dry run"));
                continue;
            }
            let printer = ProgressPrinter::new(&set.versions);
            let progress = |p: &Progress| printer.event(p);
            let hooks = Hooks {
                reason: reason.as_deref(),
                progress: Some(&progress),
            };
            let report = target.down_with(back, hooks).await;
            printer.interrupted();
            let report = report.map_err(|err| self.blame(set, err))?;
            let status = target.status().await.map_err(|err| self.blame(set, err))?;
            if report.is_empty() {
                println!("nothing to revert; at version {}", set.v(status.current_version()));
            } else {
                println!(
                    "reverted {} migration(s); now at version {}",
                    report.steps.len(),
                    set.v(status.current_version())
                );
            }
        }
        Ok(())
    }

    async fn validate(&self) -> Result<(), Failure> {
        let mut code = 0;
        for (i, set) in self.selected.iter().enumerate() {
            self.section(i, set);
            match set.target.validate().await {
                Ok(status) => println!(
                    "ok: {} applied, {} pending; at version {}, latest {}",
                    status.applied_count(),
                    status.pending_count(),
                    set.v(status.current_version()),
                    set.v(status.latest_version())
                ),
                Err(err) if !self.sections => return Err(err.into()),
                Err(err) => {
                    println!("problems found (see the error below)");
                    eprintln!("error: migration set `{}`: {err}", set.target.name());
                    code = code.max(err.exit_code());
                }
            }
        }
        match code {
            0 => Ok(()),
            code => Err(Failure::Reported(code)),
        }
    }

    async fn history(&self, json: bool) -> Result<(), Failure> {
        let mut histories = Vec::with_capacity(self.selected.len());
        for set in &self.selected {
            histories.push(set.target.history().await);
        }
        if !self.sections {
            let history = histories.pop().expect("one set")?;
            if json {
                print_json(&history);
            } else {
                print!("{}", self.selected[0].history_table(&history));
            }
            return Ok(());
        }
        let mut failed = false;
        if json {
            let targets: Vec<SetHistory> = self
                .selected
                .iter()
                .zip(&histories)
                .map(|(set, result)| SetHistory {
                    name: set.target.name(),
                    history: result.as_ref().ok(),
                    error: result.as_ref().err().map(Error::to_string),
                })
                .collect();
            failed = histories.iter().any(Result::is_err);
            print_json(&TargetsHistory { targets });
        } else {
            for (i, (set, result)) in self.selected.iter().zip(&histories).enumerate() {
                self.section(i, set);
                match result {
                    Ok(history) => print!("{}", set.history_table(history)),
                    Err(err) => {
                        failed = true;
                        println!("cannot read this set's history (see the error below)");
                        eprintln!("error: migration set `{}`: {err}", set.target.name());
                    }
                }
            }
        }
        if failed {
            return Err(Failure::Reported(1));
        }
        Ok(())
    }

    /// Reads only (validate and status); the exit code is the worst set's.
    async fn check(&self, json: bool) -> Result<(), Failure> {
        let mut sets = Vec::with_capacity(self.selected.len());
        for set in &self.selected {
            sets.push(NamedReadiness {
                name: set.target.name().to_string(),
                readiness: set.target.readiness().await,
            });
        }
        if json {
            if self.sections {
                print_json(&TargetsReadiness {
                    ready: sets.iter().all(|s| s.readiness.up_to_date),
                    targets: sets.clone(),
                });
            } else {
                print_json(&sets[0].readiness);
            }
        } else {
            let mut ready_tenants = 0;
            for (set, named) in self.selected.iter().zip(&sets) {
                // A ready tenant is counted, not listed (as in `status`).
                if set.target.group().is_some() && named.readiness.state == ReadinessState::Ready {
                    ready_tenants += 1;
                    continue;
                }
                let prefix = if self.sections {
                    format!("{}: ", named.name)
                } else {
                    String::new()
                };
                println!("{prefix}{}", set.readiness_line(&named.readiness));
            }
            if ready_tenants > 0 {
                println!("{ready_tenants} tenant(s) ready: at the latest version");
            }
        }
        for (set, named) in self.selected.iter().zip(&sets) {
            if let Some(error) = &named.readiness.error {
                match self.sections {
                    true => eprintln!("error: migration set `{}`: {error}", set.target.name()),
                    false => eprintln!("error: {error}"),
                }
            }
        }
        let states: Vec<ReadinessState> = sets.iter().map(|s| s.readiness.state).collect();
        // An unreadable database first, then a problem, then pending work.
        let code = if states.contains(&ReadinessState::Error) {
            1
        } else if states.iter().any(|s| s.exit_code() == 2) {
            2
        } else if states.contains(&ReadinessState::Pending) {
            3
        } else {
            0
        };
        match code {
            0 => Ok(()),
            code => Err(Failure::Reported(code)),
        }
    }

    async fn fresh(&self, yes: bool) -> Result<(), Failure> {
        self.explicit("fresh")?;
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
        for set in &self.selected {
            if let Err(err) = set.target.plan_down_to(0).await {
                eprintln!("fresh refused before changing anything:");
                return Err(self.blame(set, err));
            }
        }
        for (i, set) in self.selected.iter().enumerate() {
            self.section(i, set);
            let printer = ProgressPrinter::new(&set.versions);
            let progress = |p: &Progress| printer.event(p);
            let hooks = Hooks {
                reason: Some("fresh"),
                progress: Some(&progress),
            };
            let reverted = set.target.down_with(Back::To(0), hooks).await;
            printer.interrupted();
            let reverted = reverted.map_err(|err| self.blame(set, err))?;
            let applied = set.target.up_with(None, hooks).await;
            printer.interrupted();
            let applied = applied.map_err(|err| self.blame(set, err))?;
            println!(
                "fresh: reverted {}, applied {} migration(s)",
                reverted.steps.len(),
                applied.steps.len()
            );
        }
        Ok(())
    }
}

/// One set's or tenant set's status as read, in declared order.
enum Read<'t, 'a, 's> {
    One(&'s Set<'t, 'a>, Result<Status, Error>),
    Tenants(&'t crate::targets::Group, Vec<&'s Set<'t, 'a>>, TenantsStatus),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_lines_are_consistent() {
        MigrateCli::command().debug_assert();
        TargetsCli::command().debug_assert();
    }

    #[test]
    fn only_goes_before_or_after_the_command_and_repeats() {
        let parse = |args: &[&str]| TargetsCli::try_parse_from(args).map(|c| c.args);
        let expected = MigrateArgs {
            only: vec!["graph".to_string()],
            command: Command::Status { json: true, all: false },
        };
        assert_eq!(parse(&["m", "--only", "graph", "status", "--json"]).unwrap(), expected);
        assert_eq!(parse(&["m", "status", "--json", "--only", "graph"]).unwrap(), expected);
        assert_eq!(
            parse(&["m", "down", "--only", "a", "--only", "b"]).unwrap().only,
            ["a", "b"]
        );
        assert!(MigrateCli::try_parse_from(["m", "status", "--only", "graph"]).is_err());
    }

    #[test]
    fn up_takes_a_concurrency_of_at_least_one_and_plan_is_its_own_command() {
        let parse = |args: &[&str]| MigrateCli::try_parse_from(args).map(|c| c.command);
        assert_eq!(
            parse(&["m", "up", "--concurrency", "8", "--json"]).unwrap(),
            Command::Up {
                to: None,
                dry_run: false,
                concurrency: Some(8),
                json: true
            }
        );
        assert!(parse(&["m", "up", "--concurrency", "0"]).is_err());
        assert_eq!(
            parse(&["m", "plan", "--to", "3", "--json"]).unwrap(),
            Command::Plan {
                to: Some(3),
                json: true
            }
        );
        assert_eq!(
            parse(&["m", "status", "--all"]).unwrap(),
            Command::Status { json: false, all: true }
        );
    }

    #[test]
    fn down_takes_a_count_or_a_target_not_both() {
        let parse = |args: &[&str]| MigrateCli::try_parse_from(args).map(|c| c.command);
        assert_eq!(
            parse(&["m", "down", "3", "--reason", "bad deploy"]).unwrap(),
            Command::Down {
                steps: Some(3),
                to: None,
                dry_run: false,
                reason: Some("bad deploy".to_string())
            }
        );
        assert!(parse(&["m", "down", "3", "--to", "1"]).is_err());
        assert!(parse(&["m", "down", "0"]).is_err());
        assert!(parse(&["m", "up", "--to", "x"]).is_err());
    }

    #[test]
    fn dispatch_takes_only_the_migrate_command_line() {
        let os = |args: &[&str]| args.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(migrate_args(os(&["app"])), None);
        assert_eq!(migrate_args(os(&["app", "serve", "migrate"])), None);
        assert_eq!(
            migrate_args(os(&["app", "migrate", "down", "2"])),
            Some(os(&["app migrate", "down", "2"]))
        );
    }
}
