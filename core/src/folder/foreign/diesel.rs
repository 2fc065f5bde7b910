//! diesel's layout: a folder per migration, `<timestamp>_<name>/up.sql`,
//! `down.sql` and optionally `metadata.toml`.

use super::super::entries::{self, Entry};
use super::found::Found;
use crate::{Problem, Rule};
use std::path::Path;

/// What a diesel migration folder is told to look like.
const FORMAT: &str =
    "a diesel migration folder is named `<version>_<name>`, the version digits with or without dashes, \
                      such as `2024-01-01-000000_create_users` or `20240101000000_create_users`, \
                      and holds `up.sql`, `down.sql` and optionally `metadata.toml`";

/// Every migration folder of `entries`, or the problem with it.
pub(super) fn find(label: &str, entries: &[Entry], problems: &mut Vec<Problem>) -> Vec<Found> {
    let mut found = Vec::new();
    for (name, path, is_dir) in entries {
        if !is_dir {
            problems.push(Problem::new(
                Rule::BadFileName,
                path,
                format!("`{name}` in `{label}` is a file; under `layout = \"diesel\"` {FORMAT}"),
            ));
            continue;
        }
        let (version, version_text) = match version(name) {
            Ok(version) => version,
            Err((rule, why)) => {
                problems.push(Problem::new(
                    rule,
                    path,
                    format!("`{name}` is not a diesel migration folder name: {why}; {FORMAT}"),
                ));
                continue;
            }
        };
        if let Some(migration) = read_folder(name, path, version, version_text, problems) {
            found.push(migration);
        }
    }
    found
}

/// The version this crate gives diesel's setup folder,
/// `00000000000000_diesel_initial_setup`: diesel numbers it 0, below every
/// migration, and 0 is no version here (it stands for "before the first
/// migration", as in `down --to 0`); 1 is the positive version below every
/// diesel timestamp.
pub const DIESEL_SETUP_VERSION: i64 = 1;

/// The version of diesel's migration folder `name`, or of a `version` of
/// `__diesel_schema_migrations` (the folder name's digits, as diesel records
/// them): what `layout = "diesel"` embeds and `migrate import diesel` reads,
/// one function so that both agree. `None` when it has none.
pub fn diesel_version(name: &str) -> Option<i64> {
    version(name).ok().map(|(version, _)| version)
}

/// diesel_migrations' `version_from_string` (the name up to its first `_`,
/// dashes removed) as a number, diesel's 0 as [`DIESEL_SETUP_VERSION`]; with
/// the digits as written, or why there is no version.
fn version(name: &str) -> Result<(i64, String), (Rule, String)> {
    let written = name.split('_').next().unwrap_or_default();
    let digits = written.replace('-', "");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            Rule::BadFileName,
            format!("`{written}` before the first `_` is not a version of digits and dashes"),
        ));
    }
    match digits.parse::<i64>() {
        Ok(0) => Ok((DIESEL_SETUP_VERSION, digits)),
        Ok(version) => Ok((version, digits)),
        Err(_) => Err((
            Rule::VersionTooLarge,
            format!(
                "the version {digits} does not fit in a 64-bit signed integer (at most {})",
                i64::MAX
            ),
        )),
    }
}

/// One migration folder's files: `up.sql` and `down.sql` required (a
/// missing `down.sql` named, with how to declare the migration
/// irreversible), `metadata.toml` read for `run_in_transaction`, anything
/// else refused.
fn read_folder(
    name: &str,
    dir: &Path,
    version: i64,
    version_text: String,
    problems: &mut Vec<Problem>,
) -> Option<Found> {
    let files = entries::list(dir, name, problems).ok()?;
    let (mut up, mut down, mut no_transaction, mut metadata) = (None, None, false, None);
    let mut complete = true;
    for (file, path, _) in files {
        let shown = format!("{name}/{file}");
        match file.as_str() {
            "up.sql" => up = Some((path, shown)),
            "down.sql" => down = Some((path, shown)),
            "metadata.toml" => match run_in_transaction(&path, &shown) {
                Ok(runs_in_transaction) => {
                    no_transaction = !runs_in_transaction;
                    metadata = Some(path);
                }
                Err(problem) => {
                    problems.push(problem);
                    complete = false;
                }
            },
            _ => {
                problems.push(Problem::new(
                    Rule::BadFileName,
                    &path,
                    format!(
                        "`{shown}` is not a file of a diesel migration, which diesel would not read either; {FORMAT}"
                    ),
                ));
                complete = false;
            }
        }
    }
    let Some(up) = up else {
        problems.push(Problem::new(
            Rule::MissingUp,
            dir,
            format!("`{name}` has no `up.sql`; {FORMAT}"),
        ));
        return None;
    };
    let Some(down) = down else {
        problems.push(Problem::new(
            Rule::MissingDown,
            dir,
            format!(
                "`{name}` has no `down.sql`; every migration needs a down migration: write the statements that \
                 revert `{name}/up.sql` in `{name}/down.sql`, or `-- migrate:irreversible` alone in it if it \
                 cannot be reverted (diesel runs that file as a comment that reverts nothing)"
            ),
        ));
        return None;
    };
    complete.then_some(Found {
        version,
        version_text,
        name: name.to_string(),
        up,
        down,
        no_transaction,
        metadata,
    })
}

/// What diesel makes of a `metadata.toml`: `run_in_transaction` as written,
/// and, as diesel's `TomlMetadata` defaults a field the file leaves out,
/// `false` when the file does not set it. diesel runs a file it cannot parse
/// in a transaction, silently; here it is refused, naming the file.
fn run_in_transaction(path: &Path, shown: &str) -> Result<bool, Problem> {
    let bad = |why: String| {
        Problem::new(
            Rule::UnknownDirective,
            path,
            format!("`{shown}`: {why}; diesel's metadata reads `run_in_transaction = false` (or `true`)"),
        )
    };
    let text = std::fs::read_to_string(path).map_err(|err| bad(format!("cannot be read: {err}")))?;
    let table: toml::Table = text.parse().map_err(|err| bad(format!("is not TOML: {err}")))?;
    match table.get("run_in_transaction") {
        None => Ok(false),
        Some(toml::Value::Boolean(value)) => Ok(*value),
        Some(other) => Err(bad(format!(
            "`run_in_transaction` is a {}, not `true` or `false`",
            other.type_str()
        ))),
    }
}
