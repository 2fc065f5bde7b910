//! The dirty protocol's tracking writes, generic over sqlx's database: the
//! mark, the count of committed statements, the clean record. Every sqlx
//! database uses them (a code migration is marked dirty through them on
//! MySQL too); the protocol that runs statements between them is dirty.rs.

use super::io::{close_change, TrackingIo};
use super::tracking::TrackingSql;
use crate::backend::Change;
use crate::sql::compat::{self, assert_sql_safe};
use crate::Direction;
use sqlx::{ColumnIndex, Decode, Encode, Type};
use std::future::Future;

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
    /// (MySQL counts in its own protocol, mysql/protocol.rs.)
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
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
    for<'q> compat::Arguments<'q, DB>: compat::IntoArguments<'q, DB>,
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
        sqlx::query(assert_sql_safe!(sql.set_dirty(Some(change.direction))))
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
        sqlx::query(assert_sql_safe!(sql.count_committed()))
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
                sqlx::query(assert_sql_safe!(sql.finish_record()))
                    .bind(execution_ms)
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
            Direction::Down => {
                sqlx::query(assert_sql_safe!(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        close_change(conn, sql, change, execution_ms, true).await
    }
}
