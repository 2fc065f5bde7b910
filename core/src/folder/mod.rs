//! The folder rules: [`scan`] reads a migration folder and checks every rule
//! on it, as the macro does at build time and `cargo xtask validate` from the
//! command line.
//!
//! A scan runs in phases, each in its own file and each adding to one list
//! of problems: list the folder (`entries`), set the repeatable files
//! aside (`repeatable`), parse the names and pair each up file with its
//! down file (`name`, `versions`), then read every pair and check what
//! it holds (`read`, `contents`; `code` for a Rust code migration).
//! Another tool's layout (`foreign`: diesel's, refinery's) has its own
//! first phases and the same last ones.

mod code;
mod contents;
mod entries;
mod foreign;
mod name;
mod read;
mod repeatable;
#[cfg(test)]
mod tests;
mod versions;

pub use foreign::{diesel_version, Layout, DIESEL_SETUP_VERSION};
pub use name::{parse_file_name, FileName};
pub use repeatable::{repeatable_key, REPEATABLE};

use crate::{Folder, Problem, Rule};
use std::path::Path;

/// Reads a migration folder and checks every rule. Returns every problem
/// found, not only the first, in a stable order.
pub fn scan(dir: &Path) -> Result<Folder, Vec<Problem>> {
    scan_as(dir, &dir.display().to_string())
}

/// [`scan_as`] for a folder of `layout`: diesel's and refinery's are read
/// as those tools lay them out, then checked by the same content rules.
pub fn scan_layout(dir: &Path, label: &str, layout: Layout) -> Result<Folder, Vec<Problem>> {
    match layout {
        Layout::Native => scan_as(dir, label),
        Layout::Diesel | Layout::Refinery => foreign::scan(dir, label, layout),
    }
}

/// [`scan`], naming the folder `label` in messages: the macro shows the path
/// as the user wrote it, not the absolute path of one machine.
pub fn scan_as(dir: &Path, label: &str) -> Result<Folder, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut entries = entries::list(dir, label, &mut problems)?;
    let foreign = foreign::detect(dir, label, &entries);
    let repeatable_entries = repeatable::take_repeatables(&mut entries);
    let (files, language) = versions::group_by_version(dir, label, &entries, &mut problems);
    let pairs = versions::pair(files, &mut problems);
    let migrations = contents::read_and_check(pairs, language, &mut problems);
    crate::baseline::check(&migrations, language, &mut problems);
    let repeatables = repeatable::read_repeatables(&repeatable_entries, language, &mut problems);
    if problems.is_empty() && migrations.is_empty() {
        problems.push(Problem::new(
            Rule::BadFolder,
            dir,
            format!("the migration folder `{label}` holds no migration; add a pair such as `001_create_users.up.sql` and `001_create_users.down.sql`"),
        ));
    }
    if !problems.is_empty() {
        problems.extend(foreign);
    }
    if problems.is_empty() {
        Ok(Folder {
            path: dir.to_path_buf(),
            language,
            migrations,
            repeatables,
            tracked: Vec::new(),
        })
    } else {
        problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(&b.rule)));
        Err(problems)
    }
}
