//! The migration tools whose history tables `import` reads, and what it
//! reads of each.

use crate::backend::ForeignColumn;

/// A migration tool whose history table `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tool {
    /// `_sqlx_migrations`: version, success, checksum (SHA-384 of the file's bytes).
    Sqlx,
    /// `refinery_schema_history`: version, name, applied_on, checksum.
    Refinery,
    /// `__diesel_schema_migrations`: version (text such as `20240101000000`;
    /// `diesel setup`'s `00000000000000` is version 1, as `layout = "diesel"`
    /// embeds that folder), run_on.
    Diesel,
    /// `schema_migrations`: one row, version and dirty.
    GolangMigrate,
}

impl Tool {
    /// Every tool `import` reads, in the order the command line lists them.
    pub const ALL: [Tool; 4] = [Tool::Sqlx, Tool::Refinery, Tool::Diesel, Tool::GolangMigrate];

    /// The name on the command line and in history rows.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Diesel => "diesel",
            Tool::GolangMigrate => "golang-migrate",
        }
    }

    /// The tool's history table, as the tool names it by default.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::GolangMigrate => "schema_migrations",
        }
    }

    /// The columns `import` reads, each as text.
    pub(super) fn columns(self) -> &'static [ForeignColumn] {
        use ForeignColumn::{Hex, Text};
        match self {
            Tool::Sqlx => &[Text("version"), Text("success"), Hex("checksum")],
            Tool::Refinery | Tool::Diesel => &[Text("version")],
            Tool::GolangMigrate => &[Text("version"), Text("dirty")],
        }
    }
}

impl std::str::FromStr for Tool {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Tool::ALL.into_iter().find(|tool| tool.name() == text).ok_or_else(|| {
            let names: Vec<&str> = Tool::ALL.iter().map(|tool| tool.name()).collect();
            format!("unknown tool `{text}`; import reads {}", names.join(", "))
        })
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
