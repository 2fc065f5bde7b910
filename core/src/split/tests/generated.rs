//! Generated files: statements put together in any order, and random or
//! exhaustive inputs, for what holds on every input: the right cuts and
//! lines, no overlap, no panic.

use super::texts;
use crate::split::{is_cypher_schema, split, Dialect, Statement};

/// Statements every SQL dialect splits the same way.
const COMMON_PIECES: &[&str] = &[
    "CREATE TABLE a (id INT, v TEXT)",
    "INSERT INTO a VALUES (1, 'x;y')",
    "SELECT 'it''s; fine', \"q;\"",
    "UPDATE a\nSET v = CASE WHEN id = 1 THEN 'a' ELSE 'b' END\nWHERE id > 0",
    "BEGIN",
    "COMMIT",
    "CREATE VIEW w AS SELECT CASE WHEN id > 0 THEN 'end' END AS e FROM a",
];

/// Per dialect: compound statements and quoting that hold a `;` which
/// does not end the statement.
fn pieces(dialect: Dialect) -> Vec<&'static str> {
    let own: &[&str] = match dialect {
        Dialect::Sqlite => &[
            "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  UPDATE a SET v = CASE WHEN NEW.id > 1 THEN 'x;' END;\n  DELETE FROM a WHERE id < 0;\nEND",
            "CREATE TEMP TRIGGER IF NOT EXISTS u BEFORE DELETE ON a FOR EACH ROW WHEN CASE OLD.id WHEN 1 THEN 1 END\nBEGIN\n  SELECT RAISE(ABORT, 'no; way');\nEND",
            "CREATE TABLE [we;ird] (x)",
        ],
        Dialect::Postgres => &[
            "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql",
            "DO $do$ BEGIN PERFORM 1; IF true THEN NULL; END IF; END $do$",
            "SELECT E'a\\';b', U&'d\\0061t; a', $q$x;$q$",
            "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN x > 0 THEN x END;\nEND",
            "CREATE RULE r AS ON INSERT TO v DO INSTEAD (\n  INSERT INTO a VALUES (NEW.id);\n  INSERT INTO b VALUES (NEW.id)\n)",
            "CREATE OR REPLACE RULE s AS ON UPDATE TO v DO ALSO NOTHING",
            "SELECT x::int FROM a",
        ],
        Dialect::MySql => &[
            "CREATE PROCEDURE p()\nBEGIN\n  DECLARE x INT;\n  SET x = CASE WHEN 1 THEN 2 ELSE 3 END;\n  IF x > 1 THEN\n    SELECT 1;\n  END IF;\nEND",
            "CREATE PROCEDURE q()\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  outer_loop: LOOP\n    SET i = i + 1;\n    IF i > 3 THEN LEAVE outer_loop; END IF;\n  END LOOP outer_loop;\n  WHILE i > 0 DO SET i = i - 1; END WHILE;\n  REPEAT SET i = i + 1; UNTIL i >= 2 END REPEAT;\nEND",
            "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC\nBEGIN\n  CASE x WHEN 1 THEN RETURN IF(x > 0, 1, 2);\n  ELSE RETURN 0;\n  END CASE;\nEND",
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW\nIF NEW.id IS NULL THEN\n  SET NEW.id = 0;\nEND IF",
            "CREATE TRIGGER t2 BEFORE UPDATE ON a FOR EACH ROW SET NEW.v = IF(NEW.v IS NULL, 'x', NEW.v)",
            "CREATE DEFINER=`root`@`localhost` PROCEDURE r()\nBEGIN\n  DROP TABLE IF EXISTS tmp;\n  IF EXISTS (SELECT 1) THEN SELECT 'x'; ELSE SELECT 3; END IF;\nEND",
            "BEGIN NOT ATOMIC\n  FOR j IN 1..3 DO SELECT j; END FOR;\nEND",
            "SELECT 'a\\';b'",
            "/*!40101 SET NAMES utf8mb4 */",
        ],
        // Toml files are cut at `[[step]]`, not at `;`: not generated here.
        Dialect::Cypher | Dialect::Toml => &[],
    };
    COMMON_PIECES.iter().chain(own).copied().collect()
}

fn separators(dialect: Dialect) -> Vec<&'static str> {
    let mut out = vec![
        "",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "-- a comment; with 'quotes'\n",
        "/* c; */ ",
    ];
    match dialect {
        Dialect::Postgres => out.push("/* outer /* inner; */ still; */\n"),
        Dialect::MySql => out.push("# hash comment;\n"),
        _ => {}
    }
    out
}

/// Files built from known statements and separators, in any order and
/// any number: the split gives back exactly those statements, each with
/// the line it starts on, with or without a BOM and a final `;`.
#[test]
fn generated_files_split_at_the_right_places_and_lines() {
    let mut seed = 0x51_7cc1_b727_220au64;
    let mut next = |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    for dialect in Dialect::SQL {
        let pieces = pieces(dialect);
        let separators = separators(dialect);
        for _ in 0..3_000 {
            let mut src = String::new();
            if next(4) == 0 {
                src.push('\u{feff}');
            }
            let mut expected = Vec::new();
            let count = next(8);
            for i in 0..count {
                for _ in 0..next(3) {
                    src.push_str(separators[next(separators.len())]);
                }
                let piece = pieces[next(pieces.len())];
                let line = 1 + src.matches('\n').count();
                src.push_str(piece);
                expected.push(Statement { text: piece, line });
                if i + 1 < count || next(2) == 0 {
                    src.push(';');
                }
            }
            let out = split(&src, dialect);
            assert_eq!(out, expected, "{dialect:?} {src:?}");
            for statement in out {
                assert_eq!(texts(statement.text, dialect), [statement.text], "{dialect:?}");
            }
        }
    }
}

/// A seed file of 50,000 statements: every line number right, with lines
/// counted once as the pass goes (recounting from the start of the file for
/// each statement would take minutes here).
#[test]
fn large_files_keep_their_line_numbers() {
    let mut src = String::from("CREATE TABLE seed (id INT, v TEXT);\n");
    for i in 0..50_000 {
        src.push_str(&format!(
            "INSERT INTO seed VALUES ({i}, 'row {i}; with a semicolon');\n"
        ));
    }
    let out = split(&src, Dialect::MySql);
    assert_eq!(out.len(), 50_001);
    for (index, statement) in out.iter().enumerate() {
        assert_eq!(statement.line, index + 1);
    }
    assert_eq!(
        out[50_000].text,
        "INSERT INTO seed VALUES (49999, 'row 49999; with a semicolon')"
    );
}
/// Cypher-heavy random input: no panic, statements in order and never
/// overlapping, nothing but separators and comments between them, and
/// each statement split again on its own gives back exactly itself.
#[test]
fn cypher_split_properties() {
    let alphabet: &[&str] = &[
        ";", "'", "\"", "`", "``", "\\", "\\'", "//", "/*", "*/", "/", "*", "\n", "\r\n", " ", "-", "--", "(n)",
        "CREATE ", "INDEX ", "RETURN 1", "é", "日",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..30_000 {
        let mut src = String::new();
        for _ in 0..(seed % 16) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            src.push_str(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let statements = split(&src, Dialect::Cypher);
        let mut last_end = 0;
        for statement in &statements {
            let offset = statement.text.as_ptr() as usize - src.as_ptr() as usize;
            assert!(offset >= last_end, "{src:?}");
            assert!(split(&src[last_end..offset], Dialect::Cypher).is_empty(), "{src:?}");
            last_end = offset + statement.text.len();
            assert!(
                !statement.text.is_empty() && statement.text.trim() == statement.text,
                "{src:?}"
            );
            let again = split(statement.text, Dialect::Cypher);
            assert_eq!(again.len(), 1, "{src:?} -> {:?}", statement.text);
            assert_eq!(again[0].text, statement.text, "{src:?}");
            let _ = is_cypher_schema(statement.text);
        }
        assert!(split(&src[last_end..], Dialect::Cypher).is_empty(), "{src:?}");
    }
}

#[test]
fn unterminated_input_never_panics() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql, Dialect::Cypher] {
        for src in [
            "'",
            "\"abc",
            "/* x",
            "$a$ b",
            "$",
            "E'\\",
            "`",
            "[",
            "CREATE TRIGGER x BEGIN",
            "é;ü'",
            "\\",
        ] {
            let _ = split(src, dialect);
        }
    }
}

/// Every byte sequence, cut anywhere: no panic, and statements never
/// overlap or run out of order.
#[test]
fn exhaustive_small_inputs_never_panic() {
    let alphabet: &[&str] = &[
        ";",
        "'",
        "\"",
        "`",
        "$",
        "$$",
        "-",
        "/",
        "*",
        "\\",
        "\n",
        "e",
        "BEGIN ",
        "END ",
        "CREATE TRIGGER ",
        "CREATE RULE (",
        "BEGIN NOT ",
        "IF ",
        "CASE ",
        "END IF",
        "REPEAT ",
        "DO ",
        "x: ",
        "(",
        ")",
        "é",
        "[",
        "]",
        "#",
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        let mut src = String::new();
        for _ in 0..(seed % 14) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            src.push_str(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql, Dialect::Cypher] {
            let mut last_end = 0;
            for statement in split(&src, dialect) {
                let offset = statement.text.as_ptr() as usize - src.as_ptr() as usize;
                assert!(offset >= last_end, "{src:?}");
                last_end = offset + statement.text.len();
                assert!(!statement.text.is_empty());
            }
        }
    }
}
