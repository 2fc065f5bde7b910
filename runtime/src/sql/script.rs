//! A migration's text as the statements a transaction sends, and what a
//! statement says of the transaction it runs in: plain text, no driver,
//! shared by the sqlx sessions (transaction.rs) and the plain drivers'
//! session (driver/).

use crate::backend::Change;
use crate::core::split::{split, Dialect};

/// Statements joined into one batch, each ended by `;` on a line of its
/// own, so that a statement ending in a line comment still ends.
pub(crate) fn join_statements(parts: Vec<String>) -> String {
    let mut batch = parts.join("\n;\n");
    batch.push_str("\n;");
    batch
}

/// The statements of `change`'s script, as `dialect` reads them: what a
/// batch sends.
pub(crate) fn statements(change: &Change<'_>, dialect: Dialect) -> impl Iterator<Item = String> {
    let statements: Vec<String> = split(change.text(), dialect)
        .into_iter()
        .map(|s| s.text.to_string())
        .collect();
    statements.into_iter()
}

/// Whether `statement` ends a transaction, by its first words: `COMMIT`,
/// `END`, `ROLLBACK` and `ABORT` (not `ROLLBACK TO` a savepoint), `PREPARE
/// TRANSACTION`. Used only to name the statement once the database showed
/// that the transaction ended; never to decide that it did.
pub(crate) fn ends_transaction(statement: &str) -> bool {
    let words = first_words(statement, 3);
    match words.first().map(String::as_str) {
        Some("COMMIT" | "END") => true,
        Some("ROLLBACK" | "ABORT") => !words.iter().any(|word| word == "TO"),
        Some("PREPARE") => words.get(1).is_some_and(|word| word == "TRANSACTION"),
        _ => false,
    }
}

/// Whether `statement`, which ended a transaction, rolled it back.
pub(crate) fn rolls_back(statement: &str) -> bool {
    matches!(
        first_words(statement, 1).first().map(String::as_str),
        Some("ROLLBACK" | "ABORT")
    )
}

/// The first `n` words of `statement`, upper case, past its leading
/// comments.
fn first_words(statement: &str, n: usize) -> Vec<String> {
    let mut rest = statement.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, next)| next).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, next)| next).trim_start();
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty())
        .take(n)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The change and the statement that ended the transaction: where the
/// backend saw it, completed by the statements' words (the first that
/// ends a transaction, from the change it names or the first); failing
/// that, the change's last statement, so that what may have committed is
/// not understated.
pub(crate) fn locate_end(
    changes: &[Change<'_>],
    change: Option<usize>,
    statement: Option<usize>,
    dialect: Dialect,
) -> (usize, usize) {
    let from = change.unwrap_or(0).min(changes.len().saturating_sub(1));
    if let (Some(change), Some(statement)) = (change, statement) {
        return (change, statement);
    }
    let candidates = match change {
        Some(change) => change..change + 1,
        None => from..changes.len(),
    };
    for index in candidates {
        let change = &changes[index];
        let statements = split(change.text(), dialect);
        if let Some(at) = statements.iter().position(|s| ends_transaction(s.text)) {
            return (index, at);
        }
    }
    let change = &changes[from];
    let count = split(change.text(), dialect).len();
    (from, count.saturating_sub(1))
}
