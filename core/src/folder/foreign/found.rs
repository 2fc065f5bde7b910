//! What the layouts' readers share: a migration as found, before anything
//! is read, and the walk through a folder and its subfolders.

use super::super::entries;
use crate::Problem;
use std::path::{Path, PathBuf};

/// One migration a layout's reader found: where its files are, and what it
/// is called, before anything is read.
pub(super) struct Found {
    /// The version this crate embeds the migration under.
    pub(super) version: i64,
    /// The version as written (diesel's without its dashes).
    pub(super) version_text: String,
    /// The migration's name as the tool shows it.
    pub(super) name: String,
    /// The up file: its path, and its name as messages and the table show it
    /// (`2024-01-01-000000_create_users/up.sql`, `V1__create_users.sql`).
    pub(super) up: (PathBuf, String),
    /// The down file, likewise.
    pub(super) down: (PathBuf, String),
    /// The tool's own way of running a migration outside a transaction
    /// (diesel's `metadata.toml`, refinery's `refinery:noTransaction`).
    pub(super) no_transaction: bool,
    /// A file besides the two that says how the migration runs (diesel's
    /// `metadata.toml`).
    pub(super) metadata: Option<PathBuf>,
}

/// The files of `dir` and of its subfolders, as paths relative to `dir`
/// (`/`-separated), without dot-files; refinery reads them all.
pub(super) fn walk(dir: &Path, prefix: &str, problems: &mut Vec<Problem>) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let Ok(entries) = entries::list(dir, prefix, problems) else {
        return files;
    };
    for (name, path, is_dir) in entries {
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if is_dir {
            files.extend(walk(&path, &relative, problems));
        } else {
            files.push((relative, path));
        }
    }
    files
}
