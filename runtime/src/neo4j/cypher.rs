//! Queries through neo4rs, each read to its end so that the connection
//! goes back to the pool clean.

use neo4rs::{query, Graph, Query, Row, Txn};

/// Statements in one explicit transaction, committed together; on a
/// failure, rolled back, with the index of the statement that failed (the
/// last one for a failure to begin or commit).
pub(super) async fn run_together(graph: &Graph, statements: &[&str]) -> Result<(), (usize, neo4rs::Error)> {
    let last = statements.len().saturating_sub(1);
    let mut txn = graph.start_txn().await.map_err(|err| (0, err))?;
    for (index, statement) in statements.iter().enumerate() {
        if let Err(err) = txn.run(query(statement)).await {
            rollback(txn).await;
            return Err((index, err));
        }
    }
    txn.commit().await.map_err(|err| (last, err))
}

/// Pulls every row of an auto-commit query.
pub(super) async fn fetch_rows(graph: &Graph, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = graph.execute(q).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await? {
        rows.push(row);
    }
    Ok(rows)
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
