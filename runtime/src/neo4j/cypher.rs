//! Queries through neo4rs, each read to its end so that the connection
//! goes back to the pool clean.

use neo4rs::{query, Graph, Query, Row, Txn};
use std::future::Future;

/// Runs `work` on a task of its own, so that it reads its answer to the
/// end even when the caller is dropped (a run under a timeout, a cancelled
/// request): neo4rs 0.8 hands a connection dropped mid-answer back to the
/// pool, where the next query reads the stale answer as its own, and every
/// later one the answer before its own. A write whose answer was read that
/// way reports no row although it ran.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, neo4rs::Error>> + Send + 'static,
) -> Result<T, neo4rs::Error> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(neo4rs::Error::UnexpectedMessage(
                "the query's task was cancelled: the runtime is shutting down".to_string(),
            )),
        },
    }
}

/// Statements in one explicit transaction, committed together (on a task
/// of its own, as `detached` says why); on a failure, rolled back, with the
/// index of the statement that failed (the last one for a failure to begin
/// or commit).
pub(super) async fn run_together(graph: &Graph, statements: &[&str]) -> Result<(), (usize, neo4rs::Error)> {
    let last = statements.len().saturating_sub(1);
    let graph = graph.clone();
    let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
    let outcome = detached(async move {
        let mut txn = match graph.start_txn().await {
            Ok(txn) => txn,
            Err(err) => return Ok(Err((0, err))),
        };
        for (index, statement) in statements.iter().enumerate() {
            if let Err(err) = txn.run(query(statement)).await {
                rollback(txn).await;
                return Ok(Err((index, err)));
            }
        }
        Ok(txn.commit().await.map_err(|err| (last, err)))
    })
    .await;
    outcome.unwrap_or_else(|err| Err((last, err)))
}

/// One auto-commit statement whose rows are not wanted.
pub(super) async fn run_auto(graph: &Graph, q: Query) -> Result<(), neo4rs::Error> {
    let graph = graph.clone();
    detached(async move { graph.run(q).await }).await
}

/// Pulls every row of an auto-commit query.
pub(super) async fn fetch_rows(graph: &Graph, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let graph = graph.clone();
    detached(async move {
        let mut stream = graph.execute(q).await?;
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await? {
            rows.push(row);
        }
        Ok(rows)
    })
    .await
}

/// Pulls every row, so the connection goes back to the pool clean.
pub(super) async fn rows_in(txn: &mut Txn, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = txn.execute(q).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await? {
        rows.push(row);
    }
    Ok(rows)
}

/// After a failed statement the server answers ROLLBACK with IGNORED until
/// the connection is reset (which the pool does when it hands the
/// connection out again), so a rollback error here is secondary: the
/// caller reports the failure that caused it.
pub(super) async fn rollback(txn: Txn) {
    if let Err(err) = txn.rollback().await {
        tracing::debug!(error = %err, "rollback after a failed statement");
    }
}
