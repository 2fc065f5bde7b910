//! PostgreSQL's batch: a migration's statements and its tracking writes in
//! one multi-statement query that carries its own BEGIN and COMMIT, one
//! round trip per migration. PostgreSQL runs such a query as written, and
//! leaves a failed one open and aborted until ROLLBACK.

use super::errors::db_err;
use super::tracking::PgTracking;
use crate::backend::Change;
use crate::core::split::Dialect;
use crate::sql::tracking::TrackingSql;
use crate::sql::transaction::join_statements;
use crate::sql::transaction::statements;
use crate::sql::transaction::BatchFailure;
use sqlx::postgres::PgConnection;
use sqlx::AssertSqlSafe;
use std::sync::atomic::{AtomicU64, Ordering};

/// Names the statements this process prepares, so that one left behind on
/// a connection (a run cancelled between PREPARE and the unlock, whose
/// connection is closed anyway) is never met by a PREPARE of the same name.
static PREPARED: AtomicU64 = AtomicU64::new(0);

/// What a session's batches leave on its connection.
#[derive(Default)]
pub(super) struct BatchState {
    /// The tracking statement prepared for this run, deallocated with the
    /// lock's release.
    pub prepared: Option<String>,
    /// A batch began a transaction of its own that sqlx does not know of,
    /// and its end (COMMIT, or ROLLBACK after a failure) was not confirmed.
    pub open_transaction: bool,
}

/// Runs `changes` in one transaction as one query; a failure is rolled
/// back, for the caller to replay.
pub(super) async fn run_in_transaction(
    conn: &mut PgConnection,
    sql: &TrackingSql,
    state: &mut BatchState,
    changes: &[Change<'_>],
) -> Result<(), BatchFailure> {
    let finish = finish_statement(conn, sql, state, changes).await?;
    let batch = batch(sql, changes, finish);
    run_own_transaction(conn, sql, state, batch)
        .await
        .map_err(BatchFailure::RolledBack)
}

/// The batch without BEGIN and COMMIT: each change's statements, in a group
/// each change's history row timed by the server, and the tracking writes
/// folded into one last statement holding the state guard, `finish`.
fn batch(sql: &TrackingSql, changes: &[Change<'_>], finish: String) -> String {
    let pg = PgTracking::new(sql);
    let mut parts = Vec::new();
    for change in changes {
        parts.extend(statements(change, Dialect::Postgres));
        // One change's history row is part of the folded last statement.
        if changes.len() > 1 {
            parts.push(pg.history_literal(change));
        }
    }
    parts.extend(pg.settle_durations_literal(changes.len()));
    parts.extend(sql.delete_records_literal(changes));
    parts.push(finish);
    join_statements(parts)
}

/// The last statement of the batch, which writes the tracking rows and the
/// state under the state guard. A one-migration batch ends with the
/// `EXECUTE` of a tracking statement prepared on the first such batch of the
/// run: one more trip per run, no planning per migration.
async fn finish_statement(
    conn: &mut PgConnection,
    sql: &TrackingSql,
    state: &mut BatchState,
    changes: &[Change<'_>],
) -> Result<String, crate::Error> {
    let pg = PgTracking::new(sql);
    if state.prepared.is_none() && PgTracking::one_applied(changes).is_some() {
        let name = format!("_em_finish_{}", PREPARED.fetch_add(1, Ordering::Relaxed));
        sqlx::raw_sql(AssertSqlSafe(pg.prepare_finish_one(&name)))
            .execute(&mut *conn)
            .await
            .map_err(db_err("preparing the tracking statement"))?;
        state.prepared = Some(name);
    }
    Ok(state
        .prepared
        .as_deref()
        .and_then(|name| pg.execute_finish_one(name, changes))
        .unwrap_or_else(|| pg.finish_batch_literal(changes)))
}

/// `batch` between a BEGIN and a COMMIT of its own, in one query. A
/// failure aborts the rest of the query and leaves the transaction open: it
/// is rolled back here. Until the end is confirmed the session counts as
/// holding an open transaction, so that a run cancelled halfway closes the
/// connection rather than hand it back to the pool inside a transaction.
async fn run_own_transaction(
    conn: &mut PgConnection,
    sql: &TrackingSql,
    state: &mut BatchState,
    batch: String,
) -> Result<(), sqlx::Error> {
    let mut query = String::from("BEGIN;\n");
    if let Some(enter) = PgTracking::new(sql).enter_schema_literal() {
        query.push_str(&enter);
        query.push_str(";\n");
    }
    query.push_str(&batch);
    query.push_str("\nCOMMIT;");
    state.open_transaction = true;
    match sqlx::raw_sql(AssertSqlSafe(query)).execute(&mut *conn).await {
        Ok(_) => {
            state.open_transaction = false;
            Ok(())
        }
        Err(err) => {
            // After a failed COMMIT there is no transaction left, and
            // ROLLBACK only warns.
            match sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await {
                Ok(_) => state.open_transaction = false,
                Err(rollback) => tracing::debug!(error = %rollback, "rolling back the failed batch"),
            }
            Err(err)
        }
    }
}
