//! The bytes of a file as a dialect reads them: where a comment, a string
//! or quoted name, a word ends, and which line a position is on. The
//! statement splitter and the token readers both move through a file with
//! a [`Scanner`].

/// How a file is read: which comments, quotes and escapes its database
/// knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `--` comments, `[name]` quoted names, no backslash escapes.
    Sqlite,
    /// `--` comments, nested block comments, `$tag$` bodies, backslash
    /// escapes in `E'...'` strings only.
    Postgres,
    /// `#` comments, `--` comments only when a blank follows, backslash
    /// escapes in strings, `/*! ... */` kept as statement text.
    MySql,
    /// `//` comments, backslash escapes in strings.
    Cypher,
    /// A ChromaDB step file: `#` comments, backslash escapes in strings,
    /// and each `[[step]]` table one statement (`split` cuts it there, not
    /// at `;`).
    Toml,
}

impl Dialect {
    /// The SQL dialects, for checks that must hold whichever database a
    /// `.sql` folder is meant for.
    pub const SQL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];
}

/// A position in a text, moved forward past what the dialect says is one
/// thing (a comment, a quoted string, a word).
pub(super) struct Scanner<'a> {
    pub(super) source: &'a str,
    pub(super) src: &'a [u8],
    pub(super) dialect: Dialect,
    pub(super) pos: usize,
    /// Newlines are counted up to `counted`, once each: positions asked for
    /// only grow, so the count is linear in the file.
    counted: usize,
    line: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(source: &'a str, dialect: Dialect) -> Self {
        Scanner {
            source,
            src: source.as_bytes(),
            dialect,
            pos: 0,
            counted: 0,
            line: 1,
        }
    }

    /// Whether the whole text has been read.
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(super) fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    /// The line of `pos`, which must not be before a position asked before.
    pub(super) fn line_at(&mut self, pos: usize) -> usize {
        let pos = pos.max(self.counted);
        self.line += self.src[self.counted..pos].iter().filter(|&&b| b == b'\n').count();
        self.counted = pos;
        self.line
    }

    /// Whether only blanks stand between the start of its line and `at`.
    pub(super) fn starts_line(&self, at: usize) -> bool {
        self.src[..at]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|&b| b == b' ' || b == b'\t' || b == b'\r')
    }

    /// Moves past the word bytes at the current position, if any.
    pub(super) fn skip_word(&mut self) {
        while self.pos < self.src.len() && is_word_byte(self.src[self.pos]) {
            self.pos += 1;
        }
    }

    /// Skips a comment at the current position; returns whether it did.
    pub(super) fn skip_comment(&mut self) -> bool {
        let (a, b) = (self.peek(0), self.peek(1));
        let line_comment = match self.dialect {
            Dialect::Cypher => a == Some(b'/') && b == Some(b'/'),
            Dialect::Toml => a == Some(b'#'),
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
            self.skip_block_comment();
            return true;
        }
        false
    }

    /// Skips the `/* ... */` at the current position.
    fn skip_block_comment(&mut self) {
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
    }

    /// Skips a string, quoted identifier or dollar-quoted body.
    pub(super) fn skip_quoted(&mut self) -> bool {
        let byte = self.src[self.pos];
        let backslash = match self.dialect {
            Dialect::MySql | Dialect::Cypher | Dialect::Toml => true,
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

pub(super) fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}
