//! What [`crate::scan`] gives back for a folder that passed every rule: the
//! files as read, with their checksums and headers, paired by version.

use crate::{Checksum, Header, Language};
use std::path::PathBuf;

/// One file of a checked folder.
#[derive(Clone, Debug)]
pub struct ScannedFile {
    /// The file's name in the folder, e.g. `003_add_index.up.sql`.
    pub file_name: String,
    /// Where it was read: the folder given to the scan joined with the name.
    pub path: PathBuf,
    /// The file's text as read, BOM and line endings included.
    pub text: String,
    /// [`checksum`](crate::checksum()) of `text`.
    pub checksum: Checksum,
    /// The directives and description at the top of the file.
    pub header: Header,
}

/// One up/down pair of a checked folder.
#[derive(Clone, Debug)]
pub struct ScannedMigration {
    /// The version both files' names start with.
    pub version: i64,
    /// The version as written in the up file's name, zero padding kept.
    pub version_text: String,
    /// The name both files share, between the version and the direction.
    pub name: String,
    /// The `.up.` file.
    pub up: ScannedFile,
    /// The `.down.` file; for a code migration, its one file again.
    pub down: ScannedFile,
    /// A Rust code migration (`<version>_<name>.rs`): `up` and `down` are
    /// its one file, its functions compiled in by the macro.
    pub code: bool,
}

/// A repeatable migration: `<name>.repeatable.sql`, no version, no down
/// file; applied after every versioned migration, again whenever its text
/// changes (views, functions, triggers written as `CREATE OR REPLACE`).
#[derive(Clone, Debug)]
pub struct ScannedRepeatable {
    /// Its key in the tracking table: [`crate::repeatable_key`] of its name.
    pub key: i64,
    /// The part of the file name before `.repeatable.`.
    pub name: String,
    /// The file itself.
    pub file: ScannedFile,
}

/// A folder that passed every rule: migrations in version order, then the
/// repeatable ones in name order.
#[derive(Clone, Debug)]
pub struct Folder {
    /// The folder as given to the scan.
    pub path: PathBuf,
    /// The one language of its files.
    pub language: Language,
    /// The versioned migrations, in version order; never empty.
    pub migrations: Vec<ScannedMigration>,
    /// The repeatable migrations, in name order.
    pub repeatables: Vec<ScannedRepeatable>,
    /// Files read besides the migrations' own that shape the table (diesel's
    /// `metadata.toml`): the macro includes them too, so that editing one
    /// rebuilds the crate.
    pub tracked: Vec<PathBuf>,
}
