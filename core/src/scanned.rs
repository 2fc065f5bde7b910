//! What [`crate::scan`] gives back for a folder that passed every rule: the
//! files as read, with their checksums and headers, paired by version.

use crate::{Checksum, Header, Language};
use std::path::PathBuf;

/// One file of a checked folder.
#[derive(Clone, Debug)]
pub struct ScannedFile {
    pub file_name: String,
    pub path: PathBuf,
    pub text: String,
    pub checksum: Checksum,
    pub header: Header,
}

/// One up/down pair of a checked folder.
#[derive(Clone, Debug)]
pub struct ScannedMigration {
    pub version: i64,
    pub version_text: String,
    pub name: String,
    pub up: ScannedFile,
    pub down: ScannedFile,
}

/// A repeatable migration: `<name>.repeatable.sql`, no version, no down
/// file; applied after every versioned migration, again whenever its text
/// changes (views, functions, triggers written as `CREATE OR REPLACE`).
#[derive(Clone, Debug)]
pub struct ScannedRepeatable {
    /// Its key in the tracking table: [`crate::repeatable_key`] of its name.
    pub key: i64,
    pub name: String,
    pub file: ScannedFile,
}

/// A folder that passed every rule: migrations in version order, then the
/// repeatable ones in name order.
#[derive(Clone, Debug)]
pub struct Folder {
    pub path: PathBuf,
    pub language: Language,
    pub migrations: Vec<ScannedMigration>,
    pub repeatables: Vec<ScannedRepeatable>,
}
