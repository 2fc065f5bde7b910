use crate::Checksum;

/// The language of a migration folder. A folder holds one language only, and
/// the table the macro emits carries it in its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// `.sql` files, for SQLite, PostgreSQL and MySQL.
    Sql,
    /// `.cypher` or `.cql` files, for Neo4j.
    Cypher,
}

impl Language {
    /// The file extensions of the language, without their dot.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Language::Sql => &["sql"],
            Language::Cypher => &["cypher", "cql"],
        }
    }

    /// The language of a migration file, from its extension.
    pub fn of_file(file: &str) -> Option<Language> {
        let extension = file.rsplit_once('.')?.1;
        [Language::Sql, Language::Cypher]
            .into_iter()
            .find(|language| language.extensions().contains(&extension))
    }
}

/// Which way a migration runs: its up file applies it, its down file
/// reverts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Apply: run the `.up.` file.
    Up,
    /// Revert: run the `.down.` file.
    Down,
}

impl Direction {
    /// `"up"` or `"down"`, as in file names and the tracking table's
    /// history.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One file of a migration, as embedded in the binary.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    /// File name inside the migration folder, e.g. `003_add_index.up.sql`.
    pub file: &'static str,
    /// The file's text, as read at build time (`include_str!`).
    pub text: &'static str,
    /// [`checksum`](crate::checksum()) of `text`, computed at build time.
    pub checksum: Checksum,
    /// `-- migrate:no-transaction`: the statements run one by one, outside a
    /// transaction (for `CREATE INDEX CONCURRENTLY` and the like).
    pub no_transaction: bool,
    /// For a Rust code migration (`004_split_names.rs`): its function for
    /// this direction, and `text` is empty (the checksum is the source's).
    /// `None` for a SQL or Cypher file.
    pub code: Option<Code>,
}

impl Script {
    /// Whether this script is a Rust function rather than statements.
    pub fn is_code(&self) -> bool {
        self.code.is_some()
    }
}

/// The function of a Rust code migration, typed to the database it was
/// written for. This crate knows no database: the runtime's backend
/// downcasts `function` to the function type of its own connection, and
/// `database` names the one it was written for in messages.
#[derive(Clone, Copy)]
pub struct Code {
    /// The database the function takes a transaction of, as the runtime
    /// names it in messages: "SQLite", "PostgreSQL", "MySQL", "Neo4j".
    pub database: &'static str,
    /// The function, as the runtime types it for `database`.
    pub function: &'static (dyn std::any::Any + Send + Sync),
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Code({})", self.database)
    }
}

/// One migration: an up file and its down file, embedded at build time.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version from the file name; for a repeatable migration, its
    /// negative [`repeatable_key`](crate::repeatable_key).
    pub version: i64,
    /// The name from the file name, between the version and the direction
    /// (a repeatable migration's, before `.repeatable.`).
    pub name: &'static str,
    /// From a `-- description:` header line of the up file.
    pub description: Option<&'static str>,
    /// The up file, which applies the migration.
    pub up: Script,
    /// The down file, which reverts it. A repeatable migration has none: an
    /// empty script with no file name and [`Checksum::ZERO`].
    pub down: Script,
    /// The down file says `-- migrate:irreversible`: reverting is refused.
    pub irreversible: bool,
}

impl Migration {
    /// The checksum recorded when the migration is applied: the up file's.
    /// Editing a down file fixes a rollback and is not drift.
    pub fn checksum(&self) -> Checksum {
        self.up.checksum
    }

    /// The up file for [`Direction::Up`], the down file for
    /// [`Direction::Down`].
    pub fn script(&self, direction: crate::Direction) -> &Script {
        match direction {
            crate::Direction::Up => &self.up,
            crate::Direction::Down => &self.down,
        }
    }
}
