//! Folders laid out by another migration tool, read as they are: diesel's
//! `<timestamp>_<name>/up.sql` folders and refinery's `V<n>__<name>.sql`
//! files. Each layout's reader (`diesel`, `refinery`) finds the migrations
//! and maps their versions exactly as `migrate import <tool>` reads the
//! tool's history table, so a project switches with an import and no
//! renames; from there every file goes through the same reading and the
//! same content rules as a folder of our own (`read`, `contents`).

mod diesel;
mod found;
pub use diesel::{diesel_version, DIESEL_SETUP_VERSION};
mod refinery;
#[cfg(test)]
mod tests;

use super::entries::{self, Entry};
use super::read::read_file;
use crate::{Folder, Language, Problem, Rule, ScannedFile, ScannedMigration};
use found::Found;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a migration folder is laid out: which files make a migration, how its
/// version and name are read from them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// This crate's: `<version>_<name>.up.sql` and `.down.sql` side by side.
    #[default]
    Native,
    /// diesel's: a folder per migration, `<timestamp>_<name>/up.sql`,
    /// `down.sql` and optionally `metadata.toml`. The version is the folder
    /// name up to its first `_` without its dashes, as diesel records it
    /// (`2024-01-01-000000_create_users` is 20240101000000); the name is the
    /// whole folder name, as diesel shows it.
    Diesel,
    /// refinery's: `V<n>__<name>.sql` (and `U<n>__<name>.sql`) files, up
    /// only; the version is `<n>`, the name `<name>`, as refinery records
    /// them. A down file is ours, `V<n>__<name>.down.sql`, which refinery's
    /// file pattern does not match.
    Refinery,
}

impl Layout {
    /// The layout as the macro's `layout = "..."` names it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Native => "native",
            Layout::Diesel => "diesel",
            Layout::Refinery => "refinery",
        }
    }

    /// The layout named `name`, as the macro's `layout = "..."` writes it.
    pub fn from_name(name: &str) -> Option<Layout> {
        [Layout::Native, Layout::Diesel, Layout::Refinery]
            .into_iter()
            .find(|layout| layout.name() == name)
    }
}

/// Reads a folder of another tool's layout and checks every rule, as
/// [`crate::scan_as`] does for ours.
pub(super) fn scan(dir: &Path, label: &str, layout: Layout) -> Result<Folder, Vec<Problem>> {
    let mut problems = Vec::new();
    let entries = entries::list(dir, label, &mut problems)?;
    let found = match layout {
        Layout::Diesel => diesel::find(label, &entries, &mut problems),
        Layout::Refinery => refinery::find(label, &entries, &mut problems),
        Layout::Native => unreachable!("a native folder is scanned by scan_as"),
    };
    let found = unique_versions(found, &mut problems);
    let tracked = found.iter().filter_map(|m| m.metadata.clone()).collect();
    let migrations = read_and_check(found, &mut problems);
    if problems.is_empty() && migrations.is_empty() {
        let example = match layout {
            Layout::Diesel => "a folder such as `2024-01-01-000000_create_users` holding `up.sql` and `down.sql`",
            _ => "a file such as `V1__create_users.sql` and its `V1__create_users.down.sql`",
        };
        problems.push(Problem::new(
            Rule::BadFolder,
            dir,
            format!(
                "the migration folder `{label}` holds no migration of {}'s layout; add {example}",
                layout.name()
            ),
        ));
    }
    if problems.is_empty() {
        Ok(Folder {
            path: dir.to_path_buf(),
            language: Language::Sql,
            migrations,
            repeatables: Vec::new(),
            tracked,
        })
    } else {
        problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(&b.rule)));
        Err(problems)
    }
}

/// The migrations by version; two with one version are reported (diesel's
/// `2024-01-01-000000_a` and `20240101000000_b` are one version, as in
/// `__diesel_schema_migrations`) and left out.
fn unique_versions(found: Vec<Found>, problems: &mut Vec<Problem>) -> Vec<Found> {
    let mut by_version: BTreeMap<i64, Vec<Found>> = BTreeMap::new();
    for migration in found {
        by_version.entry(migration.version).or_default().push(migration);
    }
    let mut unique = Vec::new();
    for (version, mut same) in by_version {
        if same.len() == 1 {
            unique.extend(same.pop());
            continue;
        }
        let listed: Vec<String> = same.iter().map(|m| format!("`{}`", m.name)).collect();
        let setup = if same.iter().any(|m| m.version_text.bytes().all(|b| b == b'0')) {
            " (diesel's setup folder, version 0 to diesel, is version 1 here, where 0 is no version)"
        } else {
            ""
        };
        problems.push(Problem::new(
            Rule::DuplicateVersion,
            &same[0].up.0,
            format!(
                "{} share the version {version}{setup}; each version must be unique, so renumber one of them",
                listed.join(" and ")
            ),
        ));
    }
    unique
}

/// Every migration's two files read, named as the layout shows them, and
/// checked by the content rules every folder follows.
fn read_and_check(found: Vec<Found>, problems: &mut Vec<Problem>) -> Vec<ScannedMigration> {
    let mut migrations = Vec::new();
    for migration in found {
        let read = |(path, shown): &(PathBuf, String), problems: &mut Vec<Problem>| {
            read_file(path, Language::Sql, problems).map(|file| ScannedFile {
                file_name: shown.clone(),
                ..file
            })
        };
        let up = read(&migration.up, problems);
        let down = read(&migration.down, problems);
        let (Some(mut up), Some(mut down)) = (up, down) else {
            continue;
        };
        if migration.no_transaction {
            up.header.no_transaction = true;
            down.header.no_transaction = true;
        }
        super::contents::check_contents(&up, &down, Language::Sql, problems);
        migrations.push(ScannedMigration {
            version: migration.version,
            version_text: migration.version_text,
            name: migration.name,
            up,
            down,
            code: false,
        });
    }
    migrations
}

/// A hint for a folder our layout refused: it looks like diesel's or
/// refinery's, which the macro reads with `layout = "..."`.
pub(super) fn detect(dir: &Path, label: &str, entries: &[Entry]) -> Option<Problem> {
    let layout = if entries
        .iter()
        .any(|(_, path, is_dir)| *is_dir && path.join("up.sql").is_file())
    {
        Layout::Diesel
    } else if entries
        .iter()
        .any(|(name, _, is_dir)| !is_dir && refinery::parse(name).is_some())
    {
        Layout::Refinery
    } else {
        return None;
    };
    Some(Problem::new(
        Rule::BadFolder,
        dir,
        format!(
            "`{label}` looks like {}'s layout; read it as it is with `embed_migrations!(\"{label}\", layout = \"{}\")` \
             (the guide's chapter on the folder, \"Other tools' layouts\")",
            layout.name(),
            layout.name()
        ),
    ))
}
