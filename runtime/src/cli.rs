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
//! Exit codes: 0 success, 1 a migration (or the database) failed, 2 usage or
//! validation error. Results go to stdout, errors to stderr.

use crate::backend::Database;
use crate::{Direction, Error, HistoryEntry, Language, MigrationState, Migrations, Plan, Progress, ProgressEvent};
use crate::{Settings, Status};
use clap::{Parser, Subcommand};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use clap;

/// `migrate <command>`.
#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Show every migration: version, name, description, state, applied at, duration.
    Status {
        /// Print JSON for deploy scripts (current and latest version, pending count, every migration).
        #[arg(long)]
        json: bool,
    },
    /// Apply pending migrations.
    Up {
        /// Stop after this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Print the statements that would run, in order, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Revert the last applied migration, the last N, or every one above a version.
    Down {
        /// How many to revert (default 1).
        #[arg(value_name = "N", value_parser = parse_steps, conflicts_with = "to")]
        steps: Option<u32>,
        /// Revert every migration above this version (0 reverts all).
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Print the statements that would run, in order, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Why: stored in the history with each reverted migration.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Compare the database with this binary: drift, missing, dirty, out of order.
    Validate,
    /// Every up and down run, with duration, success and reason.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark a version as applied without running it (recovery after a failed
    /// migration was finished by hand).
    Force {
        #[arg(value_name = "VERSION")]
        version: i64,
    },
    /// Remove the record of a version without running anything (recovery
    /// after a failed migration was undone by hand).
    Forget {
        #[arg(value_name = "VERSION")]
        version: i64,
    },
    /// On a scratch database: apply, revert and re-apply each migration,
    /// checking that each down file restores the schema exactly. Destroys data.
    Verify {
        /// Required: verify runs every down file on this database.
        #[arg(long)]
        yes: bool,
    },
    /// Record the schema the migrations left, or check it for changes made by hand.
    Schema {
        #[command(subcommand)]
        action: crate::snapshot::cli::SchemaAction,
    },
    /// Revert every applied migration, then apply them all again. Destroys data.
    Fresh {
        /// Required: fresh drops everything the migrations created.
        #[arg(long)]
        yes: bool,
    },
}

fn parse_steps(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("N is how many migrations to revert, a whole number from 1 (use `--to 0` to revert all)".to_string()),
    }
}

/// The command line of [`main`] and [`dispatch`].
#[derive(Parser, Debug)]
#[command(about = "Inspect, apply, preview and revert the embedded database migrations")]
struct MigrateCli {
    #[command(subcommand)]
    command: Command,
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
    let ops = Ops {
        migrations,
        settings,
        versions: version_texts(migrations),
    };
    let result = ops.execute(db, command).await;
    let _ = std::io::stdout().flush();
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
    }
}

enum Failure {
    Usage(String),
    Migrations(Error),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Migrations(err)
    }
}

struct Ops<'a, L: Language> {
    migrations: &'a Migrations<L>,
    settings: Settings,
    /// Versions as the files write them (`003`), for output a person matches
    /// against the folder.
    versions: HashMap<i64, &'static str>,
}

fn version_texts<L: Language>(migrations: &Migrations<L>) -> HashMap<i64, &'static str> {
    migrations
        .migrations()
        .iter()
        .map(|m| (m.version, m.up.file.split('_').next().unwrap_or(m.up.file)))
        .collect()
}

fn version_text(versions: &HashMap<i64, &'static str>, version: i64) -> String {
    match versions.get(&version) {
        Some(text) => text.to_string(),
        None => version.to_string(),
    }
}

fn format_duration(duration: Duration) -> String {
    format_ms(duration.as_millis() as i64)
}

fn format_ms(ms: i64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl<L: Language> Ops<'_, L> {
    fn v(&self, version: i64) -> String {
        version_text(&self.versions, version)
    }

    async fn execute<D: Database<Language = L>>(&self, db: &D, command: Command) -> Result<(), Failure> {
        match command {
            Command::Status { json } => {
                let status = self.migrations.with(self.settings.clone()).status(db).await?;
                if json {
                    print!("{}", status_json(&status));
                } else {
                    print!("{}", self.status_table(&status));
                }
                Ok(())
            }
            Command::Up { to, dry_run } => self.up(db, to, dry_run).await,
            Command::Down {
                steps,
                to,
                dry_run,
                reason,
            } => self.down(db, steps, to, dry_run, reason).await,
            Command::Validate => self.validate(db).await,
            Command::History { json } => {
                let history = self.migrations.with(self.settings.clone()).history(db).await?;
                if json {
                    print!("{}", history_json(&history));
                } else {
                    print!("{}", self.history_table(&history));
                }
                Ok(())
            }
            Command::Force { version } => {
                self.migrations.with(self.settings.clone()).force(db, version).await?;
                println!(
                    "marked {} {} as applied; nothing was run",
                    self.v(version),
                    self.name_of(version)
                );
                Ok(())
            }
            Command::Forget { version } => {
                self.migrations.with(self.settings.clone()).forget(db, version).await?;
                println!("removed the record of {}; nothing was run", self.v(version));
                Ok(())
            }
            Command::Fresh { yes } => self.fresh(db, yes).await,
            Command::Verify { yes: false } => Err(Failure::Usage(
                "verify runs every down file; point the application at a scratch database and run `migrate verify --yes`"
                    .to_string(),
            )),
            Command::Verify { yes: true } => Ok(crate::snapshot::cli::verify(self.migrations, self.settings.clone(), db).await?),
            Command::Schema { action } => {
                Ok(crate::snapshot::cli::schema(self.migrations, self.settings.clone(), db, action).await?)
            }
        }
    }

    fn name_of(&self, version: i64) -> &'static str {
        self.migrations
            .migrations()
            .iter()
            .find(|m| m.version == version)
            .map_or("", |m| m.name)
    }

    async fn up<D: Database<Language = L>>(&self, db: &D, to: Option<i64>, dry_run: bool) -> Result<(), Failure> {
        let migrator = self.migrations.with(self.settings.clone());
        if dry_run {
            let plan = match to {
                Some(to) => migrator.plan_to(db, to).await?,
                None => migrator.plan(db).await?,
            };
            print!("{}", self.plan_text(&plan, "applied"));
            return Ok(());
        }
        let printer = ProgressPrinter::new(&self.versions);
        let progress = |p: &Progress| printer.event(p);
        let migrator = migrator.on_progress(&progress);
        let report = match to {
            Some(to) => migrator.run_to(db, to).await,
            None => migrator.run(db).await,
        };
        printer.interrupted();
        let report = report?;
        let status = self.migrations.with(self.settings.clone()).status(db).await?;
        if report.is_empty() {
            println!(
                "nothing to apply; at version {} ({} pending)",
                self.v(status.current_version()),
                status.pending_count()
            );
        } else {
            println!(
                "applied {} migration(s); now at version {}",
                report.steps.len(),
                self.v(status.current_version())
            );
        }
        Ok(())
    }

    async fn down<D: Database<Language = L>>(
        &self,
        db: &D,
        steps: Option<u32>,
        to: Option<i64>,
        dry_run: bool,
        reason: Option<String>,
    ) -> Result<(), Failure> {
        let mut migrator = self.migrations.with(self.settings.clone());
        if let Some(reason) = reason {
            migrator = migrator.reason(reason);
        }
        let steps = steps.unwrap_or(1) as usize;
        if dry_run {
            let plan = match to {
                Some(to) => migrator.plan_down_to(db, to).await?,
                None => migrator.plan_down(db, steps).await?,
            };
            print!("{}", self.plan_text(&plan, "reverted"));
            return Ok(());
        }
        let printer = ProgressPrinter::new(&self.versions);
        let progress = |p: &Progress| printer.event(p);
        let migrator = migrator.on_progress(&progress);
        let report = match to {
            Some(to) => migrator.down_to(db, to).await,
            None => migrator.down(db, steps).await,
        };
        printer.interrupted();
        let report = report?;
        let status = self.migrations.with(self.settings.clone()).status(db).await?;
        if report.is_empty() {
            println!("nothing to revert; at version {}", self.v(status.current_version()));
        } else {
            println!(
                "reverted {} migration(s); now at version {}",
                report.steps.len(),
                self.v(status.current_version())
            );
        }
        Ok(())
    }

    async fn validate<D: Database<Language = L>>(&self, db: &D) -> Result<(), Failure> {
        let status = self.migrations.with(self.settings.clone()).validate(db).await?;
        println!(
            "ok: {} applied, {} pending; at version {}, latest {}",
            applied_count(&status),
            status.pending_count(),
            self.v(status.current_version()),
            self.v(status.latest_version())
        );
        Ok(())
    }

    async fn fresh<D: Database<Language = L>>(&self, db: &D, yes: bool) -> Result<(), Failure> {
        if !yes {
            return Err(Failure::Usage(
                "fresh reverts every applied migration, destroying the data they hold, then applies them all again; \
                 run `migrate fresh --yes` to do it"
                    .to_string(),
            ));
        }
        // The down plan checks every applied migration (irreversible, drift,
        // dirty, missing) before anything changes, so a refusal leaves the
        // database as it was.
        let planned = self.migrations.with(self.settings.clone()).plan_down_to(db, 0).await;
        if let Err(err) = planned {
            eprintln!("fresh refused before changing anything:");
            return Err(err.into());
        }
        let printer = ProgressPrinter::new(&self.versions);
        let progress = |p: &Progress| printer.event(p);
        let migrator = self
            .migrations
            .with(self.settings.clone())
            .reason("fresh")
            .on_progress(&progress);
        let reverted = migrator.down_to(db, 0).await;
        printer.interrupted();
        let reverted = reverted?;
        let applied = migrator.run(db).await;
        printer.interrupted();
        let applied = applied?;
        println!(
            "fresh: reverted {}, applied {} migration(s)",
            reverted.steps.len(),
            applied.steps.len()
        );
        Ok(())
    }

    fn comment(&self) -> &'static str {
        match L::LANGUAGE {
            crate::core::Language::Sql => "--",
            crate::core::Language::Cypher => "//",
        }
    }

    /// The plan as a script a person could read or paste: one comment line
    /// per migration, then its statements exactly as they would be sent.
    fn plan_text(&self, plan: &Plan, verb: &str) -> String {
        let c = self.comment();
        let mut out = String::new();
        if plan.steps.is_empty() {
            let _ = writeln!(out, "{c} dry run: nothing would be {verb}");
            return out;
        }
        let _ = writeln!(
            out,
            "{c} dry run: {} migration(s) would be {verb}, in this order; nothing was changed",
            plan.steps.len()
        );
        let total = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            let mode = if step.no_transaction {
                "statement by statement, no transaction"
            } else {
                "in one transaction"
            };
            let _ = writeln!(
                out,
                "\n{c} [{}/{total}] {} {} {}: {} ({mode})",
                i + 1,
                step.direction.as_str(),
                self.v(step.version),
                step.name,
                step.file
            );
            if step.statements.is_empty() {
                let _ = writeln!(out, "{c} (no statement)");
            }
            for statement in &step.statements {
                let _ = writeln!(out, "{statement};");
            }
        }
        out
    }

    fn status_table(&self, status: &Status) -> String {
        let header = ["version", "name", "description", "state", "applied at", "duration"];
        let rows: Vec<[String; 6]> = status
            .entries
            .iter()
            .map(|e| {
                let mut state = e.state.as_str().to_string();
                if e.irreversible {
                    state.push_str(" (irreversible)");
                }
                [
                    self.v(e.version),
                    e.name.clone(),
                    truncate(e.description.as_deref().unwrap_or(""), 48),
                    state,
                    e.applied_at.clone().unwrap_or_else(|| "-".to_string()),
                    e.execution_ms.map_or_else(|| "-".to_string(), format_ms),
                ]
            })
            .collect();
        let mut out = table(&header, &rows);
        let mut problems = Vec::new();
        for state in [MigrationState::Drifted, MigrationState::Missing, MigrationState::Dirty] {
            let n = status.count(state);
            if n > 0 {
                problems.push(format!("{n} {}", state.as_str()));
            }
        }
        let _ = write!(
            out,
            "\ncurrent version {}, latest {}: {} applied, {} pending",
            self.v(status.current_version()),
            self.v(status.latest_version()),
            applied_count(status),
            status.pending_count()
        );
        if !problems.is_empty() {
            let _ = write!(out, ", {} (see `migrate validate`)", problems.join(", "));
        }
        out.push('\n');
        out
    }

    fn history_table(&self, history: &[HistoryEntry]) -> String {
        if history.is_empty() {
            return "no migration has run yet\n".to_string();
        }
        let header = [
            "started at",
            "version",
            "name",
            "direction",
            "duration",
            "result",
            "reason",
        ];
        let rows: Vec<[String; 7]> = history
            .iter()
            .map(|h| {
                let result = match (&h.error, h.success) {
                    (_, true) => "ok".to_string(),
                    (Some(error), false) => format!("failed: {}", truncate(error.lines().next().unwrap_or(""), 60)),
                    (None, false) => "failed".to_string(),
                };
                [
                    h.started_at.clone(),
                    self.v(h.version),
                    h.name.clone(),
                    h.direction.as_str().to_string(),
                    format_ms(h.duration_ms),
                    result,
                    h.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(&header, &rows)
    }
}

fn applied_count(status: &Status) -> usize {
    status.entries.iter().filter(|e| e.applied_at.is_some()).count()
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Left-aligned columns sized to their widest cell; the last column is not
/// padded, so lines carry no trailing blanks.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Prints `[3/12] 003 add_index ... 12 ms` for each migration: the start of
/// the line when it starts, so a long migration shows what it is waiting
/// for, and the duration when it ends.
struct ProgressPrinter<'a> {
    versions: &'a HashMap<i64, &'static str>,
    /// 1-based index of the step whose line is open; 0 when none.
    open: AtomicUsize,
}

impl<'a> ProgressPrinter<'a> {
    fn new(versions: &'a HashMap<i64, &'static str>) -> Self {
        ProgressPrinter {
            versions,
            open: AtomicUsize::new(0),
        }
    }

    fn event(&self, p: &Progress) {
        // One `print!` per event (not a locked handle) so that test harnesses
        // capturing stdout capture these lines too.
        let mut text = String::new();
        if p.index == 1 && matches!(p.event, ProgressEvent::Started) {
            let verb = match p.direction {
                Direction::Up => "applying",
                Direction::Down => "reverting",
            };
            let _ = writeln!(text, "{verb} {} migration(s)", p.total);
        }
        let head = format!(
            "[{}/{}] {} {}",
            p.index,
            p.total,
            version_text(self.versions, p.version),
            p.name
        );
        // Group mode reports only `Finished`: then the whole line is printed at once.
        let started = self.open.swap(0, Ordering::SeqCst) == p.index;
        let _ = match &p.event {
            ProgressEvent::Started => {
                self.open.store(p.index, Ordering::SeqCst);
                write!(text, "{head} ... ")
            }
            ProgressEvent::Finished(d) if started => writeln!(text, "{}", format_duration(*d)),
            ProgressEvent::Finished(d) => writeln!(text, "{head} ... {}", format_duration(*d)),
            ProgressEvent::Failed(d) if started => writeln!(text, "failed after {}", format_duration(*d)),
            ProgressEvent::Failed(d) => writeln!(text, "{head} ... failed after {}", format_duration(*d)),
        };
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    /// Ends a line left open by an operation that stopped without a
    /// `Finished` or `Failed` event, so the error starts on its own line.
    fn interrupted(&self) {
        if self.open.swap(0, Ordering::SeqCst) != 0 {
            println!("interrupted");
        }
    }
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_opt_string(text: Option<&str>) -> String {
    text.map_or_else(|| "null".to_string(), json_string)
}

fn json_opt_i64(value: Option<i64>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// The status for deploy scripts, one migration per line.
fn status_json(status: &Status) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\n  \"current_version\": {},\n  \"latest_version\": {},\n  \"pending_count\": {},\n  \"applied_count\": {},\n  \"up_to_date\": {},\n  \"migrations\": [",
        status.current_version(),
        status.latest_version(),
        status.pending_count(),
        applied_count(status),
        status.is_up_to_date()
    );
    for (i, e) in status.entries.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n    {{\"version\": {}, \"name\": {}, \"description\": {}, \"state\": {}, \"applied_at\": {}, \"execution_ms\": {}, \"irreversible\": {}}}",
            if i == 0 { "" } else { "," },
            e.version,
            json_string(&e.name),
            json_opt_string(e.description.as_deref()),
            json_string(e.state.as_str()),
            json_opt_string(e.applied_at.as_deref()),
            json_opt_i64(e.execution_ms),
            e.irreversible
        );
    }
    if !status.entries.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str("]\n}\n");
    out
}

fn history_json(history: &[HistoryEntry]) -> String {
    let mut out = String::from("[");
    for (i, h) in history.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n  {{\"version\": {}, \"name\": {}, \"direction\": {}, \"started_at\": {}, \"duration_ms\": {}, \"success\": {}, \"error\": {}, \"reason\": {}}}",
            if i == 0 { "" } else { "," },
            h.version,
            json_string(&h.name),
            json_string(h.direction.as_str()),
            json_string(&h.started_at),
            h.duration_ms,
            h.success,
            json_opt_string(h.error.as_deref()),
            json_opt_string(h.reason.as_deref())
        );
    }
    if !history.is_empty() {
        out.push('\n');
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn the_command_line_is_consistent() {
        MigrateCli::command().debug_assert();
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

    #[test]
    fn tables_align_and_carry_no_trailing_blanks() {
        let rows = [
            ["1".to_string(), "a".to_string(), String::new()],
            ["10".to_string(), "bbb".to_string(), "x".to_string()],
        ];
        let text = table(&["v", "name", "note"], &rows);
        assert_eq!(text, "v   name  note\n1   a\n10  bbb   x\n");
    }
}
