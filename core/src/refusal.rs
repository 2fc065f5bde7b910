//! Statements a file must not hold, found at build time.
//!
//! Some statements build fine and then fail at run time, or worse, run and
//! silently do something else: a `DELIMITER` line (the mysql client's, not
//! SQL), a `COMMIT` that ends the transaction a migration runs in, a
//! `PRAGMA foreign_keys = OFF` that SQLite ignores inside a transaction.
//! These checks refuse them while the crate compiles, each naming the file,
//! the line and the way out.
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

use crate::split::{scan, strip_bom, tokens, Dialect, Scan, Token};
use crate::{Problem, Rule, ScannedFile};
use std::collections::BTreeMap;

/// The refusals of one SQL file, added to `problems`.
pub(crate) fn check_sql_file(file: &ScannedFile, problems: &mut Vec<Problem>) {
    let text = strip_bom(&file.text);
    let transactional = !(file.header.no_transaction || file.header.allow_in_transaction);
    // Most files hold none of these statements: read the file once, as
    // PostgreSQL would, and only when that finds a candidate read it the
    // other two ways to confirm (a seed file of 50,000 INSERTs is read once).
    let first = scan(text, Dialect::Postgres);
    let candidate = !first.delimiter_lines.is_empty()
        || transactional
            && first
                .statements
                .iter()
                .any(|s| classify(s.text, Dialect::Postgres).is_some());
    if !candidate {
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
    if !transactional {
        return;
    }
    for (line, construct) in agreed_constructs(text, &scans) {
        let (rule, message) = construct.explain();
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

/// The statements every reading of the file classifies alike, with their
/// line, in file order: a refusal never comes from one dialect misreading
/// another's quoting.
fn agreed_constructs(text: &str, scans: &[(Dialect, Scan<'_>)]) -> Vec<(usize, Construct)> {
    // Offset of a statement in the file → what it is, for each dialect.
    let readings: Vec<BTreeMap<usize, (usize, Construct)>> = scans
        .iter()
        .map(|(dialect, scan)| {
            scan.statements
                .iter()
                .filter_map(|statement| {
                    let offset = statement.text.as_ptr() as usize - text.as_ptr() as usize;
                    classify(statement.text, *dialect).map(|c| (offset, (statement.line, c)))
                })
                .collect()
        })
        .collect();
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
    /// SQLite ignores it inside a transaction, silently.
    IgnoredBySqlite(&'static str),
    /// The database refuses it inside a transaction.
    Refused(&'static str, &'static str),
}

impl Construct {
    fn explain(self) -> (Rule, String) {
        const OUT: &str = "start the file with `-- migrate:no-transaction` so that its statements run one by one \
                           outside a transaction (keep such a file to the statements that need it)";
        const MYSQL: &str = "; on MySQL, which runs no migration in a transaction, that line changes nothing \
                             but says what the file does";
        match self {
            Construct::Begin(what) => (
                Rule::TransactionControl,
                format!(
                    "`{what}` opens a transaction inside the one this migration already runs in, together with \
                     its tracking row; remove it, or, if the file manages its own transactions, {OUT}{MYSQL}"
                ),
            ),
            Construct::End(what) => (
                Rule::TransactionControl,
                format!(
                    "`{what}` ends the transaction this migration runs in before the migration is recorded, \
                     so a later failure can no longer be rolled back and a rerun finds half of it applied; \
                     remove it, or, if the file manages its own transactions, {OUT}{MYSQL}"
                ),
            ),
            Construct::IgnoredBySqlite(what) => (
                Rule::NotInTransaction,
                format!(
                    "`{what}` does nothing inside a transaction, and SQLite says nothing: a table rebuild that \
                     relies on it runs with foreign keys still enforced, and `ON DELETE CASCADE` deletes the \
                     child rows; {OUT}, and write SQLite's recipe with its own `BEGIN` ... `COMMIT` \
                     between the two PRAGMAs (`-- migrate:allow-in-transaction` keeps the transaction if \
                     the statement is meant as a no-op)"
                ),
            ),
            Construct::Refused(what, database) => (
                Rule::NotInTransaction,
                format!(
                    "`{what}` cannot run inside a transaction ({database} refuses it); {OUT}, or with \
                     `-- migrate:allow-in-transaction` if your database accepts it there"
                ),
            ),
        }
    }
}

/// What a statement is, judged from its first tokens.
fn classify(statement: &str, dialect: Dialect) -> Option<Construct> {
    let tokens = tokens(statement, dialect, 16);
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(*w),
            _ => None,
        })
        .collect();
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
    let any = |keyword: &str| words.iter().any(|w| w.eq_ignore_ascii_case(keyword));
    let first_is = |keyword: &str| matches!(tokens.first(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword));
    if first_is("BEGIN") {
        // BEGIN NOT ATOMIC ... END is MariaDB's anonymous block, not a transaction.
        return (!word(1, "NOT")).then_some(Construct::Begin("BEGIN"));
    }
    if first_is("START") && word(1, "TRANSACTION") {
        return Some(Construct::Begin("START TRANSACTION"));
    }
    if first_is("COMMIT") {
        return Some(Construct::End("COMMIT"));
    }
    // A bare END is left alone: it is rare as COMMIT's synonym (and its BEGIN
    // is refused anyway), and alone it more likely closes a body the
    // splitter could not follow, where "ends the transaction" would mislead.
    if first_is("END") && (word(1, "TRANSACTION") || word(1, "WORK")) {
        return Some(Construct::End("END"));
    }
    if first_is("ROLLBACK") && !any("TO") {
        // ROLLBACK TO SAVEPOINT stays inside the transaction: fine.
        return Some(Construct::End("ROLLBACK"));
    }
    if first_is("ABORT") {
        return Some(Construct::End("ABORT"));
    }
    if first_is("PREPARE") && word(1, "TRANSACTION") {
        return Some(Construct::End("PREPARE TRANSACTION"));
    }
    if first_is("PRAGMA") {
        return pragma(&tokens);
    }
    if first_is("VACUUM") {
        return Some(Construct::Refused("VACUUM", "SQLite and PostgreSQL both"));
    }
    postgres_only(&words, &tokens)
}

/// `PRAGMA [schema.]name = value` or `PRAGMA [schema.]name(value)`: the
/// settings SQLite ignores or refuses inside a transaction. Reading one
/// (`PRAGMA foreign_keys;`) is harmless.
fn pragma(tokens: &[Token<'_>]) -> Option<Construct> {
    let (name, rest) = match tokens {
        [_, Token::Word(_), Token::Punct(b'.'), Token::Word(name), rest @ ..] => (*name, rest),
        [_, Token::Word(name), rest @ ..] => (*name, rest),
        _ => return None,
    };
    if !matches!(rest.first(), Some(Token::Punct(b'=' | b'('))) {
        return None;
    }
    let is = |setting: &str| name.eq_ignore_ascii_case(setting);
    if is("foreign_keys") {
        Some(Construct::IgnoredBySqlite("PRAGMA foreign_keys"))
    } else if is("journal_mode") {
        Some(Construct::Refused("PRAGMA journal_mode", "SQLite"))
    } else if is("synchronous") {
        Some(Construct::Refused("PRAGMA synchronous", "SQLite"))
    } else {
        None
    }
}

/// What PostgreSQL answers with "cannot run inside a transaction block".
fn postgres_only(words: &[&str], tokens: &[Token<'_>]) -> Option<Construct> {
    let word = |i: usize, keyword: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(keyword));
    let any = |keyword: &str| words.iter().any(|w| w.eq_ignore_ascii_case(keyword));
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
mod tests {
    use crate::refusal::{check_sql_file, classify, Construct};
    use crate::split::Dialect;
    use crate::{checksum, parse_header, Language, Rule, ScannedFile};

    fn classified(statement: &str) -> Option<Construct> {
        let all: Vec<_> = Dialect::SQL.iter().map(|&d| classify(statement, d)).collect();
        assert!(all.iter().all(|c| *c == all[0]), "{statement}: {all:?}");
        all[0]
    }

    fn problems(text: &str) -> Vec<(Rule, String)> {
        let file = ScannedFile {
            file_name: "001_a.up.sql".to_string(),
            path: "001_a.up.sql".into(),
            text: text.to_string(),
            checksum: checksum(text),
            header: parse_header(text, Language::Sql).unwrap(),
        };
        let mut problems = Vec::new();
        check_sql_file(&file, &mut problems);
        problems.into_iter().map(|p| (p.rule, p.message)).collect()
    }

    /// The lines a file's refusals name, with their rule.
    fn refused(text: &str) -> Vec<(Rule, usize)> {
        problems(text)
            .iter()
            .map(|(rule, message)| {
                let line = message.split(':').next().unwrap().rsplit(' ').next().unwrap();
                (*rule, line.parse().unwrap())
            })
            .collect()
    }

    /// Every spelling SQLite honours as a setting of `name` (each was run
    /// against SQLite 3.40: the four quotes, a schema, any value, the
    /// function-call form, comments between the parts).
    fn pragma_spellings(name: &str) -> Vec<String> {
        let upper = name.to_uppercase();
        [
            "PRAGMA {n} = OFF",
            "PRAGMA \"{n}\" = false",
            "PRAGMA [{n}] = 0",
            "PRAGMA `{n}` = no",
            "PRAGMA '{n}' = off",
            "PRAGMA main.\"{n}\" = off",
            "PRAGMA \"main\".{n} = off",
            "PRAGMA [main].[{n}]=off",
            "PRAGMA temp.{n}=1",
            "PRAGMA 'main'.'{n}'=off",
            "PRAGMA \"some db\".`{n}` = 'off'",
            "PRAGMA {n}(0)",
            "PRAGMA \"{n}\"('off')",
            "PRAGMA main . /* x */ {n} = \"off\"",
            "PRAGMA {N}=on",
            "PRAGMA \"{N}\"=off",
        ]
        .iter()
        .map(|spelling| spelling.replace("{n}", name).replace("{N}", &upper))
        .collect()
    }

    #[test]
    fn pragmas_are_named_as_sqlite_unquotes_them() {
        for (name, rule) in [
            ("foreign_keys", Rule::NotInTransaction),
            ("journal_mode", Rule::NotInTransaction),
            ("synchronous", Rule::NotInTransaction),
            ("defer_foreign_keys", Rule::NotInTransaction),
        ] {
            for spelling in pragma_spellings(name) {
                let text = format!("CREATE TABLE a (id INT);\n{spelling};\n");
                assert_eq!(refused(&text), [(rule, 2)], "{spelling}");
                let message = &problems(&text)[0].1;
                assert!(message.contains(&format!("`PRAGMA {name}`")), "{spelling}: {message}");
            }
        }
        // Names SQLite does not know, and reads.
        for fine in [
            "PRAGMA \"foreign\"\"_keys\" = off",
            "PRAGMA \"foreign_keys \" = off",
            "PRAGMA [foreign_keys ] = off",
            "PRAGMA \"foreign_keys\"",
            "PRAGMA main.'foreign_keys'",
            "PRAGMA foreign_key_check",
            "PRAGMA main.foreign_key_list(t)",
            "SELECT * FROM pragma_foreign_keys",
        ] {
            assert_eq!(refused(&format!("{fine};")), [], "{fine}");
        }
    }

    #[test]
    fn every_spelling_that_ends_or_opens_the_transaction() {
        for statement in [
            "END",
            "end",
            "END TRANSACTION",
            "END WORK",
            "END AND NO CHAIN",
            "COMMIT",
            "COMMIT AND CHAIN",
            "commit work and no chain",
            "ROLLBACK",
            "ROLLBACK WORK",
            "ROLLBACK AND CHAIN",
            "ABORT",
            "BEGIN",
            "BEGIN WORK",
            "BEGIN TRANSACTION",
            "BEGIN IMMEDIATE",
            "START TRANSACTION",
            "start transaction read only",
            "PREPARE TRANSACTION 'x'",
        ] {
            let text = format!("CREATE TABLE a (id INT);\n/* x */ {statement};\nCREATE TABLE b (id INT);\n");
            assert_eq!(refused(&text), [(Rule::TransactionControl, 2)], "{statement}");
        }
    }

    #[test]
    fn savepoints_the_file_does_not_own_are_refused() {
        let own = "SAVEPOINT a;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT a;\n\
                   SAVEPOINT \"B\";\nROLLBACK TRANSACTION TO b;\nRELEASE b;\nRELEASE SAVEPOINT a;\n";
        assert_eq!(refused(own), []);
        for (text, line) in [
            ("RELEASE SAVEPOINT a;", 1),
            ("INSERT INTO t VALUES (1);\nROLLBACK TO a;", 2),
            ("SAVEPOINT a;\nRELEASE a;\nRELEASE a;", 3),
            ("SAVEPOINT a;\nSAVEPOINT b;\nRELEASE a;\nROLLBACK TO SAVEPOINT b;", 4),
            ("SAVEPOINT a;\nROLLBACK WORK TO SAVEPOINT c;", 2),
            ("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nRELEASE \"a\";", 2),
        ] {
            assert_eq!(refused(text), [(Rule::TransactionControl, line)], "{text}");
        }
    }

    #[test]
    fn bodies_that_end_with_end_stay_accepted() {
        let bodies = [
            // SQLite: a trigger with a CASE expression and a nested one.
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET x = CASE WHEN new.x THEN 1 ELSE CASE 2 WHEN 2 THEN 3 END END;\n  DELETE FROM c;\nEND;",
            "CREATE TEMP TRIGGER IF NOT EXISTS t BEFORE DELETE ON a FOR EACH ROW WHEN old.x > 0 BEGIN SELECT RAISE(ABORT, 'no'); END;",
            // PostgreSQL: BEGIN ATOMIC, DO and dollar-quoted bodies.
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;",
            "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (1); END;",
            "DO $$ BEGIN IF true THEN COMMIT; END IF; END $$;",
            "DO $body$\nBEGIN\n  PERFORM 1;\nEND;\n$body$;",
            "CREATE FUNCTION g() RETURNS trigger AS $$\nBEGIN\n  IF NEW.x IS NULL THEN RETURN NULL; END IF;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;",
            // MySQL and MariaDB: procedures, labels, loops, events, blocks.
            "CREATE PROCEDURE p() BEGIN DECLARE i INT DEFAULT 0; l: LOOP SET i = i + 1; IF i > 3 THEN LEAVE l; END IF; END LOOP l; CASE i WHEN 4 THEN SELECT 1; ELSE BEGIN END; END CASE; END;",
            "CREATE DEFINER = `root`@`%` PROCEDURE q() outer_block: BEGIN WHILE 1 DO SELECT 1; END WHILE; END outer_block;",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM a; END;",
            "BEGIN NOT ATOMIC SELECT 1; END;",
            // CASE ... END in plain statements.
            "SELECT CASE WHEN 1 = 1 THEN 'END' END;",
            "UPDATE a SET x = CASE x WHEN 1 THEN 2 END;",
            "CREATE TABLE ends (\"end\" INT);",
        ];
        for body in bodies {
            let text = format!("CREATE TABLE a (id INT);\n{body}\nCREATE TABLE z (id INT);\n");
            assert_eq!(refused(&text), [], "{body}");
        }
    }

    #[test]
    fn allow_in_transaction_does_not_let_a_file_end_the_transaction() {
        let allow = "-- migrate:allow-in-transaction\n";
        for (statement, rule) in [
            ("COMMIT", Rule::TransactionControl),
            ("END", Rule::TransactionControl),
            ("BEGIN", Rule::TransactionControl),
            ("ROLLBACK", Rule::TransactionControl),
            ("START TRANSACTION", Rule::TransactionControl),
            ("RELEASE SAVEPOINT a", Rule::TransactionControl),
            ("PRAGMA foreign_keys = OFF", Rule::NotInTransaction),
            ("PRAGMA main.\"foreign_keys\" = false", Rule::NotInTransaction),
            ("PRAGMA defer_foreign_keys = ON", Rule::NotInTransaction),
        ] {
            let text = format!("{allow}CREATE TABLE a (id INT);\n{statement};\n");
            assert_eq!(refused(&text), [(rule, 3)], "{statement}");
        }
        // What it is for: statements a database refuses or ignores there.
        for statement in [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "VACUUM",
            "PRAGMA journal_mode = WAL",
            "PRAGMA \"synchronous\" = NORMAL",
            "SAVEPOINT a;\nRELEASE a",
        ] {
            assert_eq!(refused(&format!("{allow}{statement};")), [], "{statement}");
        }
        // A file that manages its own transactions.
        let recipe = "-- migrate:no-transaction\nPRAGMA foreign_keys=OFF;\nBEGIN;\nDROP TABLE a;\n\
                      PRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys=ON;\nPRAGMA defer_foreign_keys=ON;\nEND;\n";
        assert_eq!(refused(recipe), []);
    }

    #[test]
    fn rebuild_pragmas_name_the_data_loss_and_the_recipe() {
        for text in [
            "PRAGMA defer_foreign_keys = ON;\nDROP TABLE parent;",
            "-- migrate:allow-in-transaction\nPRAGMA foreign_keys = OFF;\nDROP TABLE parent;",
        ] {
            let found = problems(text);
            assert_eq!(found.len(), 1, "{found:?}");
            let message = &found[0].1;
            for part in [
                "ON DELETE CASCADE",
                "-- migrate:no-transaction",
                "PRAGMA foreign_keys=OFF; BEGIN; ...; PRAGMA foreign_key_check; COMMIT; PRAGMA foreign_keys=ON;",
            ] {
                assert!(message.contains(part), "{part}: {message}");
            }
        }
    }

    #[test]
    fn files_are_judged_statement_by_statement() {
        // BEGIN in bodies, BEGIN ATOMIC, DO blocks and MariaDB's anonymous
        // block are not transaction statements.
        let bodies = "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;\n\
                      CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n\
                      DO $$ BEGIN COMMIT; END $$;\n\
                      CREATE PROCEDURE p() BEGIN START TRANSACTION; COMMIT; END;\n\
                      BEGIN NOT ATOMIC SELECT 1; END;\n\
                      SELECT 'BEGIN; COMMIT;'; -- COMMIT;\n";
        assert_eq!(problems(bodies), []);

        let found = problems("\u{feff}CREATE TABLE a (id INT);\nBEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\n");
        let lines: Vec<_> = found
            .iter()
            .map(|(rule, m)| (*rule, m.split(':').next().unwrap().to_string()))
            .collect();
        assert_eq!(
            lines,
            [
                (Rule::TransactionControl, "`001_a.up.sql` line 2".to_string()),
                (Rule::TransactionControl, "`001_a.up.sql` line 4".to_string())
            ]
        );
        // The ways out.
        assert_eq!(problems("-- migrate:no-transaction\nBEGIN;\nVACUUM;\nCOMMIT;"), []);
        assert_eq!(
            problems("-- migrate:allow-in-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            []
        );
        // DELIMITER is refused in any file, once.
        let delimiter = problems(
            "-- migrate:no-transaction\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n",
        );
        assert_eq!(delimiter.len(), 1, "{delimiter:?}");
        assert_eq!(delimiter[0].0, Rule::Delimiter);
        assert!(
            delimiter[0].1.starts_with("`001_a.up.sql` line 2: `DELIMITER`"),
            "{}",
            delimiter[0].1
        );
        assert!(
            delimiter[0].1.contains("(`//` after `END` becomes `;`)"),
            "{}",
            delimiter[0].1
        );
    }

    #[test]
    fn transaction_statements() {
        for (statement, construct) in [
            ("BEGIN", Construct::Begin("BEGIN")),
            ("begin transaction", Construct::Begin("BEGIN")),
            ("BEGIN IMMEDIATE", Construct::Begin("BEGIN")),
            ("START TRANSACTION READ WRITE", Construct::Begin("START TRANSACTION")),
            ("COMMIT", Construct::End("COMMIT")),
            ("/* done */ COMMIT WORK", Construct::End("COMMIT")),
            ("END TRANSACTION", Construct::End("END")),
            ("ROLLBACK", Construct::End("ROLLBACK")),
            ("ABORT", Construct::End("ABORT")),
            ("PREPARE TRANSACTION 'x'", Construct::End("PREPARE TRANSACTION")),
        ] {
            assert_eq!(classified(statement), Some(construct), "{statement}");
        }
        for fine in [
            "BEGIN NOT ATOMIC SELECT 1; END",
            "ROLLBACK TO SAVEPOINT a",
            "ROLLBACK TRANSACTION TO a",
            "SAVEPOINT a",
            "RELEASE SAVEPOINT a",
            "END IF",
            "END",
            "PREPARE q AS SELECT 1",
            "SELECT 'COMMIT'",
            "CREATE TABLE begin_log (id INT)",
        ] {
            assert_eq!(classified(fine), None, "{fine}");
        }
    }

    #[test]
    fn statements_refused_or_ignored_in_a_transaction() {
        for (statement, what) in [
            ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys"),
            ("pragma main.foreign_keys=0", "PRAGMA foreign_keys"),
            ("PRAGMA foreign_keys(ON)", "PRAGMA foreign_keys"),
            ("PRAGMA journal_mode = WAL", "PRAGMA journal_mode"),
            ("PRAGMA synchronous = NORMAL", "PRAGMA synchronous"),
            ("VACUUM", "VACUUM"),
            ("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY"),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            ("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"),
            ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
            ("REINDEX DATABASE app", "REINDEX DATABASE / SYSTEM"),
            (
                "ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY",
                "DETACH PARTITION ... CONCURRENTLY",
            ),
            ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
            (
                "ALTER DATABASE app SET TABLESPACE fast",
                "ALTER DATABASE ... SET TABLESPACE",
            ),
            ("CREATE DATABASE reporting", "CREATE DATABASE"),
            ("DROP DATABASE IF EXISTS reporting", "DROP DATABASE"),
            ("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE"),
            ("CLUSTER", "CLUSTER without a table"),
            ("CLUSTER VERBOSE", "CLUSTER without a table"),
            ("DISCARD ALL", "DISCARD ALL"),
            ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION"),
        ] {
            match classified(statement) {
                Some(Construct::IgnoredBySqlite(found) | Construct::Refused(found, _)) => {
                    assert_eq!(found, what, "{statement}")
                }
                other => panic!("{statement}: {other:?}"),
            }
        }
        for fine in [
            "PRAGMA foreign_keys",
            "PRAGMA foreign_key_check",
            "PRAGMA defer_foreign_keys = ON",
            "CREATE INDEX i ON t (concurrently)",
            "CLUSTER t USING i",
            "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
            "CREATE SCHEMA app",
            "ALTER DATABASE app SET timezone TO 'UTC'",
            "SET search_path = app",
            "ANALYZE",
        ] {
            assert_eq!(classified(fine), None, "{fine}");
        }
    }
}
