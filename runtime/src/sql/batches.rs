//! Batch migrations on the sqlx databases (see engine/batch.rs): one
//! batch per transaction, with its checkpoint, written once for SQLite,
//! PostgreSQL and MySQL.
//!
//! This path is apart from apply.rs on purpose: a batch is one statement
//! and its checkpoint in a transaction of its own, never grouped with
//! another migration's statements.

use super::checkpoint::{CheckpointIo, CheckpointSql, CheckpointSqlRef};
use super::io::TrackingIo;
use super::session::{Connection, SqlBackend, SqlSession};
use crate::backend::{Batch, BatchDone, Batches, BoxFuture, Checkpoints};
use crate::code::run as code;
use crate::records::Checkpoint;
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use std::time::Instant;

impl<B: SqlBackend> Checkpoints for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// `None` also when the table is missing (a read for `status` and
    /// messages creates nothing).
    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<Checkpoint>, Error>> {
        Box::pin(async move {
            let query = CheckpointSql::new(&self.sql).select(false);
            match B::DB::fetch_checkpoint(&mut self.conn, query, version).await {
                Ok(checkpoint) => Ok(checkpoint),
                Err(err) => {
                    tracing::debug!(error = %err, "no batch checkpoint readable");
                    Ok(None)
                }
            }
        })
    }

    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            B::DB::count(&mut self.conn, query.to_string()).await.map_err(|err| {
                Error::database(
                    B::NAME,
                    format!("counting the batch total with `{query}`"),
                    B::message(&err),
                )
            })
        })
    }
}

impl<B: SqlBackend> Batches for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// A batch code migration's batch leaves the session in doubt until it
    /// settles, whatever the user's code did to the connection.
    fn run_batch<'a>(&'a mut self, batch: &'a Batch<'a>) -> BoxFuture<'a, Result<BatchDone, Error>> {
        Box::pin(async move {
            if batch.change.code.is_none() {
                return self.one_batch(batch).await;
            }
            let before = self.doubtful;
            self.doubtful = true;
            let done = self.one_batch(batch).await;
            if super::contract::settled::<B, _>(&done) {
                self.doubtful = before;
            }
            done
        })
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    Connection<B>: 'static,
{
    /// One batch in one transaction (see [`Batches::run_batch`]): the
    /// file's statement with the size bound, or a batch code migration's
    /// `up` called with it.
    async fn one_batch(&mut self, batch: &Batch<'_>) -> Result<BatchDone, Error> {
        let cp = CheckpointSql::new(&self.sql);
        let version = batch.change.migration.version;
        // Created before the transaction: MySQL commits DDL implicitly.
        compat::raw_sql(assert_sql_safe!(cp.create()))
            .execute(&mut *self.conn)
            .await
            .map_err(Self::db_err("creating the batch checkpoint table"))?;
        let code = match batch.change.code {
            Some(code) => Some(code::batch_function::<Connection<B>>(batch.change, code, B::NAME)?),
            None => None,
        };
        let (statement, binds) = cp.statement(batch.statement);
        let (delete, insert) = (cp.delete(), cp.insert());
        let writes = CheckpointSqlRef {
            delete: &delete,
            insert: &insert,
        };
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        Self::check_state(&mut tx, sql, &batch.change.state_before).await?;
        B::enter_transaction(&mut tx, sql).await?;
        let before = B::DB::fetch_checkpoint(&mut tx, cp.select(true), version)
            .await
            .map_err(Self::db_err("reading the batch checkpoint"))?
            .unwrap_or_default();
        let started = Instant::now();
        // On error the transaction is dropped, which rolls it back: the
        // checkpoint stays at the batches committed before this one.
        let rows = match code {
            Some(function) => code::run_batch(batch.change, function, &mut *tx, batch.size, before).await?,
            None => Self::batch_statement(&mut tx, batch, (statement, binds), before).await?,
        };
        let checkpoint = Checkpoint {
            batches: before.batches + u64::from(rows > 0),
            rows: before.rows + rows,
        };
        if rows > 0 {
            B::DB::write_checkpoint(&mut tx, &writes, version, Some(checkpoint))
                .await
                .map_err(Self::db_err("writing the batch checkpoint"))?;
        } else {
            let execution_ms = started.elapsed().as_millis() as i64;
            let finish = async {
                B::DB::write_checkpoint(&mut tx, &writes, version, None).await?;
                B::DB::record_change(&mut tx, sql, batch.change, execution_ms, true).await
            };
            finish.await.map_err(Self::db_err("recording the batch migration"))?;
        }
        tx.commit().await.map_err(Self::db_err("committing the batch"))?;
        Ok(BatchDone { rows, checkpoint })
    }

    /// The file's batch statement, `:batch` bound to the size, in the
    /// batch's transaction: the rows it changed, or its failure naming the
    /// batch and the checkpoint that stays.
    async fn batch_statement(
        tx: &mut Connection<B>,
        batch: &Batch<'_>,
        (statement, binds): (String, usize),
        before: Checkpoint,
    ) -> Result<u64, Error> {
        B::DB::run_batch_statement(tx, statement, binds, batch.size)
            .await
            .map_err(|err| {
                let message = format!(
                    "batch {} failed and was rolled back; the checkpoint keeps the {} batches ({} rows) \
                     committed before it: {}",
                    before.batches + 1,
                    before.batches,
                    before.rows,
                    B::message(&err)
                );
                let line = B::error_line(&err, batch.statement, batch.line);
                batch
                    .change
                    .batch_failed(batch.statement, line, message, true, before)
                    .with_source(err)
            })
    }
}
