//! The first tokens or words of one statement: enough to tell what kind of
//! statement it is (a transaction command, a Cypher schema change) without
//! parsing it.

use super::scanner::{is_word_byte, Dialect, Scanner};

/// One token of a statement, outside comments and blanks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    Word(&'a str),
    /// A string, quoted name or dollar-quoted body, with its quotes.
    Quoted(&'a str),
    Punct(u8),
}

/// The first `limit` tokens of a statement.
pub(crate) fn tokens(statement: &str, dialect: Dialect, limit: usize) -> Vec<Token<'_>> {
    let mut scanner = Scanner::new(statement, dialect);
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit && !scanner.at_end() {
        let byte = scanner.src[scanner.pos];
        let start = scanner.pos;
        if scanner.skip_comment() {
            continue;
        }
        if byte.is_ascii_whitespace() {
            scanner.pos += 1;
        } else if scanner.skip_quoted() {
            out.push(Token::Quoted(&statement[start..scanner.pos]));
        } else if is_word_byte(byte) {
            scanner.skip_word();
            out.push(Token::Word(&statement[start..scanner.pos]));
        } else {
            out.push(Token::Punct(byte));
            scanner.pos += 1;
        }
    }
    out
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
fn leading_words(statement: &str, dialect: Dialect, limit: usize) -> Vec<&str> {
    let mut scanner = Scanner::new(statement, dialect);
    let mut words = Vec::with_capacity(limit);
    while words.len() < limit {
        while !scanner.at_end() {
            if scanner.skip_comment() {
                continue;
            }
            if !scanner.src[scanner.pos].is_ascii_whitespace() {
                break;
            }
            scanner.pos += 1;
        }
        let start = scanner.pos;
        scanner.skip_word();
        if start == scanner.pos {
            break;
        }
        words.push(&statement[start..scanner.pos]);
    }
    words
}
