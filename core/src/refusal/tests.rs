//! The refusals, statement by statement and file by file.

use crate::refusal::{check_sql_file, classify, Construct};
use crate::split::{tokens, Dialect};
use crate::{checksum, parse_header, Language, Rule, ScannedFile};

fn classified(statement: &str) -> Option<Construct> {
    let all: Vec<_> = Dialect::SQL
        .iter()
        .map(|&d| classify(&tokens(statement, d, 16)))
        .collect();
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
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END;\nRELEASE \"a\";",
            2,
        ),
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
    let delimiter =
        problems("-- migrate:no-transaction\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n");
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
        ("END TRANSACTION", Construct::End("END TRANSACTION")),
        ("end work", Construct::End("END WORK")),
        ("END", Construct::End("END")),
        ("BEGIN WORK", Construct::Begin("BEGIN WORK")),
        ("COMMIT AND CHAIN", Construct::End("COMMIT AND CHAIN")),
        ("SET autocommit = 0", Construct::Autocommit),
        ("SET SESSION autocommit := 1", Construct::Autocommit),
        ("SET @@session.autocommit = OFF", Construct::Autocommit),
        ("SET sql_mode = '', autocommit = 1", Construct::Autocommit),
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
        "END LOOP l",
        "END $$",
        "SET x = 'autocommit'",
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
            Some(Construct::ForeignKeys) => assert_eq!("PRAGMA foreign_keys", what, "{statement}"),
            Some(Construct::Ignored(found, _) | Construct::Refused(found, _)) => {
                assert_eq!(found, what, "{statement}")
            }
            other => panic!("{statement}: {other:?}"),
        }
    }
    for fine in [
        "PRAGMA foreign_keys",
        "PRAGMA foreign_key_check",
        "PRAGMA defer_foreign_keys",
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

#[test]
fn timescaledb_statements_refused_in_a_transaction() {
    let filled = "CREATE MATERIALIZED VIEW daily WITH (timescaledb.continuous) AS\n\
                  SELECT time_bucket('1 day', at) AS day, count(*) FROM readings GROUP BY day";
    for statement in [
        filled.to_string(),
        format!("{filled} WITH DATA"),
        "CALL refresh_continuous_aggregate('daily', NULL, NULL)".to_string(),
    ] {
        assert_eq!(
            refused(&format!("{statement};\n")),
            [(Rule::NotInTransaction, 1)],
            "{statement}"
        );
    }
    let message = &problems(&format!("{filled};"))[0].1;
    assert!(
        message.contains("TimescaleDB, unless the statement ends `WITH NO DATA`"),
        "{message}"
    );
    // Created empty, it runs in the transaction; a plain materialized
    // view is PostgreSQL's own, and fine.
    assert_eq!(refused(&format!("{filled} WITH NO DATA;")), []);
    assert_eq!(refused("CREATE MATERIALIZED VIEW mv AS SELECT 1 WITH DATA;"), []);
    assert_eq!(refused(&format!("-- migrate:no-transaction\n{filled};")), []);
}
