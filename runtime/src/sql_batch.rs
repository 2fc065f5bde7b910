//! Batch migrations on the sqlx databases (see engine/batch.rs): the
//! checkpoint table `<table>_batch` and one batch per transaction, written
//! once for SQLite, PostgreSQL and MySQL.
//!
//! The batch size is bound, never pasted into the text: `:batch` becomes
//! `$1` on PostgreSQL and `?` (one bind per occurrence) on SQLite and
//! MySQL/MariaDB, all three of which accept a bound `LIMIT`.
//!
//! This path is separate from `SqlSession::apply_*` on purpose: a batch is
//! one statement and its checkpoint in a transaction of its own, never
//! grouped with another migration's statements.

use crate::backend::{Batch, BatchDone, Checkpoint};
use crate::core::batch::substitute;
use crate::sql::{SqlBackend, SqlDialect, SqlSession, TrackingIo, TrackingSql};
use crate::Error;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Row, Type};
use std::time::Instant;

type Connection<B> = <<B as SqlBackend>::DB as sqlx::Database>::Connection;

/// The checkpoint table's statements, next to the tracking table's.
struct CheckpointSql {
    dialect: SqlDialect,
    table: String,
}

impl CheckpointSql {
    fn new(dialect: SqlDialect, tracking: &TrackingSql) -> Self {
        // `<table>_state` quoted and qualified as the tracking tables are:
        // the checkpoint table is its sibling `<table>_batch`.
        let table = match tracking.state.rfind("_state") {
            Some(at) => format!(
                "{}_batch{}",
                &tracking.state[..at],
                &tracking.state[at + "_state".len()..]
            ),
            None => format!("{}_batch", tracking.state),
        };
        CheckpointSql { dialect, table }
    }

    fn p(&self, index: usize) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("${index}"),
            _ => "?".to_string(),
        }
    }

    fn create(&self) -> String {
        let int = match self.dialect {
            SqlDialect::Sqlite => "INTEGER",
            _ => "BIGINT",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version {int} PRIMARY KEY, batches {int} NOT NULL, rows_done {int} NOT NULL)",
            self.table
        )
    }

    fn select(&self, for_update: bool) -> String {
        let lock = match (for_update, self.dialect) {
            (true, SqlDialect::Postgres | SqlDialect::MySql) => " FOR UPDATE",
            _ => "",
        };
        format!(
            "SELECT batches, rows_done FROM {} WHERE version = {}{lock}",
            self.table,
            self.p(1)
        )
    }

    fn delete(&self) -> String {
        format!("DELETE FROM {} WHERE version = {}", self.table, self.p(1))
    }

    fn insert(&self) -> String {
        format!(
            "INSERT INTO {} (version, batches, rows_done) VALUES ({}, {}, {})",
            self.table,
            self.p(1),
            self.p(2),
            self.p(3)
        )
    }

    /// The batch statement with `:batch` replaced by the driver's placeholder.
    fn statement(&self, statement: &str) -> (String, usize) {
        let count = crate::core::batch::placeholders(statement).len();
        let with = match self.dialect {
            SqlDialect::Postgres => "$1",
            _ => "?",
        };
        let binds = if self.dialect == SqlDialect::Postgres { 1 } else { count };
        (substitute(statement, with), binds)
    }
}

/// The reads and writes of the checkpoint, generic over sqlx's database.
pub(crate) trait CheckpointIo: TrackingIo {
    fn fetch_checkpoint(
        conn: &mut Self::Connection,
        query: String,
        version: i64,
    ) -> impl std::future::Future<Output = Result<Option<Checkpoint>, sqlx::Error>> + Send;
    fn write_checkpoint(
        conn: &mut Self::Connection,
        sql: &CheckpointSqlRef<'_>,
        version: i64,
        checkpoint: Option<Checkpoint>,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send;
    fn run_batch_statement(
        conn: &mut Self::Connection,
        statement: String,
        binds: usize,
        size: u64,
    ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send;
    fn count(
        conn: &mut Self::Connection,
        query: String,
    ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send;
}

/// The two statement texts `write_checkpoint` needs.
pub(crate) struct CheckpointSqlRef<'a> {
    delete: &'a str,
    insert: &'a str,
}

impl<DB> CheckpointIo for DB
where
    DB: TrackingIo + RowsAffected,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
{
    async fn fetch_checkpoint(
        conn: &mut DB::Connection,
        query: String,
        version: i64,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let row = sqlx::query(AssertSqlSafe(query))
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|row| {
            Ok(Checkpoint {
                batches: row.try_get::<i64, _>(0)?.max(0) as u64,
                rows: row.try_get::<i64, _>(1)?.max(0) as u64,
            })
        })
        .transpose()
    }

    async fn write_checkpoint(
        conn: &mut DB::Connection,
        sql: &CheckpointSqlRef<'_>,
        version: i64,
        checkpoint: Option<Checkpoint>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(AssertSqlSafe(sql.delete.to_string()))
            .bind(version)
            .execute(&mut *conn)
            .await?;
        if let Some(checkpoint) = checkpoint {
            sqlx::query(AssertSqlSafe(sql.insert.to_string()))
                .bind(version)
                .bind(checkpoint.batches as i64)
                .bind(checkpoint.rows as i64)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn run_batch_statement(
        conn: &mut DB::Connection,
        statement: String,
        binds: usize,
        size: u64,
    ) -> Result<u64, sqlx::Error> {
        let mut query = sqlx::query(AssertSqlSafe(statement));
        for _ in 0..binds {
            query = query.bind(size.min(i64::MAX as u64) as i64);
        }
        Ok(DB::rows_affected(&query.execute(&mut *conn).await?))
    }

    async fn count(conn: &mut DB::Connection, query: String) -> Result<u64, sqlx::Error> {
        let row = sqlx::query(AssertSqlSafe(query)).fetch_one(&mut *conn).await?;
        Ok(row.try_get::<i64, _>(0)?.max(0) as u64)
    }
}

/// `rows_affected` of each sqlx database's query result.
pub(crate) trait RowsAffected: sqlx::Database {
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

#[cfg(feature = "sqlite")]
impl RowsAffected for sqlx::Sqlite {
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl RowsAffected for sqlx::Postgres {
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

#[cfg(feature = "mysql")]
impl RowsAffected for sqlx::MySql {
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    fn checkpoint_sql(&self) -> CheckpointSql {
        CheckpointSql::new(B::SQL, &self.sql)
    }

    /// The checkpoint of `version`; `None` also when the table is missing
    /// (a read for `status` and messages creates nothing).
    pub(crate) async fn read_checkpoint(&mut self, version: i64) -> Result<Option<Checkpoint>, Error> {
        let query = self.checkpoint_sql().select(false);
        match B::DB::fetch_checkpoint(&mut self.conn, query, version).await {
            Ok(checkpoint) => Ok(checkpoint),
            Err(err) => {
                tracing::debug!(error = %err, "no batch checkpoint readable");
                Ok(None)
            }
        }
    }

    pub(crate) async fn count_rows(&mut self, query: &str) -> Result<u64, Error> {
        B::DB::count(&mut self.conn, query.to_string()).await.map_err(|err| {
            Error::database(
                B::NAME,
                format!("counting the batch total with `{query}`"),
                B::message(&err),
            )
        })
    }

    /// One batch in one transaction (see `Session::run_batch`).
    pub(crate) async fn run_batch(&mut self, batch: &Batch<'_>) -> Result<BatchDone, Error> {
        let cp = self.checkpoint_sql();
        let version = batch.change.migration.version;
        // Created before the transaction: MySQL commits DDL implicitly.
        sqlx::raw_sql(AssertSqlSafe(cp.create()))
            .execute(&mut *self.conn)
            .await
            .map_err(Self::db_err("creating the batch checkpoint table"))?;
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
        let rows = B::DB::run_batch_statement(&mut tx, statement, binds, batch.size)
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
                    .failed(batch.statement, line, message, true)
                    .with_source(err)
            })?;
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
}
