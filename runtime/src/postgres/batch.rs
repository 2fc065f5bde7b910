//! PostgreSQL's batch: a migration's statements and its tracking writes in
//! one multi-statement query that carries its own BEGIN and COMMIT, one
//! round trip per migration. PostgreSQL runs such a query as written, and
//! leaves a failed one open and aborted until ROLLBACK.

use super::errors::db_err;
use super::tracking::PgTracking;
use crate::backend::Change;
use crate::core::split::Dialect;
use crate::sql::compat::{self, assert_sql_safe};
use crate::sql::script::{ends_transaction, join_statements, statements};
use crate::sql::session::TimeoutStatements;
use crate::sql::tracking::TrackingSql;
use crate::sql::transaction::BatchFailure;
use sqlx::postgres::PgConnection;
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
    /// No statement is prepared: the session's statements may each meet
    /// another server connection (`LockMode::Table`, meant for poolers).
    pub never_prepare: bool,
}

/// Names each batch's transaction (see [`Ours`]).
static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

/// The setting that marks the batch's transaction as its own: set with
/// `SET LOCAL` semantics right after its BEGIN, so it is gone once that
/// transaction ends, however a statement of a file ended it (`COMMIT`,
/// `END`, `ROLLBACK`, `COMMIT AND CHAIN`, ...), and no other transaction
/// has it.
const OURS: &str = "embedded_migrations.transaction";

/// What a check that finds the transaction no longer the batch's own
/// makes its error say, before the change's index.
const ENDED: &str = "embedded_migrations.ended:";

/// The mark of one batch's transaction, and the checks of it.
struct Ours(String);

impl Ours {
    fn new() -> Self {
        Ours(format!(
            "{}.{}",
            std::process::id(),
            TRANSACTIONS.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Right after BEGIN: the mark, local to the transaction.
    fn mark(&self) -> String {
        format!("SELECT pg_catalog.set_config('{OURS}', '{}', true)", self.0)
    }

    /// After change `index`'s statements, in the same query: fails unless
    /// the transaction is still the one marked. The failure is a cast of
    /// text that names the change; the text depends on a setting read at
    /// run time, so it is never folded into a constant (and raised) when
    /// the statement is planned.
    fn check(&self, index: usize) -> String {
        format!(
            "SELECT CASE WHEN pg_catalog.current_setting('{OURS}', true) = '{mark}' THEN 0 \
             ELSE ('{ENDED}{index}:' || COALESCE(pg_catalog.current_setting('{OURS}', true), ''))::int END",
            mark = self.0
        )
    }
}

/// The change whose check failed, if `err` is a check's.
fn ended_in(err: &sqlx::Error) -> Option<usize> {
    let message = err.as_database_error()?.message();
    let after = &message[message.find(ENDED)? + ENDED.len()..];
    after.split(':').next()?.parse().ok()
}

/// Runs `changes` in one transaction as one query; a failure is rolled
/// back, for the caller to replay. A statement that ended the transaction
/// is found by the check after its change, or, when a later statement
/// failed first, by the transaction found gone after the failure.
pub(super) async fn run_in_transaction(
    conn: &mut PgConnection,
    sql: &TrackingSql,
    state: &mut BatchState,
    changes: &[Change<'_>],
    timeouts: &[TimeoutStatements],
    creation: &[String],
) -> Result<(), BatchFailure> {
    // Provisioning: the tracking tables do not exist yet, so nothing may be
    // prepared against them before the batch creates them.
    let finish = match creation.is_empty() {
        true => finish_statement(conn, sql, state, changes).await?,
        false => PgTracking::new(sql).finish_batch_literal(changes),
    };
    let ours = Ours::new();
    let mut batch = batch(sql, changes, timeouts, finish, &ours);
    if !creation.is_empty() {
        batch = format!("{};\n{batch}", creation.join(";\n"));
    }
    match run_own_transaction(conn, sql, state, batch, &ours).await {
        Ok(()) => Ok(()),
        Err(Failed { err, .. }) if ended_in(&err).is_some() => Err(BatchFailure::Ended {
            change: ended_in(&err),
            statement: None,
            after: None,
        }),
        Err(Failed { err, open: false }) if any_ends_transaction(changes) => Err(BatchFailure::Ended {
            change: None,
            statement: None,
            after: Some(err),
        }),
        Err(Failed { err, .. }) => Err(BatchFailure::RolledBack(err)),
    }
}

/// Whether a statement of `changes` reads as one that ends a transaction.
fn any_ends_transaction(changes: &[Change<'_>]) -> bool {
    changes
        .iter()
        .flat_map(|change| statements(change, Dialect::Postgres).collect::<Vec<_>>())
        .any(|statement| ends_transaction(&statement))
}

/// The batch without BEGIN and COMMIT: each change's statements followed by
/// the check that its transaction is still the batch's, in a group each
/// change's history row timed by the server, and the tracking writes
/// folded into one last statement holding the state guard, `finish`.
fn batch(
    sql: &TrackingSql,
    changes: &[Change<'_>],
    timeouts: &[TimeoutStatements],
    finish: String,
    ours: &Ours,
) -> String {
    let pg = PgTracking::new(sql);
    let mut parts = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        // Each change's timeouts around its own statements only.
        parts.extend(timeouts[index].set.iter().cloned());
        parts.extend(statements(change, Dialect::Postgres));
        parts.push(ours.check(index));
        parts.extend(timeouts[index].reset.iter().cloned());
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
    if !state.never_prepare && state.prepared.is_none() && PgTracking::one_applied(changes).is_some() {
        let name = format!("_em_finish_{}", PREPARED.fetch_add(1, Ordering::Relaxed));
        compat::raw_sql(assert_sql_safe!(pg.prepare_finish_one(&name)))
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
    ours: &Ours,
) -> Result<(), Failed> {
    let mut query = String::from("BEGIN;\n");
    if let Some(enter) = PgTracking::new(sql).enter_schema_literal() {
        query.push_str(&enter);
        query.push_str(";\n");
    }
    query.push_str(&ours.mark());
    query.push_str(";\n");
    query.push_str(&batch);
    query.push_str("\nCOMMIT;");
    state.open_transaction = true;
    match compat::raw_sql(assert_sql_safe!(query)).execute(&mut *conn).await {
        Ok(_) => {
            state.open_transaction = false;
            Ok(())
        }
        Err(err) => {
            // A failure inside the batch's transaction leaves it open and
            // aborted, where every query fails; a query that succeeds
            // shows it was gone before (a file's statement ended it, or
            // the COMMIT failed).
            let open = compat::raw_sql("SELECT 1").execute(&mut *conn).await.is_err();
            // After a failed COMMIT there is no transaction left, and
            // ROLLBACK only warns.
            match compat::raw_sql("ROLLBACK").execute(&mut *conn).await {
                Ok(_) => state.open_transaction = false,
                Err(rollback) => tracing::debug!(error = %rollback, "rolling back the failed batch"),
            }
            Err(Failed { err, open })
        }
    }
}

/// A batch that failed: the error, and whether its transaction was still
/// open (aborted) after it.
struct Failed {
    err: sqlx::Error,
    open: bool,
}
