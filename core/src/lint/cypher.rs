//! The Neo4j rules. Whether a label holds data is the database's to know,
//! not the build's: a label counts as holding data once an earlier
//! migration of the folder wrote, matched or constrained it, which is when
//! the application can have written nodes of it too. A label that first
//! appears in the migration creating its constraints is new, and is not
//! flagged.

use super::finding::{shown, Found};
use super::rules::named;
use crate::split::{is_cypher_schema, split, tokens, Dialect, Token};
use crate::Header;
use std::collections::BTreeSet;

/// The labels and relationship types earlier migrations named.
#[derive(Default)]
pub(super) struct Labels(BTreeSet<String>);

/// The findings of one up file; the labels it names are added to `labels`
/// for the files after it.
pub(super) fn lint(text: &str, header: &Header, labels: &mut Labels) -> Vec<Found> {
    let mut found = Vec::new();
    let mut named_here = Vec::new();
    for statement in split(text, Dialect::Cypher) {
        let tokens = tokens(statement.text, Dialect::Cypher, statement.text.len());
        let is = |token: &Token<'_>, keyword: &str| matches!(token, Token::Word(w) if w.eq_ignore_ascii_case(keyword));
        let pair = |first: &str, second: &str| tokens.windows(2).any(|w| is(&w[0], first) && is(&w[1], second));
        let show = || shown(statement.text);
        let mentioned = pattern_labels(&tokens);
        let creates_constraint =
            tokens.first().is_some_and(|t| is(t, "CREATE")) && tokens.iter().take(4).any(|t| is(t, "CONSTRAINT"));
        if creates_constraint && mentioned.iter().any(|l| labels.0.contains(l)) {
            found.push((statement.line, named("constraint-on-existing-label"), show()));
        }
        if pair("DETACH", "DELETE") && !pair("IN", "TRANSACTIONS") && header.batch.is_none() {
            found.push((statement.line, named("detach-delete-without-batch"), show()));
        }
        if is_cypher_schema(statement.text) {
            named_here.extend(mentioned);
        } else {
            // Data written before a constraint in the same file (a
            // no-transaction file may mix them) is data the constraint scans.
            labels.0.extend(mentioned);
        }
    }
    labels.0.extend(named_here);
    found
}

/// The labels and relationship types a statement's patterns name: a word
/// after `:` that follows `(`, `[`, or a variable just inside one or after
/// `SET`/`REMOVE` (`(n:Person)`, `[r:KNOWS]`, `SET n:Archived`), and not a
/// map's key (`{id: 1}`).
fn pattern_labels(tokens: &[Token<'_>]) -> Vec<String> {
    let mut labels = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let (Token::Punct(b':'), Some(label)) = (token, tokens.get(i + 1)) else {
            continue;
        };
        let label = match label {
            Token::Word(w) => w.to_string(),
            Token::Quoted(q) if q.starts_with('`') && q.len() >= 2 => q[1..q.len() - 1].to_string(),
            _ => continue,
        };
        let opens = |t: Option<&Token<'_>>| {
            matches!(t, Some(Token::Punct(b'(' | b'[')))
                || matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case("SET") || w.eq_ignore_ascii_case("REMOVE"))
        };
        let before = i.checked_sub(1).and_then(|j| tokens.get(j));
        let in_pattern = opens(before)
            || matches!(before, Some(Token::Word(_) | Token::Quoted(_)))
                && opens(i.checked_sub(2).and_then(|j| tokens.get(j)));
        if in_pattern {
            labels.push(label);
        }
    }
    labels
}
