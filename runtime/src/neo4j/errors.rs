//! Neo4j's name in messages and its errors: the server's code and message,
//! the codes the backend acts on, and the retry of transient errors.

use crate::Error;
use std::time::{Duration, Instant};

pub(super) const NAME: &str = "Neo4j";

/// Neo4j's answer to a schema command whose index name is taken.
pub(super) const INDEX_NAME_TAKEN: &str = "Neo.ClientError.Schema.IndexWithNameAlreadyExists";

/// Neo4j 2025 and later's answer to a query whose matched node another
/// transaction deleted before it was read (5.26 returns nulls instead).
pub(super) const NODE_GONE: &str = "Neo.ClientError.Statement.EntityNotFound";

/// Between two attempts to take a lock another process holds, or to send
/// again what a transient error refused.
pub(super) const LOCK_POLL: Duration = Duration::from_millis(500);

/// Whether the server says to try again: Neo4j's `TransientError`s, such
/// as the `DeadlockDetected` that concurrent MERGEs of the lock node get
/// when several processes boot at once.
pub(super) fn is_transient(err: &neo4rs::Error) -> bool {
    server_code(err).is_some_and(|code| code.starts_with("Neo.TransientError."))
}

pub(super) fn has_code(err: &neo4rs::Error, code: &str) -> bool {
    server_code(err) == Some(code)
}

/// The server's error code. neo4rs 0.8 returns a failure answering RUN as
/// `Error::Neo4j`, but one answering PULL (a query that fails while its
/// rows are read, as a MERGE meeting a node deleted under it does on Neo4j
/// 2025 and later) only as the text of `UnexpectedMessage`, whose code is
/// read from that text.
fn server_code(err: &neo4rs::Error) -> Option<&str> {
    match err {
        neo4rs::Error::Neo4j(e) => Some(e.code()),
        neo4rs::Error::UnexpectedMessage(text) => failure_field(text, "code"),
        _ => None,
    }
}

/// A field of the failure that neo4rs 0.8 wrote into an
/// `UnexpectedMessage` with `{:?}`: `BoltString { value: "code" }:
/// String(BoltString { value: "Neo.ClientError..." })`.
fn failure_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    let key = format!("BoltString {{ value: \"{field}\" }}: String(BoltString {{ value: \"");
    let start = text.find(&key)? + key.len();
    let rest = &text[start..];
    rest.find("\" })").map(|end| &rest[..end])
}

/// Whether to try again after `result`: a transient error with time left
/// before `timeout` since `started` (then it has waited a poll interval).
/// Otherwise the result stands, the last error included.
pub(super) async fn try_again<T>(result: &Result<T, neo4rs::Error>, started: Instant, timeout: Duration) -> bool {
    match result {
        Err(err) if is_transient(err) && started.elapsed() < timeout => {
            tracing::debug!(error = %err, "transient Neo4j error; trying again");
            tokio::time::sleep(LOCK_POLL.min(timeout.saturating_sub(started.elapsed()))).await;
            true
        }
        _ => false,
    }
}

pub(super) fn db_err(operation: &str) -> impl FnOnce(neo4rs::Error) -> Error + '_ {
    move |err| Error::database(NAME, operation, message(&err)).with_source(err)
}

/// The server's own words where there are some.
pub(super) fn message(err: &neo4rs::Error) -> String {
    match err {
        neo4rs::Error::Neo4j(e) => format!("{}: {}", e.code(), e.message()),
        neo4rs::Error::UnexpectedMessage(text) => match (failure_field(text, "code"), failure_field(text, "message")) {
            (Some(code), Some(message)) => format!("{code}: {}", message.replace("\\\"", "\"")),
            _ => text.clone(),
        },
        other => other.to_string(),
    }
}

pub(super) fn row_err(operation: &str) -> impl FnOnce(neo4rs::DeError) -> Error + '_ {
    move |err| {
        Error::database(
            NAME,
            operation,
            format!("unexpected value in the tracking nodes: {err}"),
        )
    }
}

/// neo4rs 0.8 sends no transaction timeout (Bolt's `tx_timeout`), and
/// Cypher has no statement to set one: a migration's timeouts are refused
/// rather than ignored.
pub(super) fn no_timeouts(given: &str) -> Error {
    Error::Unsupported {
        backend: NAME,
        what: format!(
            "{given}: the driver (neo4rs 0.8) cannot give a transaction a timeout; the server's \
             db.transaction.timeout applies"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{has_code, message};

    #[test]
    fn reads_the_code_and_message_of_a_failure_answering_pull() {
        let text = "unexpected response for PULL: Ok(Failure(Failure { metadata: BoltMap { value: \
                    {BoltString { value: \"message\" }: String(BoltString { value: \"Unable to load NODE 4:f:1.\" }), \
                    BoltString { value: \"code\" }: String(BoltString { value: \"Neo.ClientError.Statement.EntityNotFound\" })} } }))";
        let err = neo4rs::Error::UnexpectedMessage(text.to_string());
        assert!(has_code(&err, "Neo.ClientError.Statement.EntityNotFound"));
        assert_eq!(
            message(&err),
            "Neo.ClientError.Statement.EntityNotFound: Unable to load NODE 4:f:1."
        );
        assert!(!has_code(&err, "Neo.ClientError.Statement.SyntaxError"));
        assert!(!has_code(
            &neo4rs::Error::UnexpectedMessage("no code".to_string()),
            "Neo.ClientError.Statement.EntityNotFound"
        ));
    }
}
