//! Repeatable migrations: `<name>.repeatable.sql` files, taken out of the
//! folder's entries before the versioned files are paired, and checked on
//! their own.

use super::entries::Entry;
use super::read::read_file;
use crate::split::{split, Dialect};
use crate::{Language, Problem, Rule, ScannedFile, ScannedRepeatable};
use std::path::Path;

/// The file name ending that marks a repeatable migration.
pub const REPEATABLE: &str = ".repeatable.";

/// The tracking-table key of the repeatable migration `name`: a negative
/// number derived from the name alone (so adding or removing another
/// repeatable moves no key), below every version a file can have.
pub fn repeatable_key(name: &str) -> i64 {
    let digest = crate::checksum(&format!("repeatable:{name}"));
    let mut high = [0u8; 8];
    high.copy_from_slice(&digest.0[..8]);
    -1 - (u64::from_be_bytes(high) >> 1) as i64
}

/// The `<name>.repeatable.<ext>` entries, taken out of `entries`.
pub(super) fn take_repeatables(entries: &mut Vec<Entry>) -> Vec<Entry> {
    let (repeatable, versioned) = entries
        .drain(..)
        .partition(|(name, _, is_dir)| !is_dir && name.contains(REPEATABLE));
    *entries = versioned;
    repeatable
}

/// Reads and checks the repeatable files, returned in name order.
pub(super) fn read_repeatables(
    entries: &[Entry],
    language: Language,
    problems: &mut Vec<Problem>,
) -> Vec<ScannedRepeatable> {
    let mut repeatables: Vec<ScannedRepeatable> = Vec::new();
    for (file, path, _) in entries {
        if let Some(repeatable) = read_repeatable(file, path, language, &repeatables, problems) {
            repeatables.push(repeatable);
        }
    }
    repeatables.sort_by(|a, b| a.name.cmp(&b.name));
    repeatables
}

/// One repeatable file, if its name is right, its key is its own and it can
/// be read; its contents' problems are added but do not leave it out.
fn read_repeatable(
    file: &str,
    path: &Path,
    language: Language,
    earlier: &[ScannedRepeatable],
    problems: &mut Vec<Problem>,
) -> Option<ScannedRepeatable> {
    let (name, extension) = file.split_once(REPEATABLE)?;
    if let Err(problem) = check_name(file, path, name, extension, language) {
        problems.push(problem);
        return None;
    }
    let key = repeatable_key(name);
    if let Some(other) = earlier.iter().find(|r| r.key == key) {
        problems.push(Problem::new(
            Rule::DuplicateVersion,
            path,
            format!(
                "`{file}` and `{}` have the same tracking key; rename one of them",
                other.file.file_name
            ),
        ));
        return None;
    }
    let scanned = read_file(path, language, problems)?;
    check_contents(file, &scanned, problems);
    Some(ScannedRepeatable {
        key,
        name: name.to_string(),
        file: scanned,
    })
}

/// A name of lowercase letters, digits and underscores, and the folder's
/// SQL: Cypher has no `CREATE OR REPLACE` for what a repeatable file would
/// hold.
fn check_name(file: &str, path: &Path, name: &str, extension: &str, language: Language) -> Result<(), Problem> {
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name || extension != "sql" {
        return Err(Problem::new(
            Rule::BadFileName,
            path,
            format!(
                "`{file}` is not a repeatable migration file name: expected `<name>.repeatable.sql`, with a name of \
                 lowercase letters, digits and underscores and no version, such as `active_users_view.repeatable.sql`{}",
                if matches!(extension, "cypher" | "cql") {
                    " (repeatable migrations are SQL only: Neo4j has no CREATE OR REPLACE for its schema, and its procedures are plugins)"
                } else {
                    ""
                }
            ),
        ));
    }
    if language != Language::Sql {
        return Err(Problem::new(
            Rule::MixedLanguages,
            path,
            format!(
                "`{file}` is SQL in a folder of {} migrations; keep one folder per database",
                language.label()
            ),
        ));
    }
    Ok(())
}

/// The contents rules of an up file run in a transaction: at least one
/// statement, no directive that would take it out of its transaction or
/// give it a down file, and the SQL refusals.
fn check_contents(file: &str, scanned: &ScannedFile, problems: &mut Vec<Problem>) {
    let path = &scanned.path;
    if split(&scanned.text, Dialect::Postgres).is_empty() {
        problems.push(Problem::new(
            Rule::EmptyFile,
            path,
            format!("`{file}` is empty: a repeatable migration needs at least one statement"),
        ));
    }
    if scanned.header.no_transaction || scanned.header.irreversible || scanned.header.noop {
        problems.push(Problem::new(
            Rule::UnknownDirective,
            path,
            format!(
                "`{file}`: a repeatable migration runs in one transaction with its record and has no down file; \
                 `migrate:no-transaction`, `migrate:irreversible` and `migrate:noop` do not apply to it"
            ),
        ));
    }
    if let Some(allow) = scanned.header.allows.first() {
        problems.push(Problem::new(
            Rule::UnknownDirective,
            path,
            format!(
                "`{file}` line {}: `migrate:allow` does not apply to a repeatable migration: the lint reads \
                 versioned up files only (a repeatable file replaces a view or function whole)",
                allow.line
            ),
        ));
    }
    crate::refusal::check_sql_file(scanned, problems);
}
