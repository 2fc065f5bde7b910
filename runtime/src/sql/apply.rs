//! How a sqlx session runs a change, for all three databases: its
//! statements one by one (so an error names its statement), the state check,
//! the batch of a transactional backend with its replay on failure, and the
//! dirty protocol for statements that cannot share a transaction.

use super::io::TrackingIo;
use super::session::{BatchFailure, Connection, SqlBackend, SqlSession, TransactionalBatch};
use super::tracking::TrackingSql;
use crate::backend::{Change, State};
use crate::core::split::{split, Dialect};
use crate::Error;
use sqlx::AssertSqlSafe;
use std::time::Instant;

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

    /// Fails with `Conflict` unless the state row is the one the plan was
    /// made on; where the database can, the row stays locked until the
    /// transaction ends.
    pub(crate) async fn check_state(
        conn: &mut Connection<B>,
        sql: &TrackingSql,
        expected: &State,
    ) -> Result<(), Error> {
        let state = B::DB::fetch_state(conn, sql.select_state_for_update())
            .await
            .map_err(Self::db_err("reading the state"))?;
        if state == Some(*expected) {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
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

    /// The dirty protocol, for `migrate:no-transaction` files: check the
    /// state and mark the change dirty (with its direction) in one
    /// transaction, run the statements outside any, counting each one that
    /// committed in the tracking row, then record the change clean. A
    /// failure or a crash in between leaves the mark and the count for a
    /// person to resolve with `force` or `forget`; a failure of the first
    /// statement committed nothing, so the mark is taken back.
    /// (MySQL sends the same protocol in two round trips: mysql.rs.)
    pub(crate) async fn apply_marked(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        {
            let mut tx = B::begin(&mut self.conn).await?;
            Self::check_state(&mut tx, sql, &change.state_before).await?;
            let marked = async {
                B::DB::mark_dirty(&mut tx, sql, change).await?;
                tx.commit().await
            };
            marked.await.map_err(Self::db_err("marking the migration dirty"))?;
        }
        let started = Instant::now();
        let script = change.migration.script(change.direction);
        let version = change.migration.version;
        for (index, statement) in split(script.text, B::DIALECT).into_iter().enumerate() {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.text))
                .execute(&mut *self.conn)
                .await
            {
                let line = B::error_line(&err, statement.text, statement.line);
                if index == 0 {
                    self.unmark(change).await?;
                }
                return Err(change
                    .failed_after(statement.text, line, B::message(&err), false, index as u32)
                    .with_source(err));
            }
            B::DB::count_committed(&mut self.conn, &self.sql, version, index as i64 + 1)
                .await
                .map_err(Self::db_err("counting the committed statements"))?;
        }
        let execution_ms = started.elapsed().as_millis() as i64;
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let finish = async {
            B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(Self::db_err("recording the migration"))
    }

    /// Takes back the dirty mark of a change whose first statement failed.
    pub(crate) async fn unmark(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let undo = async {
            B::DB::unmark_dirty(&mut tx, sql, change).await?;
            tx.commit().await
        };
        undo.await.map_err(Self::db_err("taking back the dirty mark"))
    }

    /// Adds the columns a tracking table of an older release lacks
    /// (`run_columns`), under the lock, each once: a table that has them
    /// costs one probe.
    pub(crate) async fn upgrade(&mut self) -> Result<(), Error> {
        let columns = self.sql.run_columns();
        let all = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        if sqlx::raw_sql(AssertSqlSafe(self.sql.probe_column(&all)))
            .execute(&mut *self.conn)
            .await
            .is_ok()
        {
            return Ok(());
        }
        for (name, ty) in columns {
            let present = sqlx::raw_sql(AssertSqlSafe(self.sql.probe_column(name)))
                .execute(&mut *self.conn)
                .await
                .is_ok();
            if !present {
                sqlx::raw_sql(AssertSqlSafe(self.sql.add_column(name, ty)))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(Self::db_err("upgrading the tracking table"))?;
            }
        }
        Ok(())
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
