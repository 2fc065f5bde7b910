//! What a folder check reports: the rule broken, the file, and a message
//! that says how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The rules a migration folder must follow; each problem names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// An up file without the down file of the same version and name.
    MissingDown,
    /// A down file without the up file it reverts.
    MissingUp,
    /// Two files in one slot: two up (or two down) files of one version,
    /// an up and a down file of one version with different names, or two
    /// repeatable files with the same tracking key.
    DuplicateVersion,
    /// A name that is not `<version>_<name>.<up|down>.<ext>` or
    /// `<name>.repeatable.sql`, a file name that is not UTF-8, or a
    /// subfolder.
    BadFileName,
    /// A file whose statements contradict what it is: an up or repeatable
    /// file with none, a down file with none and no `migrate:irreversible`,
    /// or a file marked `migrate:noop` or `migrate:irreversible` that holds
    /// some.
    EmptyFile,
    /// A file that is not UTF-8.
    NotUtf8,
    /// The folder is missing, a file, unreadable, or holds no migration; or
    /// one of its files cannot be read.
    BadFolder,
    /// SQL and Cypher files in one folder.
    MixedLanguages,
    /// A `migrate:` directive this version does not know, or one in a file
    /// it does not apply to (`migrate:irreversible` in an up file;
    /// `migrate:no-transaction`, `migrate:irreversible` or `migrate:noop` in
    /// a repeatable file).
    UnknownDirective,
    /// A version that does not fit in an `i64`.
    VersionTooLarge,
    /// A Cypher file holds both schema commands and data statements, which
    /// Neo4j cannot run in one transaction.
    MixedSchemaAndData,
    /// A `DELIMITER` line: the mysql client's command, which servers reject.
    Delimiter,
    /// `BEGIN`, `COMMIT`, `END`, `ROLLBACK`, `SET autocommit`, or a
    /// `RELEASE` or `ROLLBACK TO` of a savepoint the file did not create, in
    /// a file that runs in a transaction.
    TransactionControl,
    /// A statement a database refuses, or ignores, inside a transaction, in a
    /// file that runs in one; or SQLite's `PRAGMA defer_foreign_keys`, which
    /// does not keep a table rebuild from cascading.
    NotInTransaction,
    /// A `migrate:batch` file that is not one statement with `:batch`, a
    /// positive size, in a transaction (see [`crate::batch`]).
    Batch,
    /// A `migrate:timeout` line that does not read: an unknown key, a
    /// duration without its unit, zero (see [`crate::timeout`]).
    Timeout,
    /// A squashed folder's `migrate:baseline` that is malformed, not the
    /// first migration, not ending at its own version, in a down file, in
    /// a folder of another language than SQL, or whose down file is not
    /// irreversible (see [`crate::baseline`]).
    Baseline,
    /// A ChromaDB file that is not a list of known steps, or whose down file
    /// does not revert what its up file does (see [`crate::chroma`]).
    ChromaStep,
    /// A `${...}` that is not a placeholder: `${}`, `${1x}`, `${ name }`
    /// (see [`crate::placeholder`]).
    Placeholder,
}

/// One broken rule, with the file it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The rule broken.
    pub rule: Rule,
    /// File or folder the problem is about (the first one, when it is a pair).
    pub path: PathBuf,
    /// What is wrong and how to fix it, naming the file; what
    /// [`Display`](fmt::Display) shows.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(rule: Rule, path: &Path, message: String) -> Problem {
        Problem {
            rule,
            path: path.to_path_buf(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
