//! Statements a file must not hold, found at build time.
//!
//! Some statements build fine and then fail at run time, or worse, run and
//! silently do something else: a `DELIMITER` line (the mysql client's, not
//! SQL), a `COMMIT` (or `END`, its synonym) that ends the transaction a
//! migration runs in, a `PRAGMA foreign_keys = OFF` that SQLite ignores
//! inside a transaction. These checks refuse them while the crate compiles,
//! each naming the file, the line and the way out.
//!
//! A `.sql` folder does not say which database it is for, so a file is read
//! the way SQLite, PostgreSQL and MySQL would each split it, and a statement
//! is refused only where all three readings agree on it: a refusal never
//! comes from one dialect misreading another's quoting. The statements
//! themselves are specific enough: `PRAGMA` exists only in SQLite,
//! `CONCURRENTLY` only in PostgreSQL, and where a database would accept one
//! (MySQL runs no migration in a transaction at all) the fix,
//! `-- migrate:no-transaction`, changes nothing there but says what the file
//! does.
//!
//! Names are read as the database reads them: a pragma's name and a
//! savepoint's may be quoted four ways (`"x"`, `[x]`, `` `x` ``, `'x'`) and
//! the pragma's prefixed by a schema, and SQLite honours every spelling.
//!
//! Statements that commit implicitly are not refused: MySQL, the one
//! database that has them (its DDL, `LOCK TABLES`, ...), runs no migration in
//! a transaction, so each statement already commits by itself and an
//! implicit commit ends nothing of the migration's; what PostgreSQL and
//! SQLite cannot run in a transaction they refuse, and those are refused
//! here as such. `SET autocommit` is the exception: it changes how every
//! later statement commits, the runner's tracking writes included.

use crate::split::{scan, strip_bom, tokens, Dialect, Scan, Token};
use crate::{Header, Problem, Rule, ScannedFile};
use std::collections::BTreeMap;

/// The refusals of one SQL file, added to `problems`.
pub(crate) fn check_sql_file(file: &ScannedFile, problems: &mut Vec<Problem>) {
    let text = strip_bom(&file.text);
    let header = &file.header;
    // Most files hold none of these statements: read the file once, as
    // PostgreSQL would, and only when that finds a candidate read it the
    // other two ways to confirm (a seed file of 50,000 INSERTs is read once).
    let first = scan(text, Dialect::Postgres);
    let first_reading = reading(text, &first, Dialect::Postgres, header);
    if first.delimiter_lines.is_empty() && first_reading.is_empty() {
        return;
    }
    let mut scans: Vec<(Dialect, Scan<'_>)> = vec![(Dialect::Postgres, first)];
    scans.extend([Dialect::Sqlite, Dialect::MySql].map(|d| (d, scan(text, d))));
    let mut push = |rule, line: usize, message: String| {
        problems.push(Problem::new(
            rule,
            &file.path,
            format!("`{}` line {line}: {message}", file.file_name),
        ))
    };
    if let Some(line) = agreed_delimiter_line(&scans) {
        push(Rule::Delimiter, line, delimiter_message(text));
    }
    let mut readings = vec![first_reading];
    readings.extend(scans[1..].iter().map(|(d, scan)| reading(text, scan, *d, header)));
    for (line, construct) in agreed_constructs(&readings) {
        let (rule, message) = construct.explain(header.allow_in_transaction);
        push(rule, line, message);
    }
}

/// The first `DELIMITER` line that every reading of the file finds.
fn agreed_delimiter_line(scans: &[(Dialect, Scan<'_>)]) -> Option<usize> {
    scans[0]
        .1
        .delimiter_lines
        .iter()
        .find(|line| scans[1..].iter().all(|(_, scan)| scan.delimiter_lines.contains(line)))
        .copied()
}

/// Why a file's `DELIMITER` lines are refused, and what to write instead.
fn delimiter_message(text: &str) -> String {
    let custom = custom_delimiter(text)
        .map(|d| format!(" (`{d}` after `END` becomes `;`)"))
        .unwrap_or_default();
    format!(
        "`DELIMITER` is a command of the mysql command-line client, not SQL: the server rejects it; \
         remove the `DELIMITER` lines and end every statement with `;`{custom}. A procedure, function, \
         trigger or event is read as one statement from its `CREATE` to its last `END`, \
         with the `;` inside its body"
    )
}

/// Offset of a statement in the file → its line and what it is, for the
/// statements of one reading that the file's header does not permit.
type Reading = BTreeMap<usize, (usize, Construct)>;

/// The statements of one reading that the header does not permit: none in a
/// `no-transaction` file; under `allow-in-transaction`, all but those a
/// database refuses or ignores inside a transaction, which is what that
/// directive is for.
fn reading(text: &str, scan: &Scan<'_>, dialect: Dialect, header: &Header) -> Reading {
    if header.no_transaction {
        return Reading::new();
    }
    let mut savepoints = Savepoints::default();
    scan.statements
        .iter()
        .filter_map(|statement| {
            let tokens = tokens(statement.text, dialect, 16);
            let construct = savepoints
                .follow(&tokens)
                .or_else(|| classify(&tokens))
                .or_else(|| timescaledb(&tokens, statement.text, dialect))?;
            let offset = statement.text.as_ptr() as usize - text.as_ptr() as usize;
            let permitted = header.allow_in_transaction && construct.allowed_in_transaction();
            (!permitted).then_some((offset, (statement.line, construct)))
        })
        .collect()
}

/// The statements every reading of the file classifies alike, with their
/// line, in file order: a refusal never comes from one dialect misreading
/// another's quoting.
fn agreed_constructs(readings: &[Reading]) -> Vec<(usize, Construct)> {
    readings[0]
        .iter()
        .filter(|(offset, (_, construct))| {
            readings[1..]
                .iter()
                .all(|other| other.get(offset).map(|(_, c)| c) == Some(construct))
        })
        .map(|(_, &(line, construct))| (line, construct))
        .collect()
}

/// The delimiter a file's `DELIMITER` lines set, other than `;`.
fn custom_delimiter(text: &str) -> Option<&str> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let delimiter = words.next()?;
        (first.eq_ignore_ascii_case("DELIMITER") && delimiter != ";").then_some(delimiter)
    })
}

/// A statement that does not belong in a file run in a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Construct {
    /// Opens a transaction inside the migration's.
    Begin(&'static str),
    /// Ends the migration's transaction before the migration is recorded.
    End(&'static str),
    /// `RELEASE` or `ROLLBACK TO` a savepoint the file does not own.
    ForeignSavepoint(&'static str),
    /// `SET autocommit`: changes how every later statement commits.
    Autocommit,
    /// `PRAGMA foreign_keys = …`: a no-op in a transaction, so a table
    /// rebuild cascades its `DROP TABLE` to the child rows.
    ForeignKeys,
    /// `PRAGMA defer_foreign_keys = …`: defers the checks, not the actions.
    DeferForeignKeys,
    /// The database leaves the setting as it was inside a transaction,
    /// without an error.
    Ignored(&'static str, &'static str),
    /// The database refuses it inside a transaction.
    Refused(&'static str, &'static str),
}

/// The way out of a transaction, shared by the messages.
const OUT: &str = "start the file with `-- migrate:no-transaction` so that its statements run one by one \
                   outside a transaction (keep such a file to the statements that need it)";
/// What the way out means on MySQL.
const MYSQL: &str = "; on MySQL, which runs no migration in a transaction, that line changes nothing \
                     but says what the file does";
/// SQLite's own table rebuild, the safe form of what the foreign key
/// pragmas are written for.
const RECIPE: &str = "start the file with `-- migrate:no-transaction` and write SQLite's table rebuild recipe, \
                      which runs its own transaction between the two PRAGMAs: \
                      `PRAGMA foreign_keys=OFF; BEGIN; ...; PRAGMA foreign_key_check; COMMIT; PRAGMA foreign_keys=ON;`";

impl Construct {
    /// Whether `-- migrate:allow-in-transaction` lets the file keep it: only
    /// a statement a database refuses, or ignores harmlessly, inside a
    /// transaction; never one that ends, opens or escapes the migration's
    /// transaction, nor a foreign key pragma a table rebuild relies on.
    fn allowed_in_transaction(self) -> bool {
        matches!(self, Construct::Ignored(..) | Construct::Refused(..))
    }

    fn explain(self, allow_in_transaction: bool) -> (Rule, String) {
        match self {
            Construct::Begin(_) | Construct::End(_) | Construct::ForeignSavepoint(_) | Construct::Autocommit => {
                let not_allowed = if allow_in_transaction {
                    " (`-- migrate:allow-in-transaction` does not permit it: that directive keeps the file in the \
                     migration's transaction, which this statement would end or escape)"
                } else {
                    ""
                };
                (
                    Rule::TransactionControl,
                    format!("{}{not_allowed}", self.transaction_message()),
                )
            }
            _ => (Rule::NotInTransaction, self.setting_message()),
        }
    }

    /// Why a statement of [`Rule::NotInTransaction`] is refused.
    fn setting_message(self) -> String {
        match self {
            Construct::ForeignKeys => format!(
                "`PRAGMA foreign_keys` does nothing inside the migration's transaction, and SQLite says \
                 nothing: foreign keys stay enforced, so a table rebuild's `DROP TABLE` deletes the child \
                 rows of every `ON DELETE CASCADE` key, and the migration reports success \
                 (`-- migrate:allow-in-transaction` keeps that transaction, so it does not help); {RECIPE}"
            ),
            Construct::DeferForeignKeys => format!(
                "`PRAGMA defer_foreign_keys` defers the checks of foreign keys to the commit, not their \
                 actions: a table rebuild's `DROP TABLE` still deletes the child rows of every \
                 `ON DELETE CASCADE` key, and the migration reports success; {RECIPE}"
            ),
            Construct::Ignored(what, database) => format!(
                "`{what}` cannot take effect inside a transaction ({database} keeps the setting as it \
                 was, with an error or without one); {OUT}, or with `-- migrate:allow-in-transaction` \
                 if the statement is meant as a no-op"
            ),
            Construct::Refused(what, database) => format!(
                "`{what}` cannot run inside a transaction ({database} refuses it); {OUT}, or with \
                 `-- migrate:allow-in-transaction` if your database accepts it there"
            ),
            _ => self.transaction_message(),
        }
    }

    /// Why a statement of [`Rule::TransactionControl`] is refused.
    fn transaction_message(self) -> String {
        const OWN: &str = "remove it, or, if the file manages its own transactions,";
        match self {
            Construct::Begin(what) => format!(
                "`{what}` opens a transaction inside the one this migration already runs in, together with \
                 its tracking row; {OWN} {OUT}{MYSQL}"
            ),
            Construct::End(what) => {
                // A bare END may also be a body's end that the statement above
                // did not hold: say so rather than only "it commits".
                let synonym = match what {
                    "END" => {
                        ", `COMMIT`'s synonym on PostgreSQL and SQLite (if it is meant to close the body of the \
                         statement above, that body was read as ended before it: check its `BEGIN` ... `END` \
                         pairs),"
                    }
                    "END TRANSACTION" | "END WORK" => ", `COMMIT`'s synonym on PostgreSQL and SQLite,",
                    _ => "",
                };
                format!(
                    "`{what}`{synonym} ends the transaction this migration runs in before the migration is \
                     recorded, so a later failure can no longer be rolled back and a rerun finds half of it \
                     applied; {OWN} {OUT}{MYSQL}"
                )
            }
            Construct::ForeignSavepoint(what) => format!(
                "`{what}` names a savepoint that no earlier statement of this file created, or one it has \
                 released: inside the migration's transaction there is none such, so at best the database \
                 refuses it, and in a transaction begun as a savepoint it would release (on SQLite, commit) \
                 or roll back work that is not the file's; create the savepoint with `SAVEPOINT` earlier in \
                 this file, or remove the statement"
            ),
            Construct::Autocommit => format!(
                "`SET autocommit` changes how every later statement on this connection commits, the \
                 migration's tracking writes included (MySQL commits the open transaction when it is set to \
                 1, and commits nothing more when it is set to 0); {OWN} {OUT}{MYSQL}"
            ),
            _ => self.setting_message(),
        }
    }
}

/// The savepoints a file has created and not released, innermost last, so
/// that a `RELEASE` or `ROLLBACK TO` can be checked against them.
///
/// Inside the migration's transaction a savepoint the file created nests in
/// it: releasing or rolling back to it never ends that transaction, on
/// PostgreSQL or SQLite. A name the file did not create (or already
/// released) reaches no savepoint of the file's: on today's backends, which
/// open the transaction with `BEGIN`, the database refuses it; in a
/// transaction begun as a savepoint (a runner nesting the migration in a
/// caller's transaction) it would release that savepoint, which on SQLite
/// commits the outermost one, or roll back the runner's own writes. It is
/// refused either way. Names are compared without their quotes and without
/// case: a pair that differs only in case on PostgreSQL (`"A"` and `a`)
/// passes here and fails there at run time, which rolls the migration back,
/// so the comparison can let a file fail but never let it escape.
#[derive(Default)]
struct Savepoints(Vec<String>);

impl Savepoints {
    /// Follows one statement: `Some` when it releases or rolls back to a
    /// savepoint the file does not own, `None` otherwise.
    fn follow(&mut self, tokens: &[Token<'_>]) -> Option<Construct> {
        let (statement, name) = savepoint_statement(tokens)?;
        let name = name.map(|n| n.to_ascii_lowercase());
        if statement == "SAVEPOINT" {
            self.0.extend(name);
            return None;
        }
        let Some(at) = name.and_then(|name| self.0.iter().rposition(|own| *own == name)) else {
            return Some(Construct::ForeignSavepoint(statement));
        };
        // RELEASE ends the savepoint and every later one; ROLLBACK TO keeps
        // it and ends the later ones.
        self.0.truncate(if statement == "RELEASE" { at } else { at + 1 });
        None
    }
}

/// `SAVEPOINT name`, `RELEASE [SAVEPOINT] name` or `ROLLBACK [WORK |
/// TRANSACTION] TO [SAVEPOINT] name`, with the name as the database reads it
/// (`None` when it cannot be read).
fn savepoint_statement(tokens: &[Token<'_>]) -> Option<(&'static str, Option<String>)> {
    let is = |i: usize, keyword: &str| matches!(tokens.get(i), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword));
    let (statement, mut at) = if is(0, "SAVEPOINT") {
        ("SAVEPOINT", 1)
    } else if is(0, "RELEASE") {
        ("RELEASE", 1)
    } else if is(0, "ROLLBACK") && is(1, "TO") {
        ("ROLLBACK TO", 2)
    } else if is(0, "ROLLBACK") && (is(1, "WORK") || is(1, "TRANSACTION")) && is(2, "TO") {
        ("ROLLBACK TO", 3)
    } else {
        return None;
    };
    if statement != "SAVEPOINT" && is(at, "SAVEPOINT") && tokens.len() > at + 1 {
        at += 1;
    }
    Some((statement, name(&tokens[at..]).map(|(name, _)| name)))
}

/// The name at the start of `tokens` as SQLite reads it, and how many tokens
/// it takes: a word as written, or a quoted name without its quotes (`"x"`,
/// `` `x` ``, `'x'` with a doubled quote standing for one; `[x]`, which only
/// SQLite's reading sees as one token).
fn name(tokens: &[Token<'_>]) -> Option<(String, usize)> {
    match tokens {
        [Token::Word(word), ..] => Some((word.to_string(), 1)),
        [Token::Quoted(quoted), ..] => unquote(quoted).map(|name| (name, 1)),
        [Token::Punct(b'['), Token::Word(word), Token::Punct(b']'), ..] => Some((word.to_string(), 3)),
        _ => None,
    }
}

/// A quoted name without its quotes; `None` for a string that is not a
/// name (a dollar-quoted body, an unterminated quote).
fn unquote(quoted: &str) -> Option<String> {
    let open = quoted.chars().next()?;
    let close = match open {
        '[' => ']',
        '"' | '`' | '\'' => open,
        _ => return None,
    };
    let inner = quoted.get(1..)?.strip_suffix(close)?;
    if open == '[' {
        return Some(inner.to_string());
    }
    Some(inner.replace(&format!("{close}{close}"), &close.to_string()))
}

/// What a statement is, judged from its first tokens.
fn classify(tokens: &[Token<'_>]) -> Option<Construct> {
    let Some(Token::Word(first)) = tokens.first() else {
        return None;
    };
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(*w),
            _ => None,
        })
        .collect();
    if first.eq_ignore_ascii_case("PRAGMA") {
        return pragma(tokens);
    }
    if first.eq_ignore_ascii_case("VACUUM") {
        return Some(Construct::Refused("VACUUM", "SQLite and PostgreSQL both"));
    }
    transaction_statement(&words, tokens).or_else(|| postgres_only(&words, tokens))
}

/// The statements that open, end or change the mode of a transaction, in
/// every spelling PostgreSQL, SQLite or MySQL accepts.
fn transaction_statement(words: &[&str], tokens: &[Token<'_>]) -> Option<Construct> {
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
    let work_or_transaction = word(1, "WORK") || word(1, "TRANSACTION");
    if word(0, "BEGIN") {
        // BEGIN NOT ATOMIC ... END is MariaDB's anonymous block, not a transaction.
        return (!word(1, "NOT")).then_some(Construct::Begin(if word(1, "WORK") { "BEGIN WORK" } else { "BEGIN" }));
    }
    if word(0, "START") && word(1, "TRANSACTION") {
        return Some(Construct::Begin("START TRANSACTION"));
    }
    if word(0, "COMMIT") {
        return Some(Construct::End(if any_word(words, "CHAIN") {
            "COMMIT AND CHAIN"
        } else {
            "COMMIT"
        }));
    }
    if word(0, "END") && end_is_commit(tokens) {
        let label = if word(1, "WORK") {
            "END WORK"
        } else if word(1, "TRANSACTION") {
            "END TRANSACTION"
        } else {
            "END"
        };
        return Some(Construct::End(label));
    }
    if word(0, "ROLLBACK") {
        // ROLLBACK TO a savepoint stays inside the transaction: Savepoints.
        let to = word(1, "TO") || work_or_transaction && word(2, "TO");
        return (!to).then_some(Construct::End("ROLLBACK"));
    }
    if word(0, "ABORT") {
        return Some(Construct::End("ABORT"));
    }
    if word(0, "PREPARE") && word(1, "TRANSACTION") {
        return Some(Construct::End("PREPARE TRANSACTION"));
    }
    (word(0, "SET") && sets_autocommit(tokens)).then_some(Construct::Autocommit)
}

/// Whether a statement that starts with `END` is `COMMIT`'s synonym: `END`
/// alone or followed by `TRANSACTION`, `WORK` or `AND [NO] CHAIN`
/// (PostgreSQL's and SQLite's spellings). `END IF`, `END LOOP`, `END $$` or
/// `END label` close a body, and are left to the database.
fn end_is_commit(tokens: &[Token<'_>]) -> bool {
    match tokens.get(1) {
        None => true,
        Some(Token::Word(w)) => ["TRANSACTION", "WORK", "AND"].iter().any(|k| w.eq_ignore_ascii_case(k)),
        Some(_) => false,
    }
}

/// `SET [SESSION] autocommit = …`, `SET @@autocommit := …`, or `autocommit`
/// among the assignments of one `SET`: MySQL commits the open transaction
/// when it is set to 1. PostgreSQL and SQLite reject the statement.
fn sets_autocommit(tokens: &[Token<'_>]) -> bool {
    tokens.windows(2).any(|pair| match pair {
        [Token::Word(w), next] if w.eq_ignore_ascii_case("AUTOCOMMIT") => {
            matches!(next, Token::Punct(b'=' | b':'))
                || matches!(next, Token::Word(to) if to.eq_ignore_ascii_case("TO"))
        }
        _ => false,
    })
}

fn any_word(words: &[&str], keyword: &str) -> bool {
    words.iter().any(|w| w.eq_ignore_ascii_case(keyword))
}

/// What TimescaleDB refuses inside a transaction block: a continuous
/// aggregate filled as it is created (`WITH DATA`, its default when neither
/// is written), and `CALL refresh_continuous_aggregate(...)`. Whether the
/// aggregate says `WITH NO DATA` is read at the end of the statement, past
/// the first tokens that name it.
fn timescaledb(tokens: &[Token<'_>], statement: &str, dialect: Dialect) -> Option<Construct> {
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(*w),
            _ => None,
        })
        .collect();
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
    if word(0, "CALL")
        && words[1..]
            .iter()
            .take(2)
            .any(|w| w.eq_ignore_ascii_case("refresh_continuous_aggregate"))
    {
        return Some(Construct::Refused("CALL refresh_continuous_aggregate", "TimescaleDB"));
    }
    let continuous = words
        .windows(2)
        .any(|pair| pair[0].eq_ignore_ascii_case("timescaledb") && pair[1].eq_ignore_ascii_case("continuous"));
    if !(word(0, "CREATE") && word(1, "MATERIALIZED") && word(2, "VIEW") && continuous) {
        return None;
    }
    let all = crate::split::tokens(statement, dialect, statement.len());
    let last: Vec<&str> = all
        .iter()
        .rev()
        .filter_map(|t| match t {
            Token::Word(w) => Some(*w),
            _ => None,
        })
        .take(3)
        .collect();
    let no_data = matches!(last.as_slice(), [data, no, with]
        if data.eq_ignore_ascii_case("DATA") && no.eq_ignore_ascii_case("NO") && with.eq_ignore_ascii_case("WITH"));
    (!no_data).then_some(Construct::Refused(
        "CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous) ... WITH DATA",
        "TimescaleDB, unless the statement ends `WITH NO DATA` (`WITH DATA` is the default),",
    ))
}

/// `PRAGMA [schema.]name = value` or `PRAGMA [schema.]name(value)`: the
/// settings SQLite ignores or refuses inside a transaction, or that a table
/// rebuild relies on. The name and the schema are read as SQLite reads them,
/// in any of its quotes, and every value counts: SQLite reads `OFF`, `0`,
/// `false`, `no`, `'off'`, `"off"` and even an unknown word alike, so
/// judging the value could only be fooled. Reading one (`PRAGMA
/// foreign_keys;`) is harmless.
fn pragma(tokens: &[Token<'_>]) -> Option<Construct> {
    let rest = &tokens[1..];
    let (mut pragma, mut used) = name(rest)?;
    if rest.get(used) == Some(&Token::Punct(b'.')) {
        let (after_schema, more) = name(&rest[used + 1..])?;
        (pragma, used) = (after_schema, used + 1 + more);
    }
    if !matches!(rest.get(used), Some(Token::Punct(b'=' | b'('))) {
        return None;
    }
    let is = |setting: &str| pragma.eq_ignore_ascii_case(setting);
    // The foreign key pragmas are refused whatever else the file holds: a
    // rule that waited for a `DROP TABLE` in the same file would miss the
    // `DELETE` of a parent, a `REPLACE`, a trigger's body, or a drop hidden
    // in a statement it cannot read. `foreign_keys` has no effect in a
    // transaction anyway; a file that needs `defer_foreign_keys` (rows
    // inserted before their parents) keeps it, in a `no-transaction` file
    // between its own `BEGIN` and `COMMIT`.
    if is("foreign_keys") {
        Some(Construct::ForeignKeys)
    } else if is("defer_foreign_keys") {
        Some(Construct::DeferForeignKeys)
    } else if is("journal_mode") {
        Some(Construct::Ignored("PRAGMA journal_mode", "SQLite"))
    } else if is("synchronous") {
        Some(Construct::Refused("PRAGMA synchronous", "SQLite"))
    } else {
        None
    }
}

/// What PostgreSQL answers with "cannot run inside a transaction block".
fn postgres_only(words: &[&str], tokens: &[Token<'_>]) -> Option<Construct> {
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
    let any = |keyword: &str| any_word(words, keyword);
    let refused = |what| Some(Construct::Refused(what, "PostgreSQL"));
    if word(0, "CREATE") && word(1, "INDEX") && word(2, "CONCURRENTLY")
        || word(0, "CREATE") && word(1, "UNIQUE") && word(2, "INDEX") && word(3, "CONCURRENTLY")
    {
        return refused("CREATE INDEX CONCURRENTLY");
    }
    if word(0, "DROP") && word(1, "INDEX") && word(2, "CONCURRENTLY") {
        return refused("DROP INDEX CONCURRENTLY");
    }
    if word(0, "REINDEX") {
        if any("CONCURRENTLY") {
            return refused("REINDEX CONCURRENTLY");
        }
        if any("SYSTEM") || any("DATABASE") {
            return refused("REINDEX DATABASE / SYSTEM");
        }
    }
    if word(0, "ALTER") && word(1, "TABLE") && any("DETACH") && any("CONCURRENTLY") {
        return refused("DETACH PARTITION ... CONCURRENTLY");
    }
    if word(0, "ALTER") && word(1, "SYSTEM") {
        return refused("ALTER SYSTEM");
    }
    if word(0, "ALTER") && word(1, "DATABASE") && word(3, "SET") && word(4, "TABLESPACE") {
        return refused("ALTER DATABASE ... SET TABLESPACE");
    }
    for command in ["CREATE", "DROP"] {
        if word(0, command) && word(1, "DATABASE") {
            return refused(if command == "CREATE" {
                "CREATE DATABASE"
            } else {
                "DROP DATABASE"
            });
        }
        if word(0, command) && word(1, "TABLESPACE") {
            return refused(if command == "CREATE" {
                "CREATE TABLESPACE"
            } else {
                "DROP TABLESPACE"
            });
        }
    }
    if word(0, "CLUSTER") && words[1..].iter().all(|w| w.eq_ignore_ascii_case("VERBOSE")) && tokens.len() < 8 {
        // CLUSTER without a table re-clusters the whole database.
        return refused("CLUSTER without a table");
    }
    if word(0, "DISCARD") && word(1, "ALL") {
        return refused("DISCARD ALL");
    }
    if word(0, "SET") && word(1, "TRANSACTION") {
        // It must come before any query of the transaction, and the
        // migration's transaction has already read its tracking state.
        return Some(Construct::Refused("SET TRANSACTION", "PostgreSQL"));
    }
    None
}

#[cfg(test)]
mod tests;
