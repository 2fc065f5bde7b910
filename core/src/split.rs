//! Splits a migration file into statements.
//!
//! Each statement is sent on its own, so that an error names the statement
//! that failed, and so that a `no-transaction` file is not turned back into
//! one implicit transaction by PostgreSQL's multi-statement simple query.
//! The splitter only needs to know where a `;` ends a statement: it skips
//! strings, quoted identifiers, comments, PostgreSQL `$tag$` bodies, the
//! parenthesised actions of a PostgreSQL `CREATE RULE`, and the compound
//! bodies of triggers, procedures, functions and events (`BEGIN ... END`,
//! `IF ... END IF`, `CASE ... END [CASE]`, loops, labels). It never panics and
//! never drops text: every byte outside comments belongs to some statement.
//!
//! It reads the file once, front to back: every byte is looked at a bounded
//! number of times and line numbers are counted as it goes, so a seed file of
//! 50,000 statements splits in milliseconds.

/// U+FEFF at the start of a file, as some editors save UTF-8: not text.
const BOM: &str = "\u{feff}";

/// The file without a leading UTF-8 byte order mark. Directives, statements
/// and checksums all read the text through this, so a BOM changes nothing.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
    Cypher,
}

impl Dialect {
    /// The SQL dialects, for checks that must hold whichever database a
    /// `.sql` folder is meant for.
    pub const SQL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement without its terminating `;` and surrounding blanks.
    pub text: &'a str,
    /// 1-based line of the file where the statement starts.
    pub line: usize,
}

/// The statements of a file, in order. A leading BOM is skipped.
pub fn split(source: &str, dialect: Dialect) -> Vec<Statement<'_>> {
    scan(source, dialect).statements
}

/// What one pass over a file finds.
pub(crate) struct Scan<'a> {
    pub statements: Vec<Statement<'a>>,
    /// Lines whose first word, outside strings and comments, is `DELIMITER`:
    /// the mysql client's command, which no server understands.
    pub delimiter_lines: Vec<usize>,
}

pub(crate) fn scan(source: &str, dialect: Dialect) -> Scan<'_> {
    let mut splitter = Splitter::new(strip_bom(source), dialect);
    let mut scan = Scan {
        statements: Vec::new(),
        delimiter_lines: Vec::new(),
    };
    splitter.run(&mut scan);
    scan
}

/// Whether a Cypher statement changes the schema: `CREATE` or `DROP` of a
/// constraint or an index, in any of their forms (`CREATE TEXT INDEX`,
/// `DROP CONSTRAINT name IF EXISTS`, the older `CREATE INDEX ON :L(p)`).
/// Neo4j refuses a transaction that both changes the schema and writes data,
/// so the two kinds are run differently, and a file may hold only one.
pub fn is_cypher_schema(statement: &str) -> bool {
    // The command word, then at most two words before CONSTRAINT or INDEX:
    // `CREATE INDEX`, `CREATE RANGE INDEX`, but not `CREATE (:Index)`.
    let words = leading_words(statement, Dialect::Cypher, 3);
    let is = |word: &&str, keyword: &str| word.eq_ignore_ascii_case(keyword);
    match words.split_first() {
        Some((command, rest)) if is(command, "CREATE") || is(command, "DROP") => {
            rest.iter().any(|word| is(word, "CONSTRAINT") || is(word, "INDEX"))
        }
        _ => false,
    }
}

/// The first `limit` words of a statement, skipping comments and blanks, and
/// stopping at the first thing that is not a word (a quote, a parenthesis).
pub(crate) fn leading_words(statement: &str, dialect: Dialect, limit: usize) -> Vec<&str> {
    let mut scanner = Splitter::new(statement, dialect);
    let mut words = Vec::with_capacity(limit);
    while words.len() < limit {
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
        words.push(&statement[start..scanner.pos]);
    }
    words
}

/// One token of a statement, outside comments and blanks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    Word(&'a str),
    /// A string, quoted name or dollar-quoted body.
    Quoted,
    Punct(u8),
}

/// The first `limit` tokens of a statement.
pub(crate) fn tokens(statement: &str, dialect: Dialect, limit: usize) -> Vec<Token<'_>> {
    let mut scanner = Splitter::new(statement, dialect);
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit && scanner.pos < scanner.src.len() {
        let byte = scanner.src[scanner.pos];
        if scanner.skip_comment() {
            continue;
        }
        if byte.is_ascii_whitespace() {
            scanner.pos += 1;
        } else if scanner.skip_quoted() {
            out.push(Token::Quoted);
        } else if is_word_byte(byte) {
            let start = scanner.pos;
            while scanner.pos < scanner.src.len() && is_word_byte(scanner.src[scanner.pos]) {
                scanner.pos += 1;
            }
            out.push(Token::Word(&statement[start..scanner.pos]));
        } else {
            out.push(Token::Punct(byte));
            scanner.pos += 1;
        }
    }
    out
}

struct Splitter<'a> {
    source: &'a str,
    src: &'a [u8],
    dialect: Dialect,
    pos: usize,
    /// Newlines are counted up to `counted`, once each: positions asked for
    /// only grow, so the count is linear in the file.
    counted: usize,
    line: usize,
}

/// What kind of statement is being read, as far as `;` is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    /// Its first `;` ends it.
    #[default]
    Plain,
    /// After `CREATE`, before the word that says what is created.
    CreateHeader,
    /// A trigger, procedure, function or event (or MariaDB's
    /// `BEGIN NOT ATOMIC`): its compound body holds `;`.
    Routine,
    /// A PostgreSQL rule: its parenthesised actions hold `;`.
    Rule,
}

/// A construct open in a routine's body, closed by `END [IF|CASE|...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    Block,
    If,
    CaseStatement,
    CaseExpression,
    Loop,
    While,
    Repeat,
    For,
}

/// Per-statement state for finding where a compound body ends. Only what
/// follows is tracked: the kind of statement, the constructs still open, and
/// whether the previous token lets a new statement begin (which tells the
/// `IF` statement from the `IF()` function and `IF EXISTS`, the `REPEAT`
/// loop from the `REPEAT()` function, a `CASE` statement from an expression).
#[derive(Default)]
struct Compound {
    kind: Kind,
    words: usize,
    open: Vec<Open>,
    /// The previous token ends a statement or opens a statement list.
    statement_start: bool,
    /// The previous word was an `END` that closed something: an `IF`, `CASE`,
    /// `LOOP`, ... right after it names what it closed.
    after_end: bool,
    /// Inside `DEFINER = user@host` of a MySQL `CREATE`.
    in_definer: bool,
    previous_word_security: bool,
    previous_word_begin: bool,
    /// Parentheses open in a rule.
    parens: usize,
}

impl Compound {
    /// Whether a `;` here is inside a body rather than the statement's end.
    fn holds_semicolon(&self) -> bool {
        !self.open.is_empty() || (self.kind == Kind::Rule && self.parens > 0)
    }

    fn word(&mut self, word: &[u8]) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        self.words += 1;
        let statement_start = std::mem::take(&mut self.statement_start);
        let after_end = std::mem::take(&mut self.after_end);
        if self.words == 1 {
            if is("CREATE") {
                self.kind = Kind::CreateHeader;
            }
            self.previous_word_begin = is("BEGIN");
            return;
        }
        if self.words == 2 && self.previous_word_begin && is("NOT") {
            // MariaDB's anonymous block: BEGIN NOT ATOMIC ... END.
            self.kind = Kind::Routine;
            self.open.push(Open::Block);
            return;
        }
        match self.kind {
            Kind::Plain | Kind::Rule => {}
            Kind::CreateHeader => self.create_header(word),
            Kind::Routine => self.routine_word(word, statement_start, after_end),
        }
    }

    /// `CREATE [OR REPLACE] [TEMP] [DEFINER = x] [SQL SECURITY y] [CONSTRAINT]
    /// [AGGREGATE] <kind>`: the first other word says what is created.
    fn create_header(&mut self, word: &[u8]) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        let routine = is("TRIGGER") || is("PROCEDURE") || is("FUNCTION") || is("EVENT");
        let security = std::mem::take(&mut self.previous_word_security);
        if self.in_definer && !(routine || is("SQL") || is("AGGREGATE")) {
            return;
        }
        self.in_definer = false;
        if is("DEFINER") && !security {
            self.in_definer = true;
        } else if is("SECURITY") {
            self.previous_word_security = true;
        } else if routine {
            self.kind = Kind::Routine;
        } else if is("RULE") {
            self.kind = Kind::Rule;
        } else if ![
            "OR",
            "REPLACE",
            "TEMP",
            "TEMPORARY",
            "SQL",
            "INVOKER",
            "DEFINER",
            "CONSTRAINT",
            "AGGREGATE",
        ]
        .iter()
        .any(|modifier| is(modifier))
        {
            self.kind = Kind::Plain;
        }
    }

    fn routine_word(&mut self, word: &[u8], statement_start: bool, after_end: bool) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword.as_bytes());
        if after_end && (is("IF") || is("CASE") || is("LOOP") || is("WHILE") || is("REPEAT") || is("FOR")) {
            // END IF, END CASE, ...: the END already closed it.
            return;
        }
        if is("BEGIN") {
            self.open.push(Open::Block);
            self.statement_start = true;
        } else if is("CASE") {
            self.open.push(if statement_start {
                Open::CaseStatement
            } else {
                Open::CaseExpression
            });
        } else if is("IF") && statement_start {
            self.open.push(Open::If);
        } else if is("LOOP") {
            self.open.push(Open::Loop);
            self.statement_start = true;
        } else if is("WHILE") {
            self.open.push(Open::While);
        } else if is("REPEAT") && statement_start {
            self.open.push(Open::Repeat);
            self.statement_start = true;
        } else if is("FOR") && statement_start {
            // MariaDB's FOR ... DO ... END FOR.
            self.open.push(Open::For);
        } else if is("END") {
            self.after_end = self.open.pop().is_some();
        } else if is("THEN") || is("ELSE") {
            self.statement_start = matches!(self.open.last(), Some(Open::If | Open::CaseStatement));
        } else {
            // Words after which a routine's body, or a statement list, begins:
            // WHILE/FOR ... DO, an event's DO, [NOT] ATOMIC, a trigger's
            // FOR EACH ROW, a procedure's characteristics, a handler's
            // condition.
            self.statement_start = [
                "DO",
                "ATOMIC",
                "ROW",
                "DETERMINISTIC",
                "SQL",
                "DATA",
                "INVOKER",
                "DEFINER",
                "SQLEXCEPTION",
                "SQLWARNING",
                "FOUND",
            ]
            .iter()
            .any(|keyword| is(keyword));
        }
    }

    /// Any token other than a word: a punctuation byte (`next` follows it),
    /// or a string or quoted name (`byte` is its opening quote).
    fn other(&mut self, byte: u8, previous: Option<u8>, next: Option<u8>) {
        self.words += usize::from(self.words == 0);
        self.after_end = false;
        self.statement_start = match byte {
            b';' => true,
            // A label, `name:`; not `:=`, nor PostgreSQL's `::` cast.
            b':' => previous != Some(b':') && !matches!(next, Some(b':' | b'=')),
            // The end of a procedure's parameter list: its body may follow.
            b')' => self.kind == Kind::Routine && self.open.is_empty(),
            _ => false,
        };
        if self.kind == Kind::Rule {
            match byte {
                b'(' => self.parens += 1,
                b')' => self.parens = self.parens.saturating_sub(1),
                _ => {}
            }
        }
    }
}

impl<'a> Splitter<'a> {
    fn new(source: &'a str, dialect: Dialect) -> Self {
        Splitter {
            source,
            src: source.as_bytes(),
            dialect,
            pos: 0,
            counted: 0,
            line: 1,
        }
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    /// The line of `pos`, which must not be before a position asked before.
    fn line_at(&mut self, pos: usize) -> usize {
        let pos = pos.max(self.counted);
        self.line += self.src[self.counted..pos].iter().filter(|&&b| b == b'\n').count();
        self.counted = pos;
        self.line
    }

    fn run(&mut self, scan: &mut Scan<'a>) {
        let mut start: Option<(usize, usize)> = None;
        let mut compound = Compound::default();
        let sql = self.dialect != Dialect::Cypher;
        while self.pos < self.src.len() {
            let byte = self.src[self.pos];
            if byte.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            // MySQL runs the text of `/*! ... */` (MariaDB also `/*M! ... */`),
            // as mysqldump writes it: such a comment is statement text.
            let rest = &self.src[self.pos..];
            if byte == b'/' && self.dialect == Dialect::MySql && (rest.starts_with(b"/*!") || rest.starts_with(b"/*M!"))
            {
                self.mark_start(&mut start);
            }
            if self.skip_comment() {
                continue;
            }
            if byte == b';' && !compound.holds_semicolon() {
                self.finish(scan, start.take(), self.pos);
                compound = Compound::default();
                self.pos += 1;
                continue;
            }
            self.mark_start(&mut start);
            let token = self.pos;
            if self.skip_quoted() {
                compound.other(byte, None, None);
                continue;
            }
            if is_word_byte(byte) {
                while self.pos < self.src.len() && is_word_byte(self.src[self.pos]) {
                    self.pos += 1;
                }
                if sql {
                    let word = &self.src[token..self.pos];
                    compound.word(word);
                    // The client's command starts a line and what it reads as a
                    // statement; a column or a COPY option named so does neither.
                    let starts_statement = start.is_some_and(|(at, _)| at == token);
                    if starts_statement && word.eq_ignore_ascii_case(b"DELIMITER") && self.starts_line(token) {
                        let line = self.line_at(token);
                        scan.delimiter_lines.push(line);
                    }
                }
                continue;
            }
            let previous = token.checked_sub(1).map(|at| self.src[at]);
            compound.other(byte, previous, self.peek(1));
            self.pos += 1;
        }
        let end = self.src.len();
        self.finish(scan, start, end);
    }

    /// Records where the current statement starts, if it has not started.
    fn mark_start(&mut self, start: &mut Option<(usize, usize)>) {
        if start.is_none() {
            *start = Some((self.pos, self.line_at(self.pos)));
        }
    }

    fn finish(&mut self, scan: &mut Scan<'a>, start: Option<(usize, usize)>, end: usize) {
        let Some((start, line)) = start else { return };
        let text = self.source[start..end].trim_end();
        if !text.is_empty() {
            scan.statements.push(Statement { text, line });
        }
    }

    /// Whether only blanks stand between the start of its line and `at`.
    fn starts_line(&self, at: usize) -> bool {
        self.src[..at]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|&b| b == b' ' || b == b'\t' || b == b'\r')
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
    fn postgres_rule_actions_in_parentheses_stay_whole() {
        let src = "CREATE RULE r AS ON INSERT TO v DO INSTEAD (INSERT INTO a VALUES (NEW.id); INSERT INTO b VALUES (NEW.id));\n\
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

    /// Issue 15: `SET x = CASE ... END;` then `IF ... END IF;` swallowed the
    /// rest of the file, and a failure on line 11 was reported at line 1.
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

    /// Per dialect: the compound statements and quoting issue 15 names, and
    /// what must keep working.
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
            Dialect::Cypher => &[],
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

    /// A seed file of 50,000 statements: every line number right. (It used
    /// to take minutes: each statement recounted the lines from the start.)
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
}
