use crate::Checksum;

/// The language of a migration folder. A folder holds one language only, and
/// the table the macro emits carries it in its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Sql,
    Cypher,
}

impl Language {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
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
    pub text: &'static str,
    pub checksum: Checksum,
    /// `-- migrate:no-transaction`: the statements run one by one, outside a
    /// transaction (for `CREATE INDEX CONCURRENTLY` and the like).
    pub no_transaction: bool,
}

/// One migration: an up file and its down file, embedded at build time.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    /// From a `-- description:` header line of the up file.
    pub description: Option<&'static str>,
    pub up: Script,
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

    pub fn script(&self, direction: crate::Direction) -> &Script {
        match direction {
            crate::Direction::Up => &self.up,
            crate::Direction::Down => &self.down,
        }
    }
}
