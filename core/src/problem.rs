//! What a folder check reports: the rule broken, the file, and a message
//! that says how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The rules a migration folder must follow; each problem names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    MissingDown,
    MissingUp,
    DuplicateVersion,
    BadFileName,
    EmptyFile,
    NotUtf8,
    BadFolder,
    MixedLanguages,
    UnknownDirective,
    VersionTooLarge,
    /// A Cypher file holds both schema commands and data statements, which
    /// Neo4j cannot run in one transaction.
    MixedSchemaAndData,
    /// A `DELIMITER` line: the mysql client's command, which servers reject.
    Delimiter,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, ... in a file that runs in a transaction.
    TransactionControl,
    /// A statement a database refuses, or ignores, inside a transaction, in a
    /// file that runs in one.
    NotInTransaction,
    /// A `migrate:batch` file that is not one statement with `:batch`, a
    /// positive size, in a transaction (see [`crate::batch`]).
    Batch,
}

/// One broken rule, with the file it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub rule: Rule,
    /// File or folder the problem is about (the first one, when it is a pair).
    pub path: PathBuf,
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
