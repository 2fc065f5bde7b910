//! Phase 1 of a scan: the folder's entries.

use crate::{Problem, Rule};
use std::path::{Path, PathBuf};

/// One entry of the folder: its name, path, and whether it is a folder.
pub(super) type Entry = (String, PathBuf, bool);

/// The folder's entries, sorted by name, without dot-files. A folder that
/// cannot be listed at all is the only problem reported.
pub(super) fn list(dir: &Path, label: &str, problems: &mut Vec<Problem>) -> Result<Vec<Entry>, Vec<Problem>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            let message = if dir.is_file() {
                format!("the migration folder `{label}` is a file, not a folder; name the folder that holds the migration files")
            } else if !dir.exists() {
                format!("the migration folder `{label}` does not exist")
            } else {
                format!("the migration folder `{label}` cannot be read: {err}")
            };
            return Err(vec![Problem::new(Rule::BadFolder, dir, message)]);
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                problems.push(Problem::new(
                    Rule::BadFolder,
                    dir,
                    format!("the migration folder `{label}` cannot be read: {err}"),
                ));
                continue;
            }
        };
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            let lossy = entry.file_name().to_string_lossy().into_owned();
            problems.push(Problem::new(
                Rule::BadFileName,
                &path,
                format!("`{lossy}` in `{label}`: the file name is not UTF-8"),
            ));
            continue;
        };
        // Editor and VCS leftovers (.gitkeep, .DS_Store, .swp) are not migrations.
        if name.starts_with('.') {
            continue;
        }
        let is_dir = path.is_dir();
        names.push((name, path, is_dir));
    }
    names.sort();
    Ok(names)
}
