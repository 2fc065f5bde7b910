//! The ops command line for the binary that embeds the migrations
//! (feature `cli`).
//!
//! Migrations are compiled into the application, so operations belong to it.
//! Nest [`Command`] under your own clap CLI:
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # mod app {
//! use embedded_migrations::{cli, embed_migrations, Migrations};
//!
//! static MIGRATIONS: Migrations = embed_migrations!("docs/migrations/sqlite");
//!
//! #[derive(clap::Subcommand)]
//! enum AppCommand {
//!     /// Inspect, apply, preview and revert the database migrations.
//!     #[command(subcommand)]
//!     Migrate(cli::Command),
//! }
//!
//! async fn execute(command: AppCommand, pool: &sqlx::SqlitePool) {
//!     match command {
//!         AppCommand::Migrate(command) => std::process::exit(cli::run(&MIGRATIONS, pool, command).await),
//!     }
//! }
//! # }
//! ```
//!
//! or, in an application without clap, one line before it starts:
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn start(pool: sqlx::SqlitePool) {
//! # static MIGRATIONS: embedded_migrations::Migrations =
//! #     embedded_migrations::embed_migrations!("docs/migrations/sqlite");
//! if let Some(code) = embedded_migrations::cli::dispatch(&MIGRATIONS, &pool).await {
//!     std::process::exit(code); // `app migrate ...` was asked for
//! }
//! # }
//! ```
//!
//! An application with several databases mounts its whole
//! [`Targets`] value instead ([`dispatch_targets`],
//! [`run_targets`] with [`MigrateArgs`]): every command then works on every
//! set in their declared order, one section each, and `--only NAME` narrows
//! it. A value holding one set prints exactly as the single-set functions do.
//!
//! Exit codes: 0 success, 1 a migration (or the database) failed, 2 usage or
//! validation error (for `plan` and `up --dry-run`: `up` would refuse);
//! `check` and `plan` give 3 when migrations are pending. Results go to
//! stdout, errors to stderr.

use crate::backend::Database;
use crate::targets::{Target, Targets};
use crate::{Language, Migrations, Settings};
use clap::Parser;

pub use clap;
pub use command::{Command, SchemaAction};

// Where each part lives: `command.rs` the commands and flags clap parses;
// `ops.rs` the sets a command works on (`--only`) and the rules shared by
// every command, `set.rs` one set as shown (versions as its files write
// them); `commands/` each command's work, a file per group; `failure.rs`
// failures and exit codes; `text.rs`, `json.rs`, `progress.rs` and
// `tenants.rs` what is printed for people, for scripts, while migrations
// run, and for tenant sets; `output.rs` the print macros all of them use.
// Every command reaches a set's engine and database through `Target`.
mod command;
mod commands;
mod failure;
mod json;
mod ops;
pub(crate) mod output;
mod progress;
mod set;
mod tenants;
mod text;

/// `migrate [--only NAME]... <command>`: the command line of an application
/// with several migration sets ([`run_targets`]). Nest it in your clap CLI
/// with `Migrate(embedded_migrations::cli::MigrateArgs)`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct MigrateArgs {
    /// Only this migration set (repeat for several); every set when absent.
    /// With several sets, `down` and `fresh` need it; `force`, `forget`,
    /// `repair`, `baseline`, `import`, `verify` and `schema` need it naming
    /// one set; and so does `--to` of `up`, `plan` and `down`.
    #[arg(long, value_name = "NAME", global = true)]
    pub only: Vec<String>,
    /// The value of `${NAME}` in the migration files (repeat for several),
    /// over the one the application's settings give; a value the settings
    /// mark secret stays secret (`***` in the history and the dry run).
    /// Before the command: `migrate --placeholder schema=app up`.
    // Not `global`: clap would keep only the values given after the
    // command when some are given before it too, dropping the others.
    #[arg(long = "placeholder", value_name = "NAME=VALUE", value_parser = parse_placeholder)]
    pub placeholders: Vec<(String, String)>,
    /// The command to run on the selected sets (clap ignores this comment:
    /// a subcommand field has no help text of its own).
    #[command(subcommand)]
    pub command: Command,
}

impl From<Command> for MigrateArgs {
    fn from(command: Command) -> Self {
        MigrateArgs {
            only: Vec::new(),
            placeholders: Vec::new(),
            command,
        }
    }
}

/// The command line of [`main`] and [`dispatch`]: one migration set.
#[derive(Parser, Debug)]
#[command(about = "Inspect, apply, preview and revert the embedded database migrations")]
struct MigrateCli {
    /// The value of `${NAME}` in the migration files (repeat for several),
    /// over the one the application's settings give; a value the settings
    /// mark secret stays secret (`***` in the history and the dry run).
    /// Before the command: `migrate --placeholder schema=app up`.
    // Not `global`: clap would keep only the values given after the
    // command when some are given before it too, dropping the others.
    #[arg(long = "placeholder", value_name = "NAME=VALUE", value_parser = parse_placeholder)]
    placeholders: Vec<(String, String)>,
    #[command(subcommand)]
    command: Command,
}

/// `NAME=VALUE` of `--placeholder`: the name as a file writes it in
/// `${NAME}`, the value everything after the first `=`.
fn parse_placeholder(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!("`{text}` is not NAME=VALUE"));
    };
    if !crate::core::placeholder::is_name(name) {
        return Err(format!(
            "`{name}` cannot appear in a file: {}",
            crate::core::placeholder::NAME_RULE
        ));
    }
    Ok((name.to_string(), value.to_string()))
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
        Ok(cli) => {
            let settings = cli.placeholders.iter().fold(settings, |settings, (name, value)| {
                settings.placeholder_from_command_line(name, value)
            });
            run_with(migrations, settings, db, cli.command).await
        }
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
/// their declared order (`down`: the reverse, newest set first; `fresh`:
/// declared order, each set reverted and applied again before the next);
/// returns the exit code.
pub async fn run_targets(targets: &Targets<'_>, args: MigrateArgs) -> i32 {
    if !args.placeholders.is_empty() {
        let given = targets.with_placeholder_values(&args.placeholders);
        let args = MigrateArgs {
            placeholders: Vec::new(),
            ..args
        };
        return Box::pin(run_targets(&given, args)).await;
    }
    let result = match ops::Ops::new(targets, &args.only) {
        Ok(ops) => commands::execute(&ops, args.command).await,
        Err(failure) => Err(failure),
    };
    output::flush();
    failure::exit_code(result)
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
            placeholders: Vec::new(),
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
                per_server: None,
                json: true
            }
        );
        assert!(parse(&["m", "up", "--concurrency", "0"]).is_err());
        assert!(matches!(
            parse(&["m", "up", "--per-server", "2"]).unwrap(),
            Command::Up {
                per_server: Some(2),
                ..
            }
        ));
        assert!(parse(&["m", "up", "--per-server", "0"]).is_err());
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
                reason: Some("bad deploy".to_string()),
                backup: None,
                backup_tool: None,
            }
        );
        assert!(parse(&["m", "down", "3", "--to", "1"]).is_err());
        assert!(parse(&["m", "down", "0"]).is_err());
        assert!(parse(&["m", "up", "--to", "x"]).is_err());
    }

    #[test]
    fn forget_takes_a_version_a_repeatable_migrations_name_or_its_negative_key() {
        let parse = |args: &[&str]| MigrateCli::try_parse_from(args).map(|c| c.command);
        let forget = |version: &str| Command::Forget {
            version: version.to_string(),
        };
        assert_eq!(
            parse(&["m", "forget", "-6919695421210683602"]).unwrap(),
            forget("-6919695421210683602")
        );
        assert_eq!(parse(&["m", "forget", "3"]).unwrap(), forget("3"));
        assert_eq!(parse(&["m", "forget", "views"]).unwrap(), forget("views"));
    }

    #[test]
    fn placeholder_values_go_before_the_command_and_repeat() {
        let parse = |args: &[&str]| TargetsCli::try_parse_from(args).map(|c| c.args.placeholders);
        let pair = |name: &str, value: &str| (name.to_string(), value.to_string());
        assert_eq!(
            parse(&["m", "--placeholder", "schema=app", "--placeholder", "url=a=b", "up"]).unwrap(),
            [pair("schema", "app"), pair("url", "a=b")]
        );
        assert_eq!(
            parse(&["m", "--placeholder", "empty=", "plan"]).unwrap(),
            [pair("empty", "")]
        );
        assert!(
            parse(&["m", "plan", "--placeholder", "a=b"]).is_err(),
            "before the command only"
        );
        for bad in ["schema", "1x=a", "=a", "a-b=c"] {
            assert!(parse(&["m", "--placeholder", bad, "up"]).is_err(), "{bad}");
        }
        let single = MigrateCli::try_parse_from(["m", "--placeholder", "a=b", "status"]).unwrap();
        assert_eq!(single.placeholders, [pair("a", "b")]);
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
