//! Queries through neo4rs, each read to its end so that the connection
//! goes back to the pool clean.

use super::tx::{detached, Tx};
use neo4rs::{query, Graph, Query, Row};

/// Statements in one explicit transaction, committed together (each exchange
/// on a task of its own, as `Tx` says why); on a failure, rolled back, with the
/// index of the statement that failed (the last one for a failure to begin
/// or commit).
pub(super) async fn run_together(graph: &Graph, statements: &[&str]) -> Result<(), (usize, neo4rs::Error)> {
    let last = statements.len().saturating_sub(1);
    let mut txn = Tx::begin(graph).await.map_err(|err| (0, err))?;
    for (index, statement) in statements.iter().enumerate() {
        if let Err(err) = txn.run(query(statement)).await {
            txn.rollback().await;
            return Err((index, err));
        }
    }
    txn.commit().await.map_err(|err| (last, err))
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
