//! The checkpoint table of batch migrations, `<table>_batch`: its
//! statements and its reads and writes through sqlx, generic over the
//! database like the tracking tables' (io.rs).
//!
//! The batch size is bound, never pasted into the text: `:batch` becomes
//! `$1` on PostgreSQL and `?` (one bind per occurrence) on SQLite and
//! MySQL/MariaDB, all three of which accept a bound `LIMIT`.

use super::io::TrackingIo;
use super::text::SqlText;
use super::tracking::TrackingSql;
use crate::core::batch::{placeholders, substitute};
use crate::core::split::Dialect;
use crate::records::Checkpoint;
use crate::sql::compat::{self, assert_sql_safe};
use sqlx::{ColumnIndex, Decode, Encode, Row, Type};

/// The checkpoint table's statements, next to the tracking table's.
pub(crate) struct CheckpointSql {
    dialect: Dialect,
    table: String,
}

impl CheckpointSql {
    /// The checkpoint table of `tracking`'s tables.
    pub(super) fn new(tracking: &TrackingSql) -> Self {
        CheckpointSql {
            dialect: tracking.dialect,
            table: tracking.batch.clone(),
        }
    }

    pub(super) fn create(&self) -> String {
        let int = match self.dialect {
            Dialect::Sqlite => "INTEGER",
            _ => "BIGINT",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version {int} PRIMARY KEY, batches {int} NOT NULL, rows_done {int} NOT NULL)",
            self.table
        )
    }

    pub(super) fn select(&self, for_update: bool) -> String {
        let lock = match (for_update, self.dialect) {
            (true, Dialect::Postgres | Dialect::MySql) => " FOR UPDATE",
            _ => "",
        };
        format!(
            "SELECT batches, rows_done FROM {} WHERE version = {}{lock}",
            self.table,
            self.dialect.param(1)
        )
    }

    pub(super) fn delete(&self) -> String {
        format!("DELETE FROM {} WHERE version = {}", self.table, self.dialect.param(1))
    }

    pub(super) fn insert(&self) -> String {
        format!(
            "INSERT INTO {} (version, batches, rows_done) VALUES ({}, {}, {})",
            self.table,
            self.dialect.param(1),
            self.dialect.param(2),
            self.dialect.param(3)
        )
    }

    /// The batch statement with `:batch` replaced by the driver's placeholder.
    pub(super) fn statement(&self, statement: &str) -> (String, usize) {
        let count = placeholders(statement).len();
        let with = match self.dialect {
            Dialect::Postgres => "$1",
            _ => "?",
        };
        let binds = if self.dialect == Dialect::Postgres { 1 } else { count };
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
    pub delete: &'a str,
    pub insert: &'a str,
}

impl<DB> CheckpointIo for DB
where
    DB: TrackingIo + RowsAffected,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> compat::Arguments<'q, DB>: compat::IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
{
    async fn fetch_checkpoint(
        conn: &mut DB::Connection,
        query: String,
        version: i64,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let row = sqlx::query(assert_sql_safe!(query))
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
        sqlx::query(assert_sql_safe!(sql.delete.to_string()))
            .bind(version)
            .execute(&mut *conn)
            .await?;
        if let Some(checkpoint) = checkpoint {
            sqlx::query(assert_sql_safe!(sql.insert.to_string()))
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
        let mut query = sqlx::query(assert_sql_safe!(statement));
        for _ in 0..binds {
            query = query.bind(size.min(i64::MAX as u64) as i64);
        }
        Ok(DB::rows_affected(&query.execute(&mut *conn).await?))
    }

    async fn count(conn: &mut DB::Connection, query: String) -> Result<u64, sqlx::Error> {
        let row = sqlx::query(assert_sql_safe!(query)).fetch_one(&mut *conn).await?;
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
