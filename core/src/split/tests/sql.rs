//! SQL files: quotes, comments, dollar bodies, compound bodies, rules, the
//! BOM, `DELIMITER` lines and MySQL's executable comments.

use super::texts;
use crate::split::{scan, split, strip_bom, Dialect, Statement};

#[test]
fn splits_plain_statements_and_drops_empty_ones() {
    let src = "-- header\nCREATE TABLE a (id INT);\n;;\n  INSERT INTO a VALUES (1) ;\n-- trailing comment\n";
    let out = split(src, Dialect::Sqlite);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0],
        Statement {
            text: "CREATE TABLE a (id INT)",
            line: 2
        }
    );
    assert_eq!(
        out[1],
        Statement {
            text: "INSERT INTO a VALUES (1)",
            line: 4
        }
    );
}

#[test]
fn semicolons_inside_quotes_and_comments_do_not_split() {
    let src = "INSERT INTO a VALUES ('x;y', \"c;d\"); /* ; */ SELECT `e;f`; -- ;\nSELECT 'it''s;'";
    assert_eq!(
        texts(src, Dialect::Sqlite),
        [
            "INSERT INTO a VALUES ('x;y', \"c;d\")",
            "SELECT `e;f`",
            "SELECT 'it''s;'"
        ]
    );
}

#[test]
fn postgres_dollar_bodies_and_do_blocks() {
    let src = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\n\
               DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT $1, a$b$ FROM t;\n/* outer /* inner; */ still; */ SELECT E'\\';'";
    assert_eq!(
        texts(src, Dialect::Postgres),
        [
            "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql",
            "DO $body$ BEGIN PERFORM 1; END $body$",
            "SELECT $1, a$b$ FROM t",
            "SELECT E'\\';'",
        ]
    );
}

#[test]
fn trigger_and_procedure_bodies_stay_whole() {
    let sqlite = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN 1 THEN 2 END; DELETE FROM c; END;\nSELECT 1;";
    assert_eq!(
        texts(sqlite, Dialect::Sqlite),
        [
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN 1 THEN 2 END; DELETE FROM c; END",
            "SELECT 1"
        ]
    );
    let mysql = "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; CASE x WHEN 1 THEN SELECT 2; END CASE; WHILE 0 DO SELECT 3; END WHILE; END;\n# note ;\nSELECT 'a\\';b';";
    assert_eq!(
        texts(mysql, Dialect::MySql),
        [
            "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; CASE x WHEN 1 THEN SELECT 2; END CASE; WHILE 0 DO SELECT 3; END WHILE; END",
            "SELECT 'a\\';b'"
        ]
    );
    let mariadb = "BEGIN NOT ATOMIC SELECT 1; END;\nSELECT 2;";
    assert_eq!(
        texts(mariadb, Dialect::MySql),
        ["BEGIN NOT ATOMIC SELECT 1; END", "SELECT 2"]
    );
}

#[test]
fn postgres_rule_actions_in_parentheses_stay_whole() {
    let src =
        "CREATE RULE r AS ON INSERT TO v DO INSTEAD (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id));\n\
               CREATE OR REPLACE RULE s AS ON DELETE TO v DO ALSO (DELETE FROM a; NOTIFY v);\nSELECT 1;";
    assert_eq!(
        texts(src, Dialect::Postgres),
        [
            "CREATE RULE r AS ON INSERT TO v DO INSTEAD (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id))",
            "CREATE OR REPLACE RULE s AS ON DELETE TO v DO ALSO (DELETE FROM a; NOTIFY v)",
            "SELECT 1"
        ]
    );
}

/// The `END` of a `CASE` expression closes the expression, not the block:
/// read as the block's end, the `IF ... END IF` after it would swallow the
/// rest of the file, and a failure on line 11 be reported at line 1.
#[test]
fn mysql_case_expression_then_if_statement() {
    let src = "CREATE PROCEDURE p()\nBEGIN\n  DECLARE x INT;\n  SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\n  \
               IF x > 1 THEN\n    SELECT 1;\n  END IF;\nEND;\nCREATE TABLE after_it (id INT);\nSELECT 2;";
    let out = split(src, Dialect::MySql);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0].text.ends_with("END IF;\nEND"), "{:?}", out[0].text);
    assert_eq!((out[1].text, out[1].line), ("CREATE TABLE after_it (id INT)", 9));
    assert_eq!((out[2].text, out[2].line), ("SELECT 2", 10));
}

#[test]
fn mysql_compound_statements() {
    let cases: &[&str] = &[
        // Labels, LOOP, WHILE, REPEAT, and the REPEAT() function.
        "CREATE PROCEDURE q() BEGIN DECLARE i INT DEFAULT 0; outer_loop: LOOP SET i = i + 1; \
         IF i > 3 THEN LEAVE outer_loop; END IF; END LOOP outer_loop; WHILE i > 0 DO SET i = i - 1; END WHILE; \
         REPEAT SET i = i + 1; UNTIL i >= 2 END REPEAT; lbl: BEGIN SELECT REPEAT('a;', 2); END lbl; END",
        // A CASE statement, IF() in it, and a nested block.
        "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN CASE x WHEN 1 THEN RETURN IF(x > 0, 1, 2); \
         ELSE BEGIN RETURN 0; END; END CASE; END",
        // A trigger whose body is one IF statement, without BEGIN.
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW IF NEW.id IS NULL THEN SET NEW.id = 0; END IF",
        // IF EXISTS as a condition, DROP ... IF EXISTS as a statement, ELSEIF, DEFINER.
        "CREATE DEFINER=`root`@`localhost` PROCEDURE r() BEGIN DROP TABLE IF EXISTS tmp; \
         IF EXISTS (SELECT 1) THEN SELECT 'x'; ELSEIF 1 THEN SELECT 2; ELSE SELECT 3; END IF; END",
        // Handlers with a statement and with a block.
        "CREATE PROCEDURE h() BEGIN DECLARE done INT DEFAULT 0; DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1; \
         DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; SELECT 1; END",
        // MariaDB: an anonymous block with a FOR loop.
        "BEGIN NOT ATOMIC DECLARE i INT DEFAULT 0; FOR j IN 1..3 DO SET i = i + j; END FOR; SELECT i; END",
        // An event, and CASE ... END CASE nested in IF.
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN IF 1 THEN CASE WHEN 1 THEN DELETE FROM a; END CASE; END IF; END",
    ];
    for case in cases {
        let src = format!("{case};\nSELECT 'next';");
        assert_eq!(texts(&src, Dialect::MySql), [*case, "SELECT 'next'"], "{case}");
    }
    // A single-statement trigger body using the IF() function ends at its `;`.
    assert_eq!(
        texts(
            "CREATE TRIGGER t2 BEFORE UPDATE ON a FOR EACH ROW SET NEW.v = IF(NEW.v IS NULL, 'x', NEW.v); SELECT 1;",
            Dialect::MySql
        ),
        [
            "CREATE TRIGGER t2 BEFORE UPDATE ON a FOR EACH ROW SET NEW.v = IF(NEW.v IS NULL, 'x', NEW.v)",
            "SELECT 1"
        ]
    );
}

#[test]
fn a_leading_bom_is_not_text() {
    let src = "\u{feff}-- description: x\nCREATE TABLE a (id INT);\nSELECT 1;";
    for dialect in Dialect::SQL {
        let out = split(src, dialect);
        assert_eq!(
            out,
            [
                Statement {
                    text: "CREATE TABLE a (id INT)",
                    line: 2
                },
                Statement {
                    text: "SELECT 1",
                    line: 3
                }
            ]
        );
    }
    assert_eq!(texts("\u{feff}CREATE (:A);", Dialect::Cypher), ["CREATE (:A)"]);
    assert_eq!(strip_bom("\u{feff}x\u{feff}"), "x\u{feff}");
}

#[test]
fn delimiter_lines_are_found_outside_strings_and_comments() {
    let src = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\n  delimiter ;\n\
               SELECT 'x\nDELIMITER y';\n-- DELIMITER z\nSELECT 1 DELIMITER;\nDELIMITER $$\n";
    // Line 3 ends the statement `END //` began: the first line of each
    // DELIMITER block is what the build reports.
    for dialect in Dialect::SQL {
        assert_eq!(scan(src, dialect).delimiter_lines, [1, 8], "{dialect:?}");
    }
    let named_so = "CREATE TABLE t (\n  delimiter TEXT\n);\nCOPY t FROM '/tmp/t.csv' WITH (\n  DELIMITER ','\n);";
    for dialect in Dialect::SQL {
        assert_eq!(
            scan(named_so, dialect).delimiter_lines,
            Vec::<usize>::new(),
            "{dialect:?}"
        );
    }
}

#[test]
fn mysql_executable_comments_are_statements() {
    let src = "/*!40101 SET NAMES utf8mb4 */;\n/* plain */ /*M!100100 SET @a = 1 */;\nSELECT 1 /*!50100 + 1 */;";
    assert_eq!(
        texts(src, Dialect::MySql),
        [
            "/*!40101 SET NAMES utf8mb4 */",
            "/*M!100100 SET @a = 1 */",
            "SELECT 1 /*!50100 + 1 */"
        ]
    );
    assert_eq!(
        texts("/*!40101 SET NAMES utf8mb4 */;", Dialect::Postgres),
        Vec::<&str>::new()
    );
}

#[test]
fn plain_begin_is_not_a_block() {
    assert_eq!(
        texts("BEGIN; SELECT 1; COMMIT;", Dialect::Sqlite),
        ["BEGIN", "SELECT 1", "COMMIT"]
    );
}
