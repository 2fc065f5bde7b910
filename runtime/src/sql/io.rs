//! Reads and writes of the tracking tables through sqlx, written once for
//! every sqlx database: the values bound to the statements and read back
//! from them do not differ between SQLite, PostgreSQL and MySQL, so binding
//! and decoding are generic over sqlx's database here. The backends differ
//! in transactions and locks, not in these.

use super::tracking::TrackingSql;
use crate::backend::{Change, RecordEdit, State};
use crate::error::CorruptChecksum;
use crate::records::{AppliedMigration, DirtyRun, HistoryEntry};
use crate::sql::compat::{self, assert_sql_safe};
use crate::Direction;
use sqlx::{ColumnIndex, Decode, Encode, Row, Type};
use std::future::Future;

type Query<'q, DB> = sqlx::query::Query<'q, DB, compat::Arguments<'q, DB>>;

/// Binds for `insert_record`: version, name, checksum, applied_at, execution_ms, dirty.
pub(crate) fn bind_record<'q, DB: sqlx::Database>(
    query: Query<'q, DB>,
    row: &AppliedMigration,
    execution_ms: i64,
    dirty: bool,
) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(row.version)
        .bind(row.name.clone())
        .bind(row.checksum.to_hex())
        .bind(row.applied_at.clone())
        .bind(execution_ms)
        .bind(dirty)
}

/// Binds for `write_state`: applied_count, last_version, chain, dirty.
pub(crate) fn bind_state<'q, DB: sqlx::Database>(query: Query<'q, DB>, state: &State) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(state.applied_count)
        .bind(state.last_version)
        .bind(state.chain.to_hex())
        .bind(state.dirty)
}

/// Binds for `insert_history`, with the duration measured by the backend.
pub(crate) fn bind_history<'q, DB: sqlx::Database>(
    query: Query<'q, DB>,
    entry: &HistoryEntry,
    duration_ms: i64,
) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(entry.version)
        .bind(entry.name.clone())
        .bind(entry.direction.as_str().to_string())
        .bind(entry.started_at.clone())
        .bind(duration_ms)
        .bind(entry.success)
        .bind(entry.error.clone())
        .bind(entry.reason.clone())
        .bind(entry.placeholders.clone())
}

/// A row of `select_state`.
pub(crate) fn state_from_row<'r, R: Row>(row: &'r R) -> Result<State, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    state_at(row, 0)
}

/// The state row's four columns (applied_count, last_version, chain,
/// dirty) from column `first` on: `select_state`'s, or those of a shared
/// read of many tenants (sql/shared.rs).
pub(crate) fn state_at<'r, R: Row>(row: &'r R, first: usize) -> Result<State, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let chain: String = row.try_get(first + 2)?;
    Ok(State {
        applied_count: row.try_get(first)?,
        last_version: row.try_get(first + 1)?,
        chain: CorruptChecksum::parse(None, &chain).map_err(|err| sqlx::Error::Decode(Box::new(err)))?,
        dirty: row.try_get(first + 3)?,
    })
}

/// A row of `select_applied` (`with_run`), or of `select_applied_legacy`:
/// a tracking table created before the dirty run was recorded.
pub(crate) fn applied_from_row<'r, R: Row>(row: &'r R, with_run: bool) -> Result<AppliedMigration, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    let version: i64 = row.try_get(0)?;
    let checksum: String = row.try_get(2)?;
    let checksum =
        CorruptChecksum::parse(Some(version), &checksum).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
    let dirty: bool = row.try_get(5)?;
    let dirty_run = match with_run && dirty {
        false => None,
        true => {
            let direction: Option<String> = row.try_get(6)?;
            let committed: Option<i64> = row.try_get(7)?;
            direction.map(|direction| DirtyRun {
                direction: if direction == "down" {
                    Direction::Down
                } else {
                    Direction::Up
                },
                committed: committed.map(|count| count.max(0) as u64),
            })
        }
    };
    Ok(AppliedMigration {
        version,
        name: row.try_get(1)?,
        checksum,
        applied_at: row.try_get(3)?,
        execution_ms: row.try_get(4)?,
        dirty,
        dirty_run,
    })
}

/// A row of `select_history`.
pub(crate) fn history_from_row<'r, R: Row>(row: &'r R) -> Result<HistoryEntry, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let direction: String = row.try_get(2)?;
    Ok(HistoryEntry {
        version: row.try_get(0)?,
        name: row.try_get(1)?,
        direction: if direction == "down" {
            Direction::Down
        } else {
            Direction::Up
        },
        started_at: row.try_get(3)?,
        duration_ms: row.try_get(4)?,
        success: row.try_get(5)?,
        error: row.try_get::<Option<String>, _>(6)?,
        reason: row.try_get::<Option<String>, _>(7)?,
        // A history table of an older release has no such column.
        placeholders: row.try_get::<Option<String>, _>(8).unwrap_or(None),
    })
}

/// Reads and writes of the tracking tables, written once for every sqlx
/// database: the backends differ in transactions and locks, not in these.
/// The caller holds the transaction where one is needed.
pub(crate) trait TrackingIo: sqlx::Database {
    /// The state row through `query` (`select_state` or its `FOR UPDATE` form).
    fn fetch_state(
        conn: &mut Self::Connection,
        query: String,
    ) -> impl Future<Output = Result<Option<State>, sqlx::Error>> + Send;
    fn write_state(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        state: &State,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn insert_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: bool,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn insert_history(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        entry: &HistoryEntry,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn fetch_applied(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<Vec<AppliedMigration>, sqlx::Error>> + Send;
    fn fetch_history(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, sqlx::Error>> + Send;
    /// The tracking writes of a change whose statements ran in the caller's
    /// transaction: its row (inserted clean, or deleted for down), the
    /// history row and, unless a group writes it once at its end, the state.
    fn record_change(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Takes back the dirty mark of a run whose first statement failed:
    /// nothing of it committed. The row removed (up) or clean again (down),
    /// the state as before.
    fn unmark_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Rows of `query`, whose `columns` columns are all text (`import`).
    fn fetch_text(
        conn: &mut Self::Connection,
        query: String,
        columns: usize,
    ) -> impl Future<Output = Result<Vec<Vec<Option<String>>>, sqlx::Error>> + Send;
    /// `force`, `forget`, `repair`: the tracking row `edit` names written
    /// anew (its dirty run's columns cleared) or removed, and the state set.
    fn rewrite_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        edit: RecordEdit<'_>,
        state: &State,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl<DB> TrackingIo for DB
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> compat::Arguments<'q, DB>: compat::IntoArguments<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Decode<'t, DB> + Type<DB>,
{
    // The reads carry no values: they go as plain text, with nothing
    // prepared that a pooler in transaction mode could hand to another
    // server connection (the boot check of `LockMode::Table` behind
    // PgBouncer).
    async fn fetch_state(conn: &mut DB::Connection, query: String) -> Result<Option<State>, sqlx::Error> {
        let row = compat::raw_sql(assert_sql_safe!(query))
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(state_from_row).transpose()
    }

    async fn write_state(conn: &mut DB::Connection, sql: &TrackingSql, state: &State) -> Result<(), sqlx::Error> {
        bind_state(sqlx::query(assert_sql_safe!(sql.write_state())), state)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn insert_record(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: bool,
    ) -> Result<(), sqlx::Error> {
        bind_record(
            sqlx::query(assert_sql_safe!(sql.insert_record())),
            row,
            execution_ms,
            dirty,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_history(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        entry: &HistoryEntry,
    ) -> Result<(), sqlx::Error> {
        bind_history(
            sqlx::query(assert_sql_safe!(sql.insert_history())),
            entry,
            entry.duration_ms,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn record_change(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> Result<(), sqlx::Error> {
        match &change.record {
            Some(row) => Self::insert_record(conn, sql, row, execution_ms, false).await?,
            None => {
                sqlx::query(assert_sql_safe!(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        close_change(conn, sql, change, execution_ms, write_state).await
    }

    async fn unmark_dirty(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> Result<(), sqlx::Error> {
        let undo = match change.direction {
            Direction::Up => sql.delete_record(),
            Direction::Down => sql.set_dirty(None),
        };
        sqlx::query(assert_sql_safe!(undo))
            .bind(change.migration.version)
            .execute(&mut *conn)
            .await?;
        Self::write_state(conn, sql, &change.state_before).await
    }

    async fn rewrite_record(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        edit: RecordEdit<'_>,
        state: &State,
    ) -> Result<(), sqlx::Error> {
        let version = match edit {
            RecordEdit::Put(row) => Some(row.version),
            RecordEdit::Remove(version) => Some(version),
            RecordEdit::StateOnly => None,
        };
        if let Some(version) = version {
            sqlx::query(assert_sql_safe!(sql.delete_record()))
                .bind(version)
                .execute(&mut *conn)
                .await?;
        }
        if let RecordEdit::Put(row) = edit {
            Self::insert_record(conn, sql, row, row.execution_ms, false).await?;
        }
        Self::write_state(conn, sql, state).await
    }

    async fn fetch_text(
        conn: &mut DB::Connection,
        query: String,
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        let rows = compat::raw_sql(assert_sql_safe!(query)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| (0..columns).map(|i| row.try_get::<Option<String>, _>(i)).collect())
            .collect()
    }

    async fn fetch_applied(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<AppliedMigration>, sqlx::Error> {
        let (rows, with_run) = match compat::raw_sql(assert_sql_safe!(sql.select_applied()))
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => (rows, true),
            // A table of an older release, not upgraded yet (only a run
            // upgrades it, under the lock): read what it has.
            Err(err) => match compat::raw_sql(assert_sql_safe!(sql.select_applied_legacy()))
                .fetch_all(&mut *conn)
                .await
            {
                Ok(rows) => (rows, false),
                Err(_) => return Err(err),
            },
        };
        rows.iter().map(|row| applied_from_row(row, with_run)).collect()
    }

    async fn fetch_history(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<HistoryEntry>, sqlx::Error> {
        let rows = match compat::raw_sql(assert_sql_safe!(sql.select_history()))
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => rows,
            // A history table of an older release, not upgraded yet (a
            // read alters nothing): the same rows without placeholders.
            Err(err) => match compat::raw_sql(assert_sql_safe!(sql.select_history_legacy()))
                .fetch_all(&mut *conn)
                .await
            {
                Ok(rows) => rows,
                Err(_) => return Err(err),
            },
        };
        rows.iter().map(history_from_row).collect()
    }
}

/// The end every change's tracking writes share, whichever path ran its
/// statements: the new state (unless a group writes it once at its end),
/// then the history row.
pub(crate) async fn close_change<DB>(
    conn: &mut DB::Connection,
    sql: &TrackingSql,
    change: &Change<'_>,
    execution_ms: i64,
    write_state: bool,
) -> Result<(), sqlx::Error>
where
    DB: TrackingIo,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> compat::Arguments<'q, DB>: compat::IntoArguments<'q, DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
{
    if write_state {
        DB::write_state(conn, sql, &change.state_after).await?;
    }
    bind_history(
        sqlx::query(assert_sql_safe!(sql.insert_history())),
        &change.history,
        execution_ms,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
