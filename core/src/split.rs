//! Splits a migration file into statements.
//!
//! Each statement is sent on its own, so that an error names the statement
//! that failed, and so that a `no-transaction` file is not turned back into
//! one implicit transaction by PostgreSQL's multi-statement simple query.
//! The splitter only needs to know where a `;` ends a statement: it skips
//! strings, quoted identifiers, comments, PostgreSQL `$tag$` bodies and the
//! `BEGIN ... END` bodies of triggers and procedures. It never panics and
//! never drops text: every byte outside comments belongs to some statement.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
    Cypher,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement without its terminating `;` and surrounding blanks.
    pub text: &'a str,
    /// 1-based line of the file where the statement starts.
    pub line: usize,
}

pub fn split(source: &str, dialect: Dialect) -> Vec<Statement<'_>> {
    let mut splitter = Splitter {
        src: source.as_bytes(),
        dialect,
        pos: 0,
        out: Vec::new(),
        source,
    };
    splitter.run();
    splitter.out
}

/// Whether a Cypher statement changes the schema: `CREATE` or `DROP` of a
/// constraint or an index, in any of their forms (`CREATE TEXT INDEX`,
/// `DROP CONSTRAINT name IF EXISTS`, the older `CREATE INDEX ON :L(p)`).
/// Neo4j refuses a transaction that both changes the schema and writes data,
/// so the two kinds are run differently, and a file may hold only one.
pub fn is_cypher_schema(statement: &str) -> bool {
    let mut scanner = Splitter {
        source: statement,
        src: statement.as_bytes(),
        dialect: Dialect::Cypher,
        pos: 0,
        out: Vec::new(),
    };
    // The command word, then at most two words before CONSTRAINT or INDEX:
    // `CREATE INDEX`, `CREATE RANGE INDEX`, but not `CREATE (:Index)`.
    let mut words = Vec::with_capacity(3);
    while words.len() < 3 {
        while scanner.pos < scanner.src.len() {
            if scanner.skip_comment() {
                continue;
            }
            if !scanner.src[scanner.pos].is_ascii_whitespace() {
                break;
            }
            scanner.pos += 1;
        }
        let start = scanner.pos;
        while scanner.pos < scanner.src.len() && is_word_byte(scanner.src[scanner.pos]) {
            scanner.pos += 1;
        }
        if start == scanner.pos {
            break;
        }
        words.push(&scanner.src[start..scanner.pos]);
    }
    let is = |word: &&[u8], keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
    match words.split_first() {
        Some((command, rest)) if is(command, "CREATE") || is(command, "DROP") => {
            rest.iter().any(|word| is(word, "CONSTRAINT") || is(word, "INDEX"))
        }
        _ => false,
    }
}

struct Splitter<'a> {
    source: &'a str,
    src: &'a [u8],
    dialect: Dialect,
    pos: usize,
    out: Vec<Statement<'a>>,
}

/// Per-statement state for finding `BEGIN ... END` bodies.
#[derive(Default)]
struct Block {
    words: usize,
    first_is_create: bool,
    is_routine: bool,
    depth: usize,
    after_end: bool,
    previous_word_begin: bool,
}

impl Splitter<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    fn run(&mut self) {
        let mut start: Option<usize> = None;
        let mut block = Block::default();
        while self.pos < self.src.len() {
            let byte = self.src[self.pos];
            // MySQL runs the text of `/*! ... */` (MariaDB also `/*M! ... */`),
            // as mysqldump writes it: such a comment is statement text.
            let rest = &self.src[self.pos..];
            if self.dialect == Dialect::MySql && (rest.starts_with(b"/*!") || rest.starts_with(b"/*M!")) {
                start.get_or_insert(self.pos);
            }
            if self.skip_comment() {
                continue;
            }
            if byte.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            if byte == b';' && block.depth == 0 {
                self.finish(start.take(), self.pos);
                block = Block::default();
                self.pos += 1;
                continue;
            }
            start.get_or_insert(self.pos);
            if self.skip_quoted() {
                continue;
            }
            if is_word_byte(byte) {
                let word_start = self.pos;
                while self.pos < self.src.len() && is_word_byte(self.src[self.pos]) {
                    self.pos += 1;
                }
                if self.dialect != Dialect::Cypher {
                    self.track_block(&mut block, word_start);
                }
                continue;
            }
            self.pos += 1;
        }
        let end = self.src.len();
        self.finish(start, end);
    }

    fn finish(&mut self, start: Option<usize>, end: usize) {
        let Some(start) = start else { return };
        let text = self.source[start..end].trim_end();
        if text.is_empty() {
            return;
        }
        let line = 1 + self.src[..start].iter().filter(|&&b| b == b'\n').count();
        self.out.push(Statement { text, line });
    }

    fn track_block(&mut self, block: &mut Block, word_start: usize) {
        let word = &self.src[word_start..self.pos];
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        block.words += 1;
        if block.words == 1 {
            block.first_is_create = is("CREATE");
            // MariaDB's anonymous block: BEGIN NOT ATOMIC ... END.
            block.previous_word_begin = is("BEGIN");
            return;
        }
        if block.words == 2 && block.previous_word_begin && is("NOT") {
            block.is_routine = true;
            block.depth = 1;
            return;
        }
        if block.first_is_create
            && block.depth == 0
            && (is("TRIGGER") || is("PROCEDURE") || is("FUNCTION") || is("EVENT"))
        {
            block.is_routine = true;
        }
        if !block.is_routine {
            return;
        }
        if block.after_end {
            block.after_end = false;
            // END IF / END LOOP / END WHILE / END REPEAT close constructs
            // that never opened a level; END CASE was counted by its CASE.
            if is("IF") || is("LOOP") || is("WHILE") || is("REPEAT") {
                block.depth += 1;
                return;
            }
            if is("CASE") {
                return;
            }
        }
        if is("BEGIN") || (is("CASE") && block.depth > 0) {
            block.depth += 1;
        } else if is("END") && block.depth > 0 {
            block.depth -= 1;
            block.after_end = true;
        }
    }

    /// Skips a comment at the current position; returns whether it did.
    fn skip_comment(&mut self) -> bool {
        let (a, b) = (self.peek(0), self.peek(1));
        let line_comment = match self.dialect {
            Dialect::Cypher => a == Some(b'/') && b == Some(b'/'),
            Dialect::MySql => {
                a == Some(b'#')
                    || (a == Some(b'-') && b == Some(b'-') && self.peek(2).is_none_or(|c| c.is_ascii_whitespace()))
            }
            _ => a == Some(b'-') && b == Some(b'-'),
        };
        if line_comment {
            while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
                self.pos += 1;
            }
            return true;
        }
        if a == Some(b'/') && b == Some(b'*') {
            // PostgreSQL nests block comments; the others end at the first */.
            let nests = self.dialect == Dialect::Postgres;
            let mut depth = 0usize;
            while self.pos < self.src.len() {
                if self.peek(0) == Some(b'/') && self.peek(1) == Some(b'*') {
                    if depth == 0 || nests {
                        depth += 1;
                    }
                    self.pos += 2;
                } else if self.peek(0) == Some(b'*') && self.peek(1) == Some(b'/') {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    self.pos += 1;
                }
            }
            return true;
        }
        false
    }

    /// Skips a string, quoted identifier or dollar-quoted body.
    fn skip_quoted(&mut self) -> bool {
        let byte = self.src[self.pos];
        let backslash = match self.dialect {
            Dialect::MySql | Dialect::Cypher => true,
            // E'...' strings take C-style escapes; plain strings do not.
            Dialect::Postgres => {
                byte == b'\''
                    && self.pos > 0
                    && matches!(self.src[self.pos - 1], b'e' | b'E')
                    && (self.pos < 2 || !is_word_byte(self.src[self.pos - 2]))
            }
            Dialect::Sqlite => false,
        };
        let close = match byte {
            b'\'' | b'"' | b'`' => byte,
            b'[' if self.dialect == Dialect::Sqlite => b']',
            b'$' if self.dialect == Dialect::Postgres => return self.skip_dollar_quoted(),
            _ => return false,
        };
        let backslash = backslash && byte != b'`';
        self.pos += 1;
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if backslash && c == b'\\' {
                self.pos += 2;
                continue;
            }
            self.pos += 1;
            if c == close {
                break;
            }
        }
        self.pos = self.pos.min(self.src.len());
        true
    }

    fn skip_dollar_quoted(&mut self) -> bool {
        // `$1` is a parameter and `a$b` an identifier, not a quote.
        if self.pos > 0 && is_word_byte(self.src[self.pos - 1]) {
            return false;
        }
        let mut end = self.pos + 1;
        while end < self.src.len() && is_word_byte(self.src[end]) {
            end += 1;
        }
        if end >= self.src.len() || self.src[end] != b'$' || self.src.get(self.pos + 1).is_some_and(u8::is_ascii_digit)
        {
            return false;
        }
        let tag = &self.src[self.pos..=end];
        let body = end + 1;
        match find(&self.src[body..], tag) {
            Some(at) => self.pos = body + at + tag.len(),
            None => self.pos = self.src.len(),
        }
        true
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str, dialect: Dialect) -> Vec<&str> {
        split(src, dialect).into_iter().map(|s| s.text).collect()
    }

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

    #[test]
    fn cypher_strings_backticks_and_comments() {
        let src =
            "// migrate:no-transaction\nCREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE;\n\
                   MERGE (n:A {id: 'x;\\'y'}) /* ; */ RETURN n; // done;\n;";
        assert_eq!(
            texts(src, Dialect::Cypher),
            [
                "CREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE",
                "MERGE (n:A {id: 'x;\\'y'}) /* ; */ RETURN n"
            ]
        );
    }

    #[test]
    fn cypher_hostile_inputs() {
        let cases: &[(&str, &[&str])] = &[
            // `;` inside strings of both quotes, with escaped quotes and an escaped backslash before the close.
            (
                "RETURN \"a;\\\"b;\" AS x; RETURN 'c\\\\'; RETURN 'd'",
                &["RETURN \"a;\\\"b;\" AS x", "RETURN 'c\\\\'", "RETURN 'd'"],
            ),
            // Backtick identifiers: `;`, quotes and comment openers inside; a doubled backtick is an escaped one.
            (
                "MATCH (n:`we;ird'//`) RETURN n.`a``;b`; RETURN 1",
                &["MATCH (n:`we;ird'//`) RETURN n.`a``;b`", "RETURN 1"],
            ),
            // `//` inside a string is not a comment; `--` is a pattern, not a comment.
            (
                "MERGE (s:Site {url: 'http://x;y'}); MATCH (a)--(b) RETURN a;",
                &["MERGE (s:Site {url: 'http://x;y'})", "MATCH (a)--(b) RETURN a"],
            ),
            // Comments holding quotes and semicolons.
            (
                "/* it's; \"not\" */ RETURN 1; // it's;\nRETURN 2 /* ; */;",
                &["RETURN 1", "RETURN 2 /* ; */"],
            ),
            // Empty statements, blank lines, CRLF, comment-only files.
            (";;\r\n ; \r\nRETURN 1;\r\n;", &["RETURN 1"]),
            ("// only a comment;\n/* and another; */\n", &[]),
            ("", &[]),
            // Non-ASCII text around separators.
            (
                "RETURN 'é;ü' AS ü;RETURN \"日本;\"",
                &["RETURN 'é;ü' AS ü", "RETURN \"日本;\""],
            ),
            // An unterminated block comment or string swallows the rest, and nothing is lost before it.
            ("RETURN 1; /* open; RETURN 2;", &["RETURN 1"]),
            (
                "RETURN 1; RETURN 'open; RETURN 2;",
                &["RETURN 1", "RETURN 'open; RETURN 2;"],
            ),
        ];
        for (src, expected) in cases {
            assert_eq!(texts(src, Dialect::Cypher), *expected, "{src:?}");
        }
        let lines: Vec<usize> = split("\n// c\nRETURN 1;\n\n  RETURN\n2;", Dialect::Cypher)
            .iter()
            .map(|s| s.line)
            .collect();
        assert_eq!(lines, [3, 5]);
    }

    #[test]
    fn cypher_schema_statements() {
        for schema in [
            "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE",
            "create constraint on (p:Person) assert p.id is unique",
            "DROP CONSTRAINT person_id IF EXISTS",
            "CREATE INDEX person_name FOR (p:Person) ON (p.name)",
            "CREATE TEXT INDEX t IF NOT EXISTS FOR (p:Person) ON (p.bio)",
            "CREATE FULLTEXT INDEX f FOR (n:Doc) ON EACH [n.body]",
            "CREATE RANGE INDEX r FOR ()-[k:KNOWS]-() ON (k.since)",
            "DROP INDEX ON :Person(name)",
            "CREATE /* why */ INDEX i FOR (n:N) ON (n.x)",
            "CREATE // why\n  VECTOR INDEX v FOR (n:N) ON (n.embedding)",
        ] {
            assert!(is_cypher_schema(schema), "{schema}");
        }
        for data in [
            "CREATE (:Index {name: 'x'})",
            "CREATE (i:Constraint)",
            "MATCH (n:INDEX) DELETE n",
            "MERGE (n:Person {id: 1})",
            "CALL db.awaitIndexes()",
            "SHOW INDEXES",
            "DROP",
            "",
            "/* CREATE INDEX */ RETURN 1",
            "CREATE OR REPLACE DATABASE index",
        ] {
            assert!(!is_cypher_schema(data), "{data}");
        }
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
            "é",
            "[",
            "]",
            "#",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut src = String::new();
            for _ in 0..(seed % 12) {
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
}
