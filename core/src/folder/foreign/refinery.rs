//! refinery's layout: `V<n>__<name>.sql` files (and `U<n>__<name>.sql`,
//! which refinery applies even below the newest applied version), up only,
//! in the folder and its subfolders. A migration's down file is ours,
//! `V<n>__<name>.down.sql`: refinery's file pattern (`\w+` then `.sql`)
//! does not match it, so refinery keeps running the folder meanwhile.

use super::super::entries::Entry;
use super::found::{walk, Found};
use crate::{Problem, Rule};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a refinery migration file is told to look like.
const FORMAT: &str =
    "under `layout = \"refinery\"` a migration is `V<version>__<name>.sql` (or `U<version>__<name>.sql`), \
                      such as `V1__create_users.sql`, and its down file `V1__create_users.down.sql`";

/// A file name of refinery's pattern, `^([UV])(\d+(?:\.\d+)?)__(\w+)\.sql$`
/// (refinery_core's), or our down file beside it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RefineryName<'a> {
    /// `V` or `U`.
    pub prefix: char,
    /// The version as written; refinery refuses a dotted one when it parses it.
    pub version: &'a str,
    /// The part after `__`, as refinery records it.
    pub name: &'a str,
    /// `.down.sql`: our down file.
    pub down: bool,
}

/// The parts of a refinery file name, or `None` when refinery's pattern (or
/// its `.down.sql` twin) does not match.
pub(super) fn parse(file: &str) -> Option<RefineryName<'_>> {
    let (stem, down) = match file.strip_suffix(".down.sql") {
        Some(stem) => (stem, true),
        None => (file.strip_suffix(".sql")?, false),
    };
    let prefix = stem.chars().next().filter(|c| matches!(c, 'V' | 'U'))?;
    let (version, name) = stem[1..].split_once("__")?;
    let mut parts = version.splitn(2, '.');
    let digits = |part: Option<&str>| part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let whole = parts.next();
    let fraction = parts.next();
    if !digits(whole) || (fraction.is_some() && !digits(fraction)) {
        return None;
    }
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some(RefineryName {
        prefix,
        version,
        name,
        down,
    })
}

/// One version's up and down file, as found.
type Slot = (Option<(PathBuf, String, String)>, Option<(PathBuf, String, String)>);

/// Every migration of the folder and its subfolders, or the problem with it.
pub(super) fn find(label: &str, entries: &[Entry], problems: &mut Vec<Problem>) -> Vec<Found> {
    let mut files = Vec::new();
    for (name, path, is_dir) in entries {
        if *is_dir {
            files.extend(walk(path, name, problems));
        } else {
            files.push((name.clone(), path.clone()));
        }
    }
    let mut slots: BTreeMap<(i64, String), Slot> = BTreeMap::new();
    for (relative, path) in files {
        let file = relative.rsplit('/').next().unwrap_or(&relative);
        let Some(parsed) = parse(file) else {
            let why = if file.ends_with(".rs") {
                "refinery's Rust migrations build their SQL when refinery runs them, which this crate cannot \
                 read at build time; write its SQL in a `.sql` file of the same version, or make it a code \
                 migration of ours"
            } else {
                "refinery skips it with a warning; a migration folder holds migration files only, so move it elsewhere"
            };
            problems.push(Problem::new(
                Rule::BadFileName,
                &path,
                format!("`{relative}` in `{label}` is not a refinery migration: {why}; {FORMAT}"),
            ));
            continue;
        };
        let version = match version(&parsed) {
            Ok(version) => version,
            Err((rule, why)) => {
                problems.push(Problem::new(rule, &path, format!("`{relative}`: {why}; {FORMAT}")));
                continue;
            }
        };
        let slot = slots.entry((version, parsed.name.to_string())).or_default();
        let place = if parsed.down { &mut slot.1 } else { &mut slot.0 };
        if let Some((_, other, _)) = place {
            problems.push(Problem::new(
                Rule::DuplicateVersion,
                &path,
                format!("`{other}` and `{relative}` share the version {version}; each version must be unique, so renumber one of them"),
            ));
            continue;
        }
        let version_text = parsed.version.to_string();
        *place = Some((path, relative, version_text));
    }
    pairs(slots, problems)
}

/// The version refinery records for a file (its `<n>`, parsed as a number,
/// as `migrate import refinery` parses the `version` column), or why there
/// is none.
fn version(parsed: &RefineryName<'_>) -> Result<i64, (Rule, String)> {
    if parsed.version.contains('.') {
        return Err((
            Rule::BadFileName,
            format!(
                "the version `{}` has a dot, which refinery's pattern admits but refinery cannot parse as its integer version",
                parsed.version
            ),
        ));
    }
    match parsed.version.parse::<i64>() {
        Ok(0) => Err((
            Rule::BadFileName,
            "the version must be a positive number, not 0 (0 stands for \"before the first migration\")".to_string(),
        )),
        Ok(version) => Ok(version),
        Err(_) => Err((
            Rule::VersionTooLarge,
            format!(
                "the version {} does not fit in a 64-bit signed integer (at most {})",
                parsed.version,
                i64::MAX
            ),
        )),
    }
}

/// Each up file with its down file, or the missing half named.
fn pairs(slots: BTreeMap<(i64, String), Slot>, problems: &mut Vec<Problem>) -> Vec<Found> {
    let mut found = Vec::new();
    for ((version, name), slot) in slots {
        match slot {
            (Some(up), Some(down)) => {
                let no_transaction = no_transaction(&up.0);
                found.push(Found {
                    version,
                    version_text: up.2,
                    name,
                    up: (up.0, up.1),
                    down: (down.0, down.1),
                    no_transaction,
                    metadata: None,
                });
            }
            (Some((path, relative, _)), None) => {
                let expected = format!("{}.down.sql", relative.trim_end_matches(".sql"));
                problems.push(Problem::new(
                    Rule::MissingDown,
                    &path,
                    format!(
                        "`{relative}` has no down migration: refinery's files are up only, and every migration here \
                         needs one; add `{expected}` holding the statements that revert it, or \
                         `-- migrate:irreversible` alone if it cannot be reverted (refinery does not read \
                         `.down.sql` files, so it can keep running the folder meanwhile)"
                    ),
                ));
            }
            (None, Some((path, relative, _))) => {
                let expected = format!("{}.sql", relative.trim_end_matches(".down.sql"));
                problems.push(Problem::new(
                    Rule::MissingUp,
                    &path,
                    format!("`{relative}` has no `{expected}`; a down migration needs the up migration it reverts, with the same version and name"),
                ));
            }
            (None, None) => {}
        }
    }
    found
}

/// refinery's own way out of a transaction: a comment line
/// `-- refinery:noTransaction` anywhere in the file (refinery_core's
/// `^[-]{2,}[\s]?(refinery:noTransaction)$`).
fn no_transaction(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        // read_file reports an unreadable file.
        return false;
    };
    text.lines().any(|line| {
        let rest = line.trim_end_matches('\r').trim_start_matches('-');
        let dashes = line.len() - line.trim_start_matches('-').len();
        let rest = rest.strip_prefix(|c: char| c.is_whitespace()).unwrap_or(rest);
        dashes >= 2 && rest == "refinery:noTransaction"
    })
}
