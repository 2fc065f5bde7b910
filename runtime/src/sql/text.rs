//! How names and values are written into SQL text, per dialect: quoted
//! identifiers, string literals, booleans, and bind placeholders. The
//! tracking statements, the checkpoint table and the schema record are all
//! written with these, so each rule exists once.

// The plain drivers (driver/) use a subset of these.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]

use crate::core::split::Dialect;

/// The SQL text of names and values in a dialect (SQLite, PostgreSQL or
/// MySQL; the sqlx backends never write Cypher).
pub(crate) trait SqlText: Copy {
    /// `name` as a quoted identifier. Names passed `Settings::check`: plain
    /// identifiers, nothing to escape.
    fn quote(self, name: &str) -> String;

    /// `name`, quoted, inside `schema` when one is set.
    fn qualified(self, schema: Option<&str>, name: &str) -> String;

    /// `text` as a string literal, appended to `out`.
    fn push_literal(self, out: &mut String, text: &str);

    /// `text` as a string literal.
    fn literal(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        self.push_literal(&mut out, text);
        out
    }

    /// [`SqlText::push_literal`], or `NULL` for none.
    fn push_optional_literal(self, out: &mut String, text: Option<&str>) {
        match text {
            Some(text) => self.push_literal(out, text),
            None => out.push_str("NULL"),
        }
    }

    /// [`SqlText::literal`], or `NULL` for none.
    #[cfg(feature = "postgres")]
    fn optional_literal(self, text: Option<&str>) -> String {
        let mut out = String::new();
        self.push_optional_literal(&mut out, text);
        out
    }

    /// A boolean as the dialect stores it in the tracking tables.
    fn flag(self, value: bool) -> &'static str;

    /// The `index`-th (1-based) bind placeholder.
    fn param(self, index: usize) -> String;

    /// Placeholders 1 to `count`, comma-separated.
    fn params(self, count: usize) -> String {
        (1..=count).map(|i| self.param(i)).collect::<Vec<_>>().join(", ")
    }
}

impl SqlText for Dialect {
    fn quote(self, name: &str) -> String {
        match self {
            Dialect::MySql => format!("`{name}`"),
            _ => format!("\"{name}\""),
        }
    }

    fn qualified(self, schema: Option<&str>, name: &str) -> String {
        match schema {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(name)),
            None => self.quote(name),
        }
    }

    /// PostgreSQL's `E''` form means the same whatever
    /// `standard_conforming_strings` says; MySQL's hex form whatever
    /// `NO_BACKSLASH_ESCAPES` says. Appended in place: a batch of N
    /// migrations writes about ten literals per migration, and a string each
    /// was a tenth of a group's run on SQLite.
    fn push_literal(self, out: &mut String, text: &str) {
        /// `text` with each of `special` doubled (`'` to `''`, `\` to `\\`).
        fn doubled(out: &mut String, text: &str, special: &[char]) {
            let mut rest = text;
            while let Some(at) = rest.find(special) {
                // The special characters are ASCII: one byte each.
                let (through, after) = rest.split_at(at + 1);
                out.push_str(through);
                out.push_str(&through[at..]);
                rest = after;
            }
            out.push_str(rest);
        }
        match self {
            Dialect::Postgres => {
                out.push_str("E'");
                doubled(out, text, &['\\', '\''][..]);
                out.push('\'');
            }
            Dialect::MySql if text.is_empty() => out.push_str("''"),
            Dialect::MySql => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.reserve(text.len() * 2 + 12);
                out.push_str("_utf8mb4 X'");
                for byte in text.bytes() {
                    out.push(char::from(HEX[usize::from(byte >> 4)]));
                    out.push(char::from(HEX[usize::from(byte & 0xf)]));
                }
                out.push('\'');
            }
            _ => {
                out.push('\'');
                doubled(out, text, &['\''][..]);
                out.push('\'');
            }
        }
    }

    fn flag(self, value: bool) -> &'static str {
        match (self, value) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    fn param(self, index: usize) -> String {
        match self {
            Dialect::Postgres => format!("${index}"),
            _ => "?".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_what_their_dialect_quotes() {
        let text = "it's ''é\\' \\";
        assert_eq!(Dialect::Sqlite.literal(text), "'it''s ''''é\\'' \\'");
        assert_eq!(Dialect::Postgres.literal(text), "E'it''s ''''é\\\\'' \\\\'");
        assert_eq!(Dialect::MySql.literal("A'é"), "_utf8mb4 X'4127C3A9'");
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(dialect.literal("").trim_start_matches('E'), "''");
            assert_eq!(dialect.literal("'").trim_start_matches('E'), "''''");
        }
        assert_eq!(Dialect::MySql.literal(""), "''");
    }

    #[test]
    fn names_are_quoted_and_qualified_per_dialect() {
        assert_eq!(Dialect::MySql.qualified(Some("db"), "t"), "`db`.`t`");
        assert_eq!(Dialect::Postgres.qualified(Some("s"), "t"), "\"s\".\"t\"");
        assert_eq!(Dialect::Sqlite.qualified(None, "t"), "\"t\"");
    }
}
