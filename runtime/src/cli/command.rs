//! `migrate <command>`: every command and its flags, as clap parses them.
//! The doc comments are the help text a user reads (`migrate --help`).

use clap::Subcommand;

/// `migrate <command>`.
#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Show every migration: version, name, description, state, applied at, duration.
    Status {
        /// Print JSON for deploy scripts (current and latest version, pending count, every migration).
        #[arg(long)]
        json: bool,
        /// Tenant sets: list every tenant, not only those that are not up to date.
        #[arg(long)]
        all: bool,
    },
    /// Apply pending migrations.
    Up {
        /// Stop after this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Print the statements that would run, in order, and change nothing;
        /// exit 2, naming why, when `up` would refuse.
        #[arg(long)]
        dry_run: bool,
        /// Tenant sets: how many tenants are migrated at once (default: the
        /// tenant set's own, from `Tenants::concurrency`).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        concurrency: Option<u16>,
        /// Tenant sets spanning several servers: at most N tenants of one
        /// PostgreSQL or MySQL server (`host:port`) at once, within
        /// `--concurrency` (default: the tenant set's own, from
        /// `Tenants::per_server`, else no limit per server).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        per_server: Option<u16>,
        /// Print what was applied as JSON (no progress lines).
        #[arg(long)]
        json: bool,
    },
    /// What `up` would apply, set by set (each migration's statements), and
    /// change nothing. Exit codes as `check`'s: 0 when nothing is pending, 3
    /// when migrations would be applied, 2 when `up` would refuse (drift,
    /// dirty, missing, a hand-edited tracking table, another set's table:
    /// the error says which), 1 when a database cannot be read.
    Plan {
        /// Plan up to this version (one set).
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
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
        /// First write a backup of the whole database to PATH (a new file),
        /// and revert nothing unless it succeeds: SQLite `VACUUM INTO`,
        /// PostgreSQL `pg_dump`, MySQL/MariaDB `mariadb-dump` or
        /// `mysqldump`. The path is stored in the history. One set only.
        #[arg(long, value_name = "PATH")]
        backup: Option<std::path::PathBuf>,
        /// The dump program `--backup` runs, by path or name (default
        /// `pg_dump`; `mariadb-dump`, else `mysqldump`).
        #[arg(long, value_name = "PROGRAM", requires = "backup")]
        backup_tool: Option<std::path::PathBuf>,
    },
    /// Compare the database with this binary: drift, missing, dirty, out of order.
    Validate,
    /// List the statements of the up files that lock or destroy, by the database's rules (docs/lint.md);
    /// those of applied migrations apart, as information. Exit code 1 when a pending migration has one.
    Lint {
        /// Print the findings as JSON: an array of {rule, version, file, line, statement, why, fix, applied, message}.
        #[arg(long)]
        json: bool,
    },
    /// Every up and down run, with duration, success and reason.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 when the database is exactly at this binary's version with
    /// nothing wrong, 3 when migrations are pending, 2 for drift, dirty or
    /// migrations this binary lacks, 1 when it cannot be read. Writes nothing
    /// (for deploy gates and init containers).
    Check {
        /// Print the readiness as JSON (the same value a health endpoint returns).
        #[arg(long)]
        json: bool,
    },
    /// Mark a version as applied without running it (recovery after a failed
    /// migration was finished by hand).
    Force {
        /// The version to record as applied and clean.
        #[arg(value_name = "VERSION")]
        version: i64,
    },
    /// Remove the record of a version without running anything (recovery
    /// after a failed migration was undone by hand).
    Forget {
        /// The version whose record is removed, or a repeatable migration's
        /// name (as `status` lists it) or its key (negative, as `status
        /// --json` shows it).
        #[arg(value_name = "VERSION|NAME", allow_negative_numbers = true)]
        version: String,
    },
    /// Rebuild the tracking state row from the tracking rows, under the
    /// migration lock, running nothing: after the rows were edited by hand
    /// (a row deleted so that its migration runs again) or restored in
    /// part. Writes a history row with the old and new values and the reason.
    Repair {
        /// Also accept an intentional edit of this applied migration's file:
        /// record its current checksum (the history keeps the old one).
        #[arg(long, value_name = "VERSION")]
        accept_edit: Option<i64>,
        /// Why: stored in the history row.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
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
        /// Record the schema, or check it (clap ignores this comment: a
        /// subcommand field has no help text of its own).
        #[command(subcommand)]
        action: SchemaAction,
    },
    /// Adopt an existing database: record every migration up to and
    /// including VERSION as applied without running it (history says
    /// baseline, and why). Later migrations then apply with `up`.
    Baseline {
        /// The last version to record as applied.
        #[arg(value_name = "VERSION")]
        version: i64,
        /// Why: stored in the history row of each baselined migration.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Print what would be recorded, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Adopt a database migrated until now by another tool: read its history
    /// table (sqlx, refinery, diesel, golang-migrate), check it against this
    /// binary and record the same migrations as applied. Its table is left as it is.
    Import {
        /// sqlx | refinery | diesel | golang-migrate
        #[arg(value_name = "TOOL")]
        tool: crate::Tool,
        /// Print what would be recorded, and change nothing.
        #[arg(long)]
        dry_run: bool,
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

/// `migrate schema <action>`.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SchemaAction {
    /// Record the live schema as the one the current version leaves (after
    /// `migrate up`, or after reviewing a difference that `check` reported).
    Record,
    /// Compare the live schema with the recorded one: changes made by hand.
    Check,
}
