//! Phases 2 and 3 of a scan: every file name parsed, the files grouped by
//! version, and one up and one down file paired per version.

use super::entries::Entry;
use super::name::{parse_file_name, shown, Located};
use crate::{Direction, Language, Problem, Rule};
use std::collections::BTreeMap;
use std::path::Path;

/// Files by version and direction; more than one in a slot is a duplicate.
pub(super) type ByVersion = BTreeMap<(i64, Direction), Vec<Located>>;

/// The up and down file of one version, either possibly missing.
pub(super) type Pair = (Option<Located>, Option<Located>);

/// Phase 2: parse every name and group the files by version and direction;
/// also the folder's one language (SQL when it has no migration file).
pub(super) fn group_by_version(
    dir: &Path,
    label: &str,
    entries: &[Entry],
    problems: &mut Vec<Problem>,
) -> (ByVersion, Language) {
    let mut files = ByVersion::new();
    let mut languages: BTreeMap<Language, String> = BTreeMap::new();
    for (name, path, is_dir) in entries {
        if *is_dir {
            problems.push(Problem::new(
                Rule::BadFileName,
                path,
                format!("`{name}` in `{label}` is a subfolder; a migration folder holds only migration files, so move it elsewhere"),
            ));
            continue;
        }
        match parse_file_name(name) {
            Ok(parsed) => {
                // A code migration is written in Rust, whatever the database.
                if !parsed.code {
                    languages.entry(parsed.language).or_insert_with(|| name.clone());
                }
                files
                    .entry((parsed.version, parsed.direction))
                    .or_default()
                    .push((parsed, path.clone()));
            }
            Err((rule, message)) => problems.push(Problem::new(rule, path, message)),
        }
    }
    if languages.len() > 1 {
        let examples: Vec<String> = languages.values().map(|f| format!("`{f}`")).collect();
        problems.push(Problem::new(
            Rule::MixedLanguages,
            dir,
            format!(
                "`{label}` mixes {} migrations ({}); keep one folder per database",
                languages.keys().map(|l| l.label()).collect::<Vec<_>>().join(" and "),
                examples.join(" and ")
            ),
        ));
    }
    let language = languages.keys().next().copied().unwrap_or(Language::Sql);
    (files, language)
}

/// Phase 3: one up and one down slot per version; duplicates are reported
/// and left out.
pub(super) fn pair(files: ByVersion, problems: &mut Vec<Problem>) -> BTreeMap<i64, Pair> {
    let mut versions: BTreeMap<i64, Pair> = BTreeMap::new();
    for ((version, direction), mut same) in files {
        if same.len() > 1 {
            let listed: Vec<String> = same.iter().map(|(f, p)| format!("`{}`", shown(p, f))).collect();
            // `001` and `1` look different but are one version: say why they clash.
            let padding = if same.iter().any(|(f, _)| f.version_text != same[0].0.version_text) {
                " (leading zeros do not count)"
            } else {
                ""
            };
            problems.push(Problem::new(
                Rule::DuplicateVersion,
                &same[0].1,
                format!(
                    "{} share the version {version}{padding}; each version must be unique, so renumber one of them",
                    listed.join(" and ")
                ),
            ));
            continue;
        }
        let slot = versions.entry(version).or_default();
        match direction {
            Direction::Up => slot.0 = same.pop(),
            Direction::Down => slot.1 = same.pop(),
        }
    }
    versions
}
