//! Batch migrations: a data migration whose one statement runs again and
//! again, one batch per transaction, until a batch changes no row.
//!
//! ```sql
//! -- migrate:batch size=5000
//! -- migrate:total SELECT count(*) FROM t WHERE x IS NULL
//! UPDATE t SET x = 'n' WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);
//! ```
//!
//! The statement must select only rows it has not processed yet: that is
//! what makes it stop, and what makes a run resumed after a crash process
//! nothing twice. The build checks the form (one statement, `:batch`
//! present, a positive size, a transaction per batch); the meaning is the
//! author's, and every message says so.

use crate::folder::{Problem, Rule, ScannedFile};
use crate::split::{split, Dialect};
use crate::Language;

/// The placeholder the batch size is bound to.
pub const PLACEHOLDER: &str = ":batch";

/// The rule every batch statement must follow, in words, for messages.
pub const UNPROCESSED_RULE: &str = "the statement must select only rows it has not processed yet \
     (e.g. `WHERE x IS NULL`), so that it ends with a batch that changes no row and a resumed run \
     processes nothing twice";

/// A `migrate:` directive of a batch migration, with its arguments.
pub(crate) enum Directive<'a> {
    Batch(&'a str),
    Total(&'a str),
}

/// Recognises `batch ...` and `total ...` after `migrate:`.
pub(crate) fn directive(text: &str) -> Option<Directive<'_>> {
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    match word {
        "batch" => Some(Directive::Batch(rest.trim())),
        "total" => Some(Directive::Total(rest.trim())),
        _ => None,
    }
}

/// A batch migration as the runtime runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSpec {
    /// Rows per batch, bound to [`PLACEHOLDER`].
    pub size: u64,
    /// The count query giving the total for progress and ETA.
    pub total: Option<String>,
}

impl BatchSpec {
    /// Reads the `migrate:batch` and `migrate:total` directives of a file's
    /// text: `Ok(None)` when it has no `migrate:batch`, `Err` with the rule
    /// broken when its arguments are wrong.
    pub fn from_text(text: &str, language: Language) -> Result<Option<BatchSpec>, String> {
        match crate::parse_header(text, language) {
            Ok(header) => Self::from_header(&header),
            Err(_) => Ok(None),
        }
    }

    pub fn from_header(header: &crate::Header) -> Result<Option<BatchSpec>, String> {
        let Some(args) = &header.batch else {
            return match header.total {
                Some(_) => Err("`migrate:total` belongs to a batch migration: add `migrate:batch size=N`".to_string()),
                None => Ok(None),
            };
        };
        let size = args
            .strip_prefix("size=")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                format!(
                    "`migrate:batch {args}`: write `migrate:batch size=N` with N a positive integer (rows per batch)"
                )
            })?;
        let total = match header.total.as_deref() {
            Some("") => {
                return Err(
                    "`migrate:total` needs a count query, e.g. `SELECT count(*) FROM t WHERE x IS NULL`".to_string(),
                )
            }
            other => other.map(str::to_string),
        };
        Ok(Some(BatchSpec { size, total }))
    }
}

/// The byte ranges of `:batch` in `statement`, outside strings, quoted
/// names and comments (`::batch`, a PostgreSQL cast to a type named batch,
/// and `:batches` are not it).
pub fn placeholders(statement: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = statement.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b':' if statement[i..].starts_with(PLACEHOLDER)
                && (i == 0 || bytes[i - 1] != b':')
                && !bytes
                    .get(i + PLACEHOLDER.len())
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') =>
            {
                found.push(i..i + PLACEHOLDER.len());
                i += PLACEHOLDER.len();
            }
            _ => i += 1,
        }
    }
    found
}

/// `statement` with every `:batch` replaced by `with`.
pub fn substitute(statement: &str, with: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    let mut last = 0;
    for range in placeholders(statement) {
        out.push_str(&statement[last..range.start]);
        out.push_str(with);
        last = range.end;
    }
    out.push_str(&statement[last..]);
    out
}

/// The build-time rules of a batch migration, for the up and down file of
/// one migration.
pub(crate) fn check(up: &ScannedFile, down: &ScannedFile, language: Language, problems: &mut Vec<Problem>) {
    let mut push = |file: &ScannedFile, message: String| {
        problems.push(Problem {
            rule: Rule::Batch,
            path: file.path.clone(),
            message: format!("`{}`: {message}", file.file_name),
        })
    };
    if down.header.batch.is_some() || down.header.total.is_some() {
        push(
            down,
            "`migrate:batch` belongs in an up file: a down file runs once, in one transaction".to_string(),
        );
    }
    match BatchSpec::from_header(&up.header) {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(message) => return push(up, message),
    }
    if language == Language::Cypher {
        return push(
            up,
            "`migrate:batch` is for SQL files; in Cypher write `CALL { ... } IN TRANSACTIONS OF N ROWS`, \
             Neo4j's own batching"
                .to_string(),
        );
    }
    if up.header.no_transaction {
        push(
            up,
            "`migrate:batch` runs each batch in its own transaction and cannot be combined with \
             `migrate:no-transaction`"
                .to_string(),
        );
    }
    let statements = split(&up.text, Dialect::Postgres);
    if statements.len() != 1 {
        return push(
            up,
            format!(
                "a batch migration holds exactly one statement, run once per batch; this file holds {} \
                 (put the others in a migration of their own); {UNPROCESSED_RULE}",
                statements.len()
            ),
        );
    }
    if placeholders(statements[0].text).is_empty() {
        push(
            up,
            format!(
                "line {}: the batch statement must limit each batch with the `{PLACEHOLDER}` placeholder \
                 (e.g. `... LIMIT {PLACEHOLDER}`), which is bound to the batch size; {UNPROCESSED_RULE}",
                statements[0].line
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_directives() {
        let text =
            "-- migrate:batch size=5000\n-- migrate:total SELECT count(*) FROM t\nUPDATE t SET x = 1 LIMIT :batch;";
        let spec = BatchSpec::from_text(text, Language::Sql).unwrap().unwrap();
        assert_eq!(spec.size, 5000);
        assert_eq!(spec.total.as_deref(), Some("SELECT count(*) FROM t"));
        for bad in ["size=0", "size=-1", "size=x", "5000", ""] {
            let text = format!("-- migrate:batch {bad}\nUPDATE t SET x = 1 LIMIT :batch;");
            let err = BatchSpec::from_text(&text, Language::Sql).unwrap_err();
            assert!(err.contains("positive integer"), "{bad}: {err}");
        }
        assert_eq!(BatchSpec::from_text("UPDATE t SET x = 1;", Language::Sql), Ok(None));
    }

    /// A folder with one migration, `up` and `down` as its files.
    fn scan_one(extension: &str, up: &str, down: &str) -> Vec<Problem> {
        let dir = std::env::temp_dir().join(format!("em-batch-{}-{extension}-{}", std::process::id(), up.len()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("001_backfill.up.{extension}")), up).unwrap();
        std::fs::write(dir.join(format!("001_backfill.down.{extension}")), down).unwrap();
        let problems = match crate::scan(&dir) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        };
        let _ = std::fs::remove_dir_all(&dir);
        problems
    }

    #[test]
    fn cypher_is_told_about_call_in_transactions_and_down_files_are_refused() {
        let problems = scan_one(
            "cypher",
            "// migrate:batch size=100\nMATCH (n) WHERE n.x IS NULL WITH n LIMIT :batch SET n.x = 1;",
            "MATCH (n) SET n.x = NULL;",
        );
        assert!(
            problems
                .iter()
                .any(|p| p.rule == Rule::Batch && p.message.contains("IN TRANSACTIONS")),
            "{problems:?}"
        );
        let problems = scan_one(
            "sql",
            "-- migrate:batch size=100\nUPDATE t SET x = 1 WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);",
            "-- migrate:batch size=100\nUPDATE t SET x = NULL LIMIT :batch;",
        );
        assert!(
            problems
                .iter()
                .any(|p| p.rule == Rule::Batch && p.message.contains("belongs in an up file")),
            "{problems:?}"
        );
        let fine = scan_one(
            "sql",
            "-- migrate:batch size=100\nUPDATE t SET x = 1 WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);",
            "UPDATE t SET x = NULL;",
        );
        assert!(fine.is_empty(), "{fine:?}");
    }

    #[test]
    fn finds_the_placeholder_outside_strings_and_comments() {
        let s = "UPDATE t SET a = ':batch', b = x::batch -- :batch\n WHERE id IN (SELECT id LIMIT :batch) /* :batch */ AND :batches";
        assert_eq!(placeholders(s).len(), 1);
        assert_eq!(
            substitute(s, "$1"),
            s.replacen("LIMIT :batch", "LIMIT $1", 1),
            "only the real placeholder is replaced"
        );
    }
}
