//! Transactional DDL (SQLite, PostgreSQL): a change, or a group of them,
//! in one transaction with its record, sent as one batch; a batch that
//! fails is rolled back and replayed statement by statement, so that the
//! error names the statement exactly as if it had been sent alone.

use super::io::TrackingIo;
use super::session::{Connection, SqlBackend, SqlSession};
use crate::backend::{BoxFuture, Change, GroupApply};
use crate::core::split::{split, Dialect};
use crate::Error;
use sqlx::AssertSqlSafe;
use std::future::Future;

/// A backend whose DDL is transactional: transactional changes (one, or a
/// group) run as one batch in one transaction ([`SqlSession::apply_batched`]).
pub(crate) trait TransactionalBatch: SqlBackend {
    /// Runs `changes` in one transaction, their statements and tracking
    /// writes as a batch. PostgreSQL sends BEGIN, the batch and COMMIT in
    /// one query; SQLite hands the batch to the library in its own
    /// `BEGIN IMMEDIATE`, timed by the client.
    fn run_in_transaction<'a>(
        session: &'a mut SqlSession<Self>,
        changes: &'a [Change<'a>],
    ) -> impl Future<Output = Result<(), BatchFailure>> + Send + 'a;
}

/// How a batch failed.
pub(crate) enum BatchFailure {
    /// The batch failed and was rolled back: replayed statement by
    /// statement, it names the statement that failed.
    RolledBack(sqlx::Error),
    /// A failure no replay explains (the write lock, the commit).
    Other(Error),
}

impl From<Error> for BatchFailure {
    fn from(err: Error) -> Self {
        BatchFailure::Other(err)
    }
}

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
    let script = change.migration.script(change.direction);
    split(script.text, dialect).into_iter().map(|s| s.text.to_string())
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Runs the statements of a change one by one, so that an error names
    /// its statement (and so that a file is never turned into one implicit
    /// transaction by a multi-statement query).
    pub(crate) async fn run_statements(
        conn: &mut Connection<B>,
        change: &Change<'_>,
        in_transaction: bool,
    ) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        for statement in split(script.text, B::DIALECT) {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.text)).execute(&mut *conn).await {
                let line = B::error_line(&err, statement.text, statement.line);
                return Err(change
                    .failed(statement.text, line, B::message(&err), in_transaction)
                    .with_source(err));
            }
        }
        Ok(())
    }

    /// Finds what made a batch fail: the same changes, one statement at a
    /// time, in a transaction that is always rolled back. The first
    /// statement refused is the error, exactly as precise as running it
    /// alone; a state that moved is `Conflict`. If the replay meets no
    /// failure (the cause was transient), the batch's own error is returned.
    async fn replay(&mut self, changes: &[Change<'_>], batch_error: sqlx::Error) -> Error {
        let sql = &self.sql;
        let mut tx = match B::begin(&mut self.conn).await {
            Ok(tx) => tx,
            Err(err) => return err,
        };
        let located = async {
            Self::check_state(&mut tx, sql, &changes[0].state_before).await?;
            B::enter_transaction(&mut tx, sql).await?;
            for change in changes {
                Self::run_statements(&mut tx, change, true).await?;
                B::DB::record_change(&mut tx, sql, change, 0, false)
                    .await
                    .map_err(Self::db_err("recording the migration"))?;
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(err) = tx.rollback().await {
            tracing::debug!(error = %err, "rolling back the replay of a failed batch");
        }
        match located {
            Err(err) => err,
            Ok(()) => Error::database(
                B::NAME,
                "applying the migrations (the batch failed; replayed statement by statement, it did not)",
                B::message(&batch_error),
            ),
        }
    }
}

impl<B: TransactionalBatch> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Transactional changes (one, or a group) in one transaction, their
    /// statements and tracking writes in batches rather than one by one
    /// ([`TransactionalBatch::run_in_transaction`]: on PostgreSQL one query
    /// per migration, BEGIN and COMMIT included; on SQLite one hop to
    /// sqlx's worker, however many statements and migrations).
    ///
    /// A batch that fails is rolled back and then replayed one statement at
    /// a time in a transaction that is rolled back too ([`Self::replay`]),
    /// so the error names the statement, its line and the database's own
    /// message exactly as if the statements had been sent one by one.
    pub(crate) async fn apply_batched(&mut self, changes: &[Change<'_>]) -> Result<(), Error> {
        if changes.is_empty() {
            return Ok(());
        }
        match B::run_in_transaction(self, changes).await {
            Ok(()) => Ok(()),
            Err(BatchFailure::RolledBack(failure)) => Err(self.replay(changes, failure).await),
            Err(BatchFailure::Other(err)) => Err(err),
        }
    }
}

impl<B: TransactionalBatch> GroupApply for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.apply_batched(changes))
    }
}
