//! The SQL rules: each statement of an up file read once, in order, with
//! the tables the file has created so far, which nothing reads yet.

use super::finding::{shown, Found};
use super::rules::named;
use crate::split::{split, tokens, Dialect, Token};
use std::collections::{BTreeMap, BTreeSet};

/// The statements' first words that can break a SQL rule; the others (an
/// `INSERT` of a 50,000-row seed file) are read no further than that word.
const COMMANDS: &[&str] = &["CREATE", "ALTER", "DROP", "RENAME", "VACUUM", "CLUSTER", "LOCK"];

/// The findings of one up file for one SQL database. `created` holds the
/// tables created before the file that nothing reads yet (none, but for a
/// deploy's pending migrations): it comes back with the file's own.
pub(super) fn lint(text: &str, dialect: Dialect, created: &mut BTreeSet<String>) -> Vec<Found> {
    let mut file_lint = FileLint {
        dialect,
        created: std::mem::take(created),
        dropped: BTreeMap::new(),
        found: Vec::new(),
        safe_rebuild: dialect == Dialect::Sqlite && documented_rebuild(text),
    };
    for statement in split(text, dialect) {
        let first = tokens(statement.text, dialect, 1);
        if !matches!(first.first(), Some(Token::Word(w)) if COMMANDS.iter().any(|c| w.eq_ignore_ascii_case(c))) {
            continue;
        }
        let tokens = tokens(statement.text, dialect, statement.text.len());
        let at = At {
            line: statement.line,
            text: statement.text,
        };
        file_lint.statement(&tokens, at);
    }
    file_lint.found.sort_by_key(|(line, _, _)| *line);
    *created = file_lint.created;
    file_lint.found
}

/// Whether a SQLite file is written as the documented table rebuild: it
/// turns foreign keys off, and checks them before it commits.
fn documented_rebuild(text: &str) -> bool {
    let mut off = false;
    let mut check = false;
    for statement in split(text, Dialect::Sqlite) {
        let words: Vec<String> = tokens(statement.text, Dialect::Sqlite, 6)
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["pragma", "foreign_keys", "off" | "0" | "false" | "no"] => off = true,
            ["pragma", "foreign_key_check", ..] => check = true,
            _ => {}
        }
    }
    off && check
}

/// Where a statement stands, for its findings.
#[derive(Clone, Copy)]
struct At<'a> {
    line: usize,
    text: &'a str,
}

/// What one file's statements have done so far.
struct FileLint {
    dialect: Dialect,
    /// Tables this file created (or renamed a table it created to), and
    /// those it was given as new: a statement on them is not flagged.
    created: BTreeSet<String>,
    /// Tables this file dropped, with the index of their `drop-table`
    /// finding: a SQLite rebuild renames its new table to one of them.
    dropped: BTreeMap<String, usize>,
    found: Vec<Found>,
    /// SQLite: the file is the documented rebuild, foreign keys off.
    safe_rebuild: bool,
}

impl FileLint {
    fn flag(&mut self, at: At<'_>, rule: &str) {
        let finding = (at.line, named(rule), shown(at.text));
        if !self.found.contains(&finding) {
            self.found.push(finding);
        }
    }

    /// One statement, from its first word.
    fn statement(&mut self, tokens: &[Token<'_>], at: At<'_>) {
        let mut c = Cursor { t: tokens, i: 0 };
        let postgres = self.dialect == Dialect::Postgres;
        if c.eat("CREATE") {
            self.create(&mut c, at);
        } else if c.eat("ALTER") {
            // MySQL: ALTER [ONLINE] [IGNORE] TABLE.
            while c.eat("ONLINE") || c.eat("IGNORE") {}
            if c.eat("TABLE") {
                self.alter_table(&mut c, at);
            }
        } else if c.eat("DROP") {
            if c.eat("TABLE") {
                self.drop_tables(&mut c, at);
            }
        } else if c.eat("RENAME") {
            // MySQL: RENAME TABLE a TO b [, c TO d].
            if c.eat("TABLE") {
                for item in split_top_level(&tokens[c.i..]) {
                    let mut item = Cursor { t: item, i: 0 };
                    if item.name().is_some_and(|old| !self.created.contains(&old)) {
                        self.flag(at, "rename-table");
                    }
                }
            }
        } else if postgres && c.eat("VACUUM") {
            if tokens.iter().any(|t| t.is_word("FULL")) {
                self.flag(at, "vacuum-full");
            }
        } else if postgres && c.eat("CLUSTER") {
            self.flag(at, "cluster");
        } else if postgres && c.eat("LOCK") {
            self.flag(at, "lock-table");
        }
    }

    /// `CREATE TABLE` records the table; PostgreSQL's `CREATE INDEX` without
    /// `CONCURRENTLY` on a table the file did not create is flagged.
    fn create(&mut self, c: &mut Cursor<'_, '_>, at: At<'_>) {
        const MODIFIERS: &[&str] = &["OR", "REPLACE", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED"];
        while MODIFIERS.iter().any(|m| c.eat(m)) {}
        if c.eat("TABLE") {
            c.eat_all(&["IF", "NOT", "EXISTS"]);
            if let Some(table) = c.name() {
                self.created.insert(table);
            }
            return;
        }
        if self.dialect != Dialect::Postgres {
            return;
        }
        c.eat("UNIQUE");
        if !c.eat("INDEX") {
            return;
        }
        let rest = &c.t[c.i..];
        let Some(on) = rest.iter().position(|t| t.is_word("ON")) else {
            return;
        };
        let concurrently = rest[..on].iter().any(|t| t.is_word("CONCURRENTLY"));
        let mut table = Cursor {
            t: &rest[on + 1..],
            i: 0,
        };
        table.eat("ONLY");
        if !concurrently && table.name().is_some_and(|t| !self.created.contains(&t)) {
            self.flag(at, "index-without-concurrently");
        }
    }

    /// `DROP TABLE [IF EXISTS] a, b`: flagged unless the file created
    /// every one of them.
    fn drop_tables(&mut self, c: &mut Cursor<'_, '_>, at: At<'_>) {
        c.eat_all(&["IF", "EXISTS"]);
        for item in split_top_level(&c.t[c.i..]) {
            let Some(table) = (Cursor { t: item, i: 0 }).name() else {
                continue;
            };
            if self.created.remove(&table) {
                continue;
            }
            self.flag(at, "drop-table");
            self.dropped.insert(table, self.found.len() - 1);
        }
    }

    /// `ALTER TABLE name action, action ...`: each action read on its own.
    fn alter_table(&mut self, c: &mut Cursor<'_, '_>, at: At<'_>) {
        c.eat_all(&["IF", "EXISTS"]);
        c.eat("ONLY");
        let Some(table) = c.name() else {
            return;
        };
        c.eat_punct(b'*');
        let actions = split_top_level(&c.t[c.i..]);
        if self.created.contains(&table) {
            // A table of this file, renamed: the new name is the file's too,
            // and in SQLite's rebuild it replaces the table dropped above.
            for action in actions {
                let mut a = Cursor { t: action, i: 0 };
                if a.eat("RENAME") && (a.eat("TO") || a.eat("AS")) {
                    if let Some(new) = a.name() {
                        self.rebuilt(&new);
                        self.created.insert(new);
                    }
                }
            }
            return;
        }
        // MySQL refuses, rather than copies, what it cannot do the way the
        // statement asks.
        let algorithm_stated = self.dialect == Dialect::MySql
            && actions.iter().any(|a| {
                let mut a = Cursor { t: a, i: 0 };
                a.eat("ALGORITHM") && {
                    a.eat_punct(b'=');
                    a.eat("INSTANT") || a.eat("INPLACE")
                }
            });
        for action in actions {
            let mut a = Cursor { t: action, i: 0 };
            match self.dialect {
                Dialect::Postgres => self.postgres_action(&mut a, at),
                Dialect::MySql => self.mysql_action(&mut a, at, algorithm_stated),
                _ => self.sqlite_action(&mut a, at),
            }
        }
    }

    /// A SQLite table rebuild renamed its new table to `table`: the drop
    /// before it is part of the rebuild, which is flagged as such unless it
    /// is the documented form.
    fn rebuilt(&mut self, table: &str) {
        let Some(index) = self.dropped.remove(table) else {
            return;
        };
        if self.dialect != Dialect::Sqlite {
            return;
        }
        if self.safe_rebuild {
            self.found.remove(index);
            for other in self.dropped.values_mut() {
                if *other > index {
                    *other -= 1;
                }
            }
        } else {
            self.found[index].1 = named("table-rebuild");
        }
    }

    /// The renames and drops every SQL database shares: `RENAME [COLUMN] a
    /// TO b`, `RENAME TO t`, `DROP [COLUMN] c`; true when the action was one
    /// of them (or a rename or drop of something else, an index or a
    /// constraint, which no rule concerns).
    fn rename_or_drop(&mut self, a: &mut Cursor<'_, '_>, at: At<'_>) -> bool {
        const NOT_COLUMNS: &[&str] = &[
            "CONSTRAINT",
            "INDEX",
            "KEY",
            "FOREIGN",
            "CHECK",
            "PRIMARY",
            "PARTITION",
            "DEFAULT",
        ];
        if a.eat("RENAME") {
            if a.eat("TO") || a.eat("AS") {
                self.flag(at, "rename-table");
            } else if !NOT_COLUMNS.iter().any(|w| a.is(w)) {
                self.flag(at, "rename-column");
            }
            return true;
        }
        if a.eat("DROP") {
            if a.is("PRIMARY") && self.dialect == Dialect::MySql {
                self.flag(at, "table-copy");
            } else if !NOT_COLUMNS.iter().any(|w| a.is(w)) {
                self.flag(at, "drop-column");
            }
            return true;
        }
        false
    }

    fn postgres_action(&mut self, a: &mut Cursor<'_, '_>, at: At<'_>) {
        if self.rename_or_drop(a, at) {
            return;
        }
        if a.eat("ALTER") {
            a.eat("COLUMN");
            if a.name().is_none() {
                return;
            }
            if a.is("TYPE") || a.is_all(&["SET", "DATA", "TYPE"]) {
                self.flag(at, "column-type-change");
            } else if a.is_all(&["SET", "NOT", "NULL"]) {
                self.flag(at, "set-not-null");
            }
            return;
        }
        if !a.eat("ADD") {
            return;
        }
        let rest = &a.t[a.i..];
        let not_valid = has_pair(rest, "NOT", "VALID");
        if a.eat("CONSTRAINT") {
            a.name();
        }
        if a.is("FOREIGN") || a.is("CHECK") {
            if !not_valid {
                self.flag(at, "constraint-without-not-valid");
            }
        } else if a.is("UNIQUE") || a.is("PRIMARY") {
            if !has_pair(rest, "USING", "INDEX") {
                self.flag(at, "unique-constraint-without-index");
            }
        } else if !a.is("EXCLUDE") {
            // A column: `ADD [COLUMN] [IF NOT EXISTS] name type ...`.
            let definition = &a.t[a.i..];
            let default = definition
                .iter()
                .any(|t| t.is_word("DEFAULT") || t.is_word("GENERATED"));
            if has_pair(definition, "NOT", "NULL") && !default {
                self.flag(at, "not-null-column-without-default");
            }
            if definition.iter().any(|t| t.is_word("UNIQUE")) || has_pair(definition, "PRIMARY", "KEY") {
                self.flag(at, "unique-constraint-without-index");
            }
        }
    }

    fn mysql_action(&mut self, a: &mut Cursor<'_, '_>, at: At<'_>, algorithm_stated: bool) {
        let copy = |this: &mut FileLint| {
            if !algorithm_stated {
                this.flag(at, "table-copy");
            }
        };
        if a.is("DROP") && a.t.get(a.i + 1).is_some_and(|t| t.is_word("PRIMARY")) {
            return copy(self);
        }
        if a.is("RENAME") || a.is("DROP") {
            self.rename_or_drop(a, at);
        } else if a.eat("MODIFY") {
            copy(self);
        } else if a.eat("CHANGE") {
            a.eat("COLUMN");
            match (a.name(), a.name()) {
                (Some(old), Some(new)) if old != new => self.flag(at, "rename-column"),
                _ => copy(self),
            }
        } else if a.eat("CONVERT") {
            copy(self);
        } else if a.eat("ADD") {
            if a.eat("CONSTRAINT") && !a.is("FOREIGN") {
                a.name();
            }
            if a.is("FOREIGN") {
                copy(self);
            }
        }
    }

    fn sqlite_action(&mut self, a: &mut Cursor<'_, '_>, at: At<'_>) {
        self.rename_or_drop(a, at);
    }
}

/// Whether `first` is directly followed by `second` among the tokens.
fn has_pair(tokens: &[Token<'_>], first: &str, second: &str) -> bool {
    tokens.windows(2).any(|w| w[0].is_word(first) && w[1].is_word(second))
}

/// The tokens cut at every comma outside parentheses: the actions of an
/// `ALTER TABLE`, the tables of a `DROP TABLE`.
fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct(b'(') => depth += 1,
            Token::Punct(b')') => depth = depth.saturating_sub(1),
            Token::Punct(b',') if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

impl Token<'_> {
    fn is_word(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// A position in a statement's tokens.
struct Cursor<'t, 'a> {
    t: &'t [Token<'a>],
    i: usize,
}

impl Cursor<'_, '_> {
    fn is(&self, keyword: &str) -> bool {
        self.t.get(self.i).is_some_and(|t| t.is_word(keyword))
    }

    fn is_all(&self, keywords: &[&str]) -> bool {
        keywords
            .iter()
            .enumerate()
            .all(|(k, keyword)| self.t.get(self.i + k).is_some_and(|t| t.is_word(keyword)))
    }

    fn eat(&mut self, keyword: &str) -> bool {
        let is = self.is(keyword);
        self.i += usize::from(is);
        is
    }

    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let is = self.is_all(keywords);
        if is {
            self.i += keywords.len();
        }
        is
    }

    fn eat_punct(&mut self, byte: u8) -> bool {
        let is = self.t.get(self.i) == Some(&Token::Punct(byte));
        self.i += usize::from(is);
        is
    }

    /// A name, `t`, `"T"`, `` `t` ``, `[t]` or qualified (`s.t`): its last
    /// part without quotes, lowercased, so that the spellings of one table
    /// compare equal.
    fn name(&mut self) -> Option<String> {
        let mut last = None;
        loop {
            let part = match self.t.get(self.i)? {
                Token::Word(w) => w.to_ascii_lowercase(),
                Token::Quoted(q) if q.len() >= 2 && !q.starts_with('\'') && !q.starts_with('$') => {
                    q[1..q.len() - 1].to_ascii_lowercase()
                }
                _ => return last,
            };
            self.i += 1;
            last = Some(part);
            if !self.eat_punct(b'.') {
                return last;
            }
        }
    }
}
