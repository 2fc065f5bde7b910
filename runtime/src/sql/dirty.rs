//! The dirty protocol on SQLite and PostgreSQL, for the statements that
//! cannot share a transaction with their record (`migrate:no-transaction`):
//! the change marked dirty, its statements committed one by one and
//! counted, then the change recorded clean. (MySQL, whose DDL commits
//! implicitly, sends its own in two round trips: mysql/protocol.rs.)

use super::io::{close_change, TrackingIo};
use super::session::{Connection, SqlBackend, SqlSession};
use super::tracking::TrackingSql;
use crate::backend::Change;
use crate::core::split::split;
use crate::{Direction, Error};
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Type};
use std::future::Future;
use std::time::Instant;

/// The protocol's tracking writes, generic over sqlx's database.
pub(crate) trait DirtyIo: TrackingIo {
    /// First step of the dirty protocol: the change's row marked dirty (an
    /// up change inserts it, a down change flags the existing one) and the
    /// state marked dirty.
    fn mark_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// One more statement of a dirty run committed: `committed` in all.
    fn count_committed(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        version: i64,
        committed: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Last step of the dirty protocol, once every statement ran: the row
    /// made clean (up) or deleted (down), the new state, the history row.
    fn finish_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl<DB> DirtyIo for DB
where
    DB: TrackingIo,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
{
    async fn mark_dirty(conn: &mut DB::Connection, sql: &TrackingSql, change: &Change<'_>) -> Result<(), sqlx::Error> {
        if let Some(row) = &change.record {
            DB::insert_record(conn, sql, row, 0, true).await?;
        }
        // The direction and a count of 0, on the row just inserted (up) or
        // on the applied one (down).
        sqlx::query(sqlx::AssertSqlSafe(sql.set_dirty(Some(change.direction))))
            .bind(change.migration.version)
            .execute(&mut *conn)
            .await?;
        let mut dirty_state = change.state_before;
        dirty_state.dirty = true;
        DB::write_state(conn, sql, &dirty_state).await
    }

    async fn count_committed(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        version: i64,
        committed: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(sql.count_committed()))
            .bind(committed)
            .bind(version)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn finish_dirty(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> Result<(), sqlx::Error> {
        match change.direction {
            Direction::Up => {
                sqlx::query(sqlx::AssertSqlSafe(sql.finish_record()))
                    .bind(execution_ms)
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
            Direction::Down => {
                sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        close_change(conn, sql, change, execution_ms, true).await
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    B::DB: DirtyIo,
{
    /// The dirty protocol, for `migrate:no-transaction` files: check the
    /// state and mark the change dirty (with its direction) in one
    /// transaction, run the statements outside any, counting each one that
    /// committed in the tracking row, then record the change clean. A
    /// failure or a crash in between leaves the mark and the count for a
    /// person to resolve with `force` or `forget`; a failure of the first
    /// statement committed nothing, so the mark is taken back.
    /// (MySQL sends its own in two round trips: mysql/protocol.rs.)
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
}
