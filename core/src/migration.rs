use crate::Checksum;

/// The language of a migration folder. A folder holds one language only, and
/// the table the macro emits carries it in its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// `.sql` files, for SQLite, PostgreSQL and MySQL.
    Sql,
    /// `.cypher` or `.cql` files, for Neo4j.
    Cypher,
    /// `.toml` files, for ChromaDB: a list of collection steps
    /// ([`crate::chroma`]).
    Chroma,
}

impl Language {
    /// The file extensions of the language, without their dot.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Language::Sql => &["sql"],
            Language::Cypher => &["cypher", "cql"],
            Language::Chroma => &["toml"],
        }
    }

    /// The language as messages name it: `SQL`, `Cypher`, `Chroma TOML`.
    pub fn label(self) -> &'static str {
        match self {
            Language::Sql => "SQL",
            Language::Cypher => "Cypher",
            Language::Chroma => "Chroma TOML",
        }
    }

    /// The line comment its headers are written in: `--`, `//`, `#`.
    pub fn comment(self) -> &'static str {
        match self {
            Language::Sql => "--",
            Language::Cypher => "//",
            Language::Chroma => "#",
        }
    }

    /// The language of a migration file, from its extension.
    pub fn of_file(file: &str) -> Option<Language> {
        // `.rs` is a code migration's, in no language of its own.
        let extension = file.rsplit_once('.')?.1;
        [Language::Sql, Language::Cypher, Language::Chroma]
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
    /// The names of the `${name}` placeholders in `text`, sorted, each
    /// once ([`crate::placeholder`]): read at build time, so a run can
    /// check the settings give every one before anything runs.
    pub placeholders: &'static [&'static str],
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
