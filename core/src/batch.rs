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

use crate::split::{split, Dialect};
use crate::{Header, Language, Problem, Rule, ScannedFile};

/// The placeholder the batch size is bound to.
pub const PLACEHOLDER: &str = ":batch";

/// The rule every batch statement must follow, in words, for messages.
pub const UNPROCESSED_RULE: &str = "the statement must select only rows it has not processed yet \
     (e.g. `WHERE x IS NULL`), so that it ends with a batch that changes no row and a resumed run \
     processes nothing twice";

/// The rows per inner transaction of `CALL { ... } IN TRANSACTIONS` without
/// `OF N ROWS` (Neo4j's default).
pub const CYPHER_DEFAULT_ROWS: u64 = 1000;

/// The rule of a Cypher batch statement, in words, for messages.
pub const CYPHER_UNPROCESSED_RULE: &str = "the statement must match only nodes it has not processed yet \
     (e.g. `MATCH (n:Person) WHERE n.x IS NULL`): each inner transaction commits, so a run killed midway \
     resumes by running it again, and nothing is processed twice";

/// The words of a Cypher statement outside strings, quoted names and
/// comments, upper-cased: what the rules below look for.
fn cypher_words(statement: &str) -> Vec<String> {
    let bytes = statement.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    // `\'` inside a Cypher string; backticks escape by doubling.
                    i += if bytes[i] == b'\\' && quote != b'`' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
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
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                words.push(statement[start..i].to_ascii_uppercase());
            }
            _ => i += 1,
        }
    }
    words
}

/// Whether a Cypher statement is `CALL { ... } IN TRANSACTIONS`: `None`
/// when it is not, `Some(rows)` when it is, with the `OF N ROWS` it gives
/// (`None` when it gives none or a parameter).
pub fn in_transactions(statement: &str) -> Option<Option<u64>> {
    let words = cypher_words(statement);
    let at = words.windows(2).position(|w| w[0] == "IN" && w[1] == "TRANSACTIONS")?;
    Some(match &words[at + 2..] {
        [of, n, rows, ..] if of == "OF" && (rows == "ROWS" || rows == "ROW") => n.parse().ok(),
        _ => None,
    })
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
            Ok(header) => Self::from_file(&header, text, language),
            Err(_) => Ok(None),
        }
    }

    /// As [`BatchSpec::from_text`], the header already parsed. On Cypher the
    /// directive takes no size: Neo4j batches a `CALL { ... } IN
    /// TRANSACTIONS OF N ROWS` itself, and `size` is that N (Neo4j's
    /// default, [`CYPHER_DEFAULT_ROWS`], when the statement gives none).
    pub fn from_file(header: &Header, text: &str, language: Language) -> Result<Option<BatchSpec>, String> {
        if language == Language::Sql {
            return Self::from_header(header);
        }
        if language == Language::Chroma {
            // A `copy` step is batched by what it is, not by a directive.
            return Ok(match crate::chroma::copy_step(text) {
                Some(crate::chroma::Step::Copy { batch_size, .. }) => Some(BatchSpec {
                    size: batch_size,
                    total: None,
                }),
                _ => None,
            });
        }
        let Some(args) = &header.batch else {
            return Self::from_header(header);
        };
        if !args.is_empty() {
            return Err(format!(
                "`migrate:batch {args}`: on Cypher the directive takes no argument; Neo4j batches the statement \
                 itself, so write the size in it: `CALL {{ ... }} IN TRANSACTIONS OF N ROWS`"
            ));
        }
        let mut spec = Self::from_header(&Header {
            batch: Some(format!("size={CYPHER_DEFAULT_ROWS}")),
            ..header.clone()
        })?
        .expect("a batch directive");
        let statements = split(text, Dialect::Cypher);
        if let [statement] = statements.as_slice() {
            if let Some(Some(rows)) = in_transactions(statement.text) {
                spec.size = rows;
            }
        }
        Ok(Some(spec))
    }

    /// The SQL form, from the directives alone: `migrate:batch size=N` with
    /// N a positive integer, and an optional non-empty `migrate:total`.
    /// `Ok(None)` without `migrate:batch`; `Err` for a bad size, an empty
    /// `migrate:total`, or a `migrate:total` without `migrate:batch`.
    pub fn from_header(header: &Header) -> Result<Option<BatchSpec>, String> {
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
    if down.header.batch.is_some() || down.header.total.is_some() {
        refuse(
            problems,
            down,
            "`migrate:batch` belongs in an up file: a down file runs once, in one transaction".to_string(),
        );
    }
    match language {
        Language::Sql => check_sql(up, problems),
        Language::Cypher => check_cypher(up, down, problems),
        // A Chroma file's one batched step, `copy`, is checked with its
        // other steps (crate::chroma).
        Language::Chroma => {}
    }
}

/// A [`Rule::Batch`] problem of `file`.
fn refuse(problems: &mut Vec<Problem>, file: &ScannedFile, message: String) {
    problems.push(Problem::new(
        Rule::Batch,
        &file.path,
        format!("`{}`: {message}", file.file_name),
    ));
}

/// The rules of a SQL batch migration: `migrate:batch size=N`, a
/// transaction per batch, and one statement that takes its batch size from
/// the placeholder.
fn check_sql(up: &ScannedFile, problems: &mut Vec<Problem>) {
    match BatchSpec::from_header(&up.header) {
        Ok(Some(_)) => {}
        Ok(None) => return,
        Err(message) => return refuse(problems, up, message),
    }
    if up.header.no_transaction {
        refuse(
            problems,
            up,
            "`migrate:batch` runs each batch in its own transaction and cannot be combined with \
             `migrate:no-transaction`"
                .to_string(),
        );
    }
    let statements = split(&up.text, Dialect::Postgres);
    if statements.len() != 1 {
        return refuse(
            problems,
            up,
            format!(
                "a batch migration holds exactly one statement, run once per batch; this file holds {} \
                 (put the others in a migration of their own); {UNPROCESSED_RULE}",
                statements.len()
            ),
        );
    }
    if placeholders(statements[0].text).is_empty() {
        refuse(
            problems,
            up,
            format!(
                "line {}: the batch statement must limit each batch with the `{PLACEHOLDER}` placeholder \
                 (e.g. `... LIMIT {PLACEHOLDER}`), which is bound to the batch size; {UNPROCESSED_RULE}",
                statements[0].line
            ),
        );
    }
}

/// The rules of a Cypher batch migration: `// migrate:batch` (no size),
/// one `CALL { ... } IN TRANSACTIONS` statement, run auto-commit; and that
/// construct nowhere else, since Neo4j refuses it in the explicit
/// transaction every other file runs in.
fn check_cypher(up: &ScannedFile, down: &ScannedFile, problems: &mut Vec<Problem>) {
    if let Some(line) = call_in_transactions(down) {
        refuse(
            problems,
            down,
            format!(
                "line {line}: `CALL {{ ... }} IN TRANSACTIONS` cannot run in a down file: Neo4j runs it only \
                 outside an explicit transaction, and only an up file can be a batch migration (`// migrate:batch`); \
                 revert in one transaction, or write the revert as the up file of a new migration"
            ),
        );
    }
    match BatchSpec::from_file(&up.header, &up.text, Language::Cypher) {
        Ok(Some(_)) => check_cypher_statement(up, problems),
        Ok(None) => {
            if let Some(line) = call_in_transactions(up) {
                refuse(
                    problems,
                    up,
                    format!(
                        "line {line}: `CALL {{ ... }} IN TRANSACTIONS` runs only outside an explicit transaction, \
                         which Neo4j refuses otherwise: add `// migrate:batch` to make the file a batch migration \
                         (its one statement then runs auto-commit under the migration lock); {CYPHER_UNPROCESSED_RULE}"
                    ),
                );
            }
        }
        Err(message) => refuse(problems, up, message),
    }
}

/// The line of the first `CALL { ... } IN TRANSACTIONS` of a Cypher file.
fn call_in_transactions(file: &ScannedFile) -> Option<usize> {
    split(&file.text, Dialect::Cypher)
        .iter()
        .find(|s| in_transactions(s.text).is_some())
        .map(|s| s.line)
}

/// The file of a Cypher batch migration: its one statement is a `CALL { ...
/// } IN TRANSACTIONS`, run outside an explicit transaction.
fn check_cypher_statement(up: &ScannedFile, problems: &mut Vec<Problem>) {
    if up.header.no_transaction {
        refuse(
            problems,
            up,
            "`migrate:batch` already runs its statement outside an explicit transaction and cannot be \
             combined with `migrate:no-transaction`"
                .to_string(),
        );
    }
    let statements = split(&up.text, Dialect::Cypher);
    if statements.len() != 1 {
        return refuse(
            problems,
            up,
            format!(
                "a Cypher batch migration holds exactly one statement, `CALL {{ ... }} IN TRANSACTIONS`; this \
                 file holds {} (put the others in a migration of their own); {CYPHER_UNPROCESSED_RULE}",
                statements.len()
            ),
        );
    }
    if in_transactions(statements[0].text).is_none() {
        refuse(
            problems,
            up,
            format!(
                "line {}: on Cypher a batch migration is one `CALL {{ ... }} IN TRANSACTIONS [OF N ROWS]` \
                 statement, Neo4j's own batching, run auto-commit; {CYPHER_UNPROCESSED_RULE}",
                statements[0].line
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::batch::{in_transactions, placeholders, substitute, BatchSpec, CYPHER_DEFAULT_ROWS};
    use crate::Language;

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

    /// The rules a scan applies to Cypher batch files are tested with the
    /// folder (`folder::tests`); here, the size read off the statement.
    #[test]
    fn a_cypher_batch_size_is_the_rows_of_its_call() {
        let call = "MATCH (n:P) WHERE n.x IS NULL CALL { WITH n SET n.x = 1 } IN TRANSACTIONS OF 500 ROWS;";
        let spec = BatchSpec::from_text(
            &format!("// migrate:batch\n// migrate:total MATCH (n) RETURN count(n)\n{call}"),
            Language::Cypher,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (spec.size, spec.total.as_deref()),
            (500, Some("MATCH (n) RETURN count(n)"))
        );
        let no_rows = "MATCH (n) CALL { WITH n SET n.x = 1 } IN TRANSACTIONS;";
        let spec = BatchSpec::from_text(&format!("// migrate:batch\n{no_rows}"), Language::Cypher);
        assert_eq!(spec.unwrap().unwrap().size, CYPHER_DEFAULT_ROWS);
        // The words in a string or a comment are not the construct.
        assert_eq!(in_transactions("RETURN 'IN TRANSACTIONS' // in transactions"), None);
        assert_eq!(
            in_transactions("CALL { RETURN 1 } in  transactions of $n rows"),
            Some(None)
        );
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
