//! The dirty protocol on SQLite and PostgreSQL, for the statements that
//! cannot share a transaction with their record (`migrate:no-transaction`):
//! the change marked dirty, its statements committed one by one and
//! counted, then the change recorded clean. (MySQL, whose DDL commits
//! implicitly, sends its own in two round trips: mysql/protocol.rs.)

use super::dirty_io::DirtyIo;
use super::io::TrackingIo;
use super::session::{mark_timeout, timeouts_for, Connection, SqlBackend, SqlSession};
use crate::backend::Change;
use crate::core::split::split;
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use std::future::Future;
use std::time::Instant;

/// A backend that can tell whether its connection has a transaction open,
/// as the database itself says (not as sqlx counts the transactions it
/// began): a `no-transaction` file can open one of its own.
pub(crate) trait TransactionProbe: SqlBackend {
    fn in_transaction(conn: &mut Connection<Self>) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
}

impl<B: TransactionProbe> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    B::DB: DirtyIo,
{
    /// After a statement of a dirty run failed: a transaction the file
    /// opened itself and had not committed is rolled back (it would
    /// otherwise stay open on the connection, and the history row written
    /// next would go into it), and the count of committed statements is
    /// read back from the tracking row. The counts written inside that
    /// transaction were rolled back with it, so the count is what really
    /// committed, and what the next run reports. With none committed the
    /// mark is taken back.
    async fn settle_failure(&mut self, change: &Change<'_>) -> Result<u32, Error> {
        if B::in_transaction(&mut self.conn).await.unwrap_or(true) {
            if let Err(err) = compat::raw_sql("ROLLBACK").execute(&mut *self.conn).await {
                tracing::debug!(error = %err, "rolling back the file's own transaction after its failure");
            }
        }
        let version = change.migration.version;
        let committed = B::DB::fetch_applied(&mut self.conn, &self.sql)
            .await
            .map_err(Self::db_err("reading how far the migration got"))?
            .into_iter()
            .find(|row| row.version == version)
            .and_then(|row| row.dirty_run)
            .and_then(|run| run.committed)
            .unwrap_or(0);
        if committed == 0 {
            self.unmark(change).await?;
        }
        Ok(committed as u32)
    }

    /// The dirty protocol, for `migrate:no-transaction` files: check the
    /// state and mark the change dirty (with its direction) in one
    /// transaction, run the statements outside any, counting each one that
    /// committed in the tracking row, then record the change clean. A
    /// failure or a crash in between leaves the mark and the count for a
    /// person to resolve with `force` or `forget`; a failure that committed
    /// nothing takes the mark back. A transaction the file opened itself
    /// is rolled back if a statement in it fails, or if the file ends with
    /// it still open (see `settle_failure`).
    /// (MySQL sends its own in two round trips: mysql/protocol.rs.)
    pub(crate) async fn apply_marked(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let (timeouts, given) = timeouts_for::<B>(&self.sql, change, false)?;
        self.mark(change).await?;
        let started = Instant::now();
        let version = change.migration.version;
        for statement in &given.set {
            compat::raw_sql(assert_sql_safe!(statement.clone()))
                .execute(&mut *self.conn)
                .await
                .map_err(Self::db_err("setting the migration's timeouts"))?;
        }
        for (index, statement) in split(change.text(), B::DIALECT).into_iter().enumerate() {
            if let Err(err) = compat::raw_sql(assert_sql_safe!(statement.text))
                .execute(&mut *self.conn)
                .await
            {
                let line = B::error_line(&err, statement.text, statement.line);
                let committed = self.settle_failure(change).await?;
                let failed = change
                    .failed_after(statement.text, line, B::message(&err), false, committed)
                    .at_statement(index as u32 + 1);
                return Err(mark_timeout::<B>(failed, err, timeouts));
            }
            B::DB::count_committed(&mut self.conn, &self.sql, version, index as i64 + 1)
                .await
                .map_err(Self::db_err("counting the committed statements"))?;
        }
        for statement in &given.reset {
            compat::raw_sql(assert_sql_safe!(statement.clone()))
                .execute(&mut *self.conn)
                .await
                .map_err(Self::db_err("resetting the migration's timeouts"))?;
        }
        let execution_ms = started.elapsed().as_millis() as i64;
        let left_open = B::in_transaction(&mut self.conn)
            .await
            .map_err(Self::db_err("checking for a transaction the file left open"))?;
        if left_open {
            // The file opened a transaction and never ended it: what ran in
            // it is not committed, and recording the change would commit
            // it with the record. It is rolled back instead, as a failure.
            let committed = self.settle_failure(change).await?;
            let last = split(change.text(), B::DIALECT).pop();
            let (text, line) = last.map_or(("", 1), |s| (s.text, s.line));
            return Err(change
                .failed_after(
                    text,
                    line,
                    "the file left a transaction of its own open at its end (a BEGIN without its COMMIT): \
                     it was rolled back"
                        .to_string(),
                    false,
                    committed,
                )
                .at_statement(split(change.text(), B::DIALECT).len() as u32));
        }
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let finish = async {
            B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(Self::db_err("recording the migration"))
    }
}
