//! The statement splitter: one pass over a file, front to back, that cuts
//! it at every `;` outside comments, quotes and compound bodies, and notes
//! the lines a `DELIMITER` command stands on.

use super::compound::Compound;
use super::scanner::{is_word_byte, Dialect, Scanner};

/// U+FEFF at the start of a file, as some editors save UTF-8: not text.
const BOM: &str = "\u{feff}";

/// The file without a leading UTF-8 byte order mark. Directives, statements
/// and checksums all read the text through this, so a BOM changes nothing.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// One statement of a file, as [`split`] cuts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement without its terminating `;` and surrounding blanks.
    pub text: &'a str,
    /// 1-based line of the file where the statement starts.
    pub line: usize,
}

/// The statements of a file, in order. A leading BOM is skipped.
pub fn split(source: &str, dialect: Dialect) -> Vec<Statement<'_>> {
    if dialect == Dialect::Toml {
        return steps(source);
    }
    scan(source, dialect).statements
}

/// A ChromaDB file's `[[step]]` tables, each from its header line to the
/// next one: what a dry run shows and a dirty mark counts. Comments before
/// the first are the file's header.
fn steps(source: &str) -> Vec<Statement<'_>> {
    let source = crate::split::strip_bom(source);
    let mut starts = Vec::new();
    let mut offset = 0;
    for (index, line) in source.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with("[[step]]") {
            starts.push((offset, index + 1));
        }
        offset += line.len();
    }
    let ends = starts.iter().skip(1).map(|&(at, _)| at).chain([source.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&(start, line), end)| Statement {
            text: source[start..end].trim_end(),
            line,
        })
        .collect()
}

/// What one pass over a file finds.
pub(crate) struct Scan<'a> {
    pub statements: Vec<Statement<'a>>,
    /// Lines whose first word, outside strings and comments, is `DELIMITER`:
    /// the mysql client's command, which no server understands.
    pub delimiter_lines: Vec<usize>,
}

pub(crate) fn scan(source: &str, dialect: Dialect) -> Scan<'_> {
    let mut splitter = Splitter {
        scanner: Scanner::new(strip_bom(source), dialect),
        sql: dialect != Dialect::Cypher,
        start: None,
        compound: Compound::default(),
        scan: Scan {
            statements: Vec::new(),
            delimiter_lines: Vec::new(),
        },
    };
    while !splitter.scanner.at_end() {
        splitter.step();
    }
    let end = splitter.scanner.src.len();
    splitter.finish(end);
    splitter.scan
}

/// The state of one pass: where the statement being read starts, what its
/// compound body holds open, and what has been found so far.
struct Splitter<'a> {
    scanner: Scanner<'a>,
    /// Compound bodies and `DELIMITER` lines are SQL's; Cypher has neither.
    sql: bool,
    /// Offset and line of the first byte of the statement being read.
    start: Option<(usize, usize)>,
    compound: Compound,
    scan: Scan<'a>,
}

impl<'a> Splitter<'a> {
    /// Reads what stands at the current position: a blank, a comment, the
    /// `;` that ends the statement, or one token of it.
    fn step(&mut self) {
        let byte = self.scanner.src[self.scanner.pos];
        if byte.is_ascii_whitespace() {
            self.scanner.pos += 1;
            return;
        }
        // MySQL runs the text of `/*! ... */` (MariaDB also `/*M! ... */`),
        // as mysqldump writes it: such a comment is statement text.
        let rest = &self.scanner.src[self.scanner.pos..];
        if byte == b'/'
            && self.scanner.dialect == Dialect::MySql
            && (rest.starts_with(b"/*!") || rest.starts_with(b"/*M!"))
        {
            self.mark_start();
        }
        if self.scanner.skip_comment() {
            return;
        }
        if byte == b';' && !self.compound.holds_semicolon() {
            let end = self.scanner.pos;
            self.finish(end);
            self.compound = Compound::default();
            self.scanner.pos += 1;
            return;
        }
        self.mark_start();
        self.token(byte);
    }

    /// Reads one token of the statement, a quoted one, a word or a
    /// punctuation byte, and tells the compound body about it.
    fn token(&mut self, byte: u8) {
        let token = self.scanner.pos;
        if self.scanner.skip_quoted() {
            self.compound.other(byte, None, None);
            return;
        }
        if is_word_byte(byte) {
            self.scanner.skip_word();
            if self.sql {
                self.sql_word(token);
            }
            return;
        }
        let previous = token.checked_sub(1).map(|at| self.scanner.src[at]);
        self.compound.other(byte, previous, self.scanner.peek(1));
        self.scanner.pos += 1;
    }

    /// The SQL word that starts at `token` and ends at the current position.
    fn sql_word(&mut self, token: usize) {
        let src = self.scanner.src;
        let word = &src[token..self.scanner.pos];
        self.compound.word(word);
        // The client's command starts a line and what it reads as a
        // statement; a column or a COPY option named so does neither.
        let starts_statement = self.start.is_some_and(|(at, _)| at == token);
        if starts_statement && word.eq_ignore_ascii_case(b"DELIMITER") && self.scanner.starts_line(token) {
            let line = self.scanner.line_at(token);
            self.scan.delimiter_lines.push(line);
        }
    }

    /// Records where the current statement starts, if it has not started.
    fn mark_start(&mut self) {
        if self.start.is_none() {
            let pos = self.scanner.pos;
            self.start = Some((pos, self.scanner.line_at(pos)));
        }
    }

    /// Ends the statement being read at `end`; an empty one is dropped.
    fn finish(&mut self, end: usize) {
        let Some((start, line)) = self.start.take() else {
            return;
        };
        let text = self.scanner.source[start..end].trim_end();
        if !text.is_empty() {
            self.scan.statements.push(Statement { text, line });
        }
    }
}
