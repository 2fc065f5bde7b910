//! The tracking tables' SQL, for the backends built on sqlx. The statement
//! texts differ per dialect only in quoting, types and placeholders; the
//! values bound to them and read back from them do not differ at all, so
//! binding and decoding are written once here, generic over sqlx's database.

use crate::backend::{Change, State};
use crate::report::{AppliedMigration, HistoryEntry};
use crate::{Checksum, Direction, Settings};
use sqlx::{ColumnIndex, Decode, Encode, Row, Type};

type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;

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
}

/// A row of `select_state`.
pub(crate) fn state_from_row<'r, R: Row>(row: &'r R) -> Result<State, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let chain: String = row.try_get(2)?;
    Ok(State {
        applied_count: row.try_get(0)?,
        last_version: row.try_get(1)?,
        chain: Checksum::from_hex(&chain).unwrap_or(Checksum::ZERO),
        dirty: row.try_get(3)?,
    })
}

/// A row of `select_applied`.
pub(crate) fn applied_from_row<'r, R: Row>(row: &'r R) -> Result<AppliedMigration, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let checksum: String = row.try_get(2)?;
    Ok(AppliedMigration {
        version: row.try_get(0)?,
        name: row.try_get(1)?,
        checksum: Checksum::from_hex(&checksum).unwrap_or(Checksum::ZERO),
        applied_at: row.try_get(3)?,
        execution_ms: row.try_get(4)?,
        dirty: row.try_get(5)?,
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
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SqlDialect {
    #[allow(dead_code)]
    Sqlite,
    #[allow(dead_code)]
    Postgres,
    #[allow(dead_code)]
    MySql,
}

/// Statement texts for one tracking table: `<table>`, `<table>_history`
/// and `<table>_state` (one row: the summary the boot check reads).
pub(crate) struct TrackingSql {
    dialect: SqlDialect,
    /// The quoted schema (PostgreSQL) or database (MySQL), when one is set.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub schema: Option<String>,
    pub table: String,
    pub history: String,
    pub state: String,
}

impl TrackingSql {
    /// `settings` must have passed `Settings::check`: names are identifiers.
    pub fn new(dialect: SqlDialect, settings: &Settings) -> Self {
        let quote = |name: &str| match dialect {
            SqlDialect::MySql => format!("`{name}`"),
            _ => format!("\"{name}\""),
        };
        let qualify = |name: String| match settings.schema_name() {
            Some(schema) => format!("{}.{}", quote(schema), quote(&name)),
            None => quote(&name),
        };
        let base = settings.table_name();
        TrackingSql {
            dialect,
            schema: settings.schema_name().map(&quote),
            table: qualify(base.to_string()),
            history: qualify(format!("{base}_history")),
            state: qualify(format!("{base}_state")),
        }
    }

    fn p(&self, index: usize) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("${index}"),
            _ => "?".to_string(),
        }
    }

    fn params(&self, count: usize) -> String {
        (1..=count).map(|i| self.p(i)).collect::<Vec<_>>().join(", ")
    }

    /// Creates the three tables and the state row, each statement idempotent.
    pub fn create(&self) -> Vec<String> {
        let (int, text, flag, key, history_id) = match self.dialect {
            SqlDialect::Sqlite => (
                "INTEGER",
                "TEXT",
                "INTEGER",
                "INTEGER",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
            ),
            SqlDialect::Postgres => ("BIGINT", "TEXT", "BOOLEAN", "BIGINT", "BIGSERIAL PRIMARY KEY"),
            SqlDialect::MySql => (
                "BIGINT",
                "VARCHAR(255)",
                "BOOLEAN",
                "BIGINT",
                "BIGINT AUTO_INCREMENT PRIMARY KEY",
            ),
        };
        let long_text = if self.dialect == SqlDialect::MySql {
            "TEXT"
        } else {
            text
        };
        let insert_state = match self.dialect {
            SqlDialect::Sqlite => "INSERT OR IGNORE INTO",
            SqlDialect::Postgres => "INSERT INTO",
            SqlDialect::MySql => "INSERT IGNORE INTO",
        };
        let on_conflict = if self.dialect == SqlDialect::Postgres {
            " ON CONFLICT (id) DO NOTHING"
        } else {
            ""
        };
        let false_value = if self.dialect == SqlDialect::Sqlite {
            "0"
        } else {
            "FALSE"
        };
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (version {key} PRIMARY KEY, name {text} NOT NULL, checksum {text} NOT NULL, \
                 applied_at {text} NOT NULL, execution_ms {int} NOT NULL, dirty {flag} NOT NULL)",
                self.table
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (id {history_id}, version {int} NOT NULL, name {text} NOT NULL, \
                 direction {text} NOT NULL, started_at {text} NOT NULL, duration_ms {int} NOT NULL, success {flag} NOT NULL, \
                 error {long_text}, reason {long_text})",
                self.history
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (id {int} PRIMARY KEY, applied_count {int} NOT NULL, last_version {int} NOT NULL, \
                 chain {text} NOT NULL, dirty {flag} NOT NULL)",
                self.state
            ),
            format!(
                "{insert_state} {} (id, applied_count, last_version, chain, dirty) VALUES (1, 0, 0, '{}', {false_value}){on_conflict}",
                self.state,
                crate::Checksum::ZERO.to_hex()
            ),
        ]
    }

    /// Creates the schema (PostgreSQL) or database (MySQL) of the tracking
    /// tables, when the settings name one.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub fn create_schema(&self) -> Option<String> {
        let schema = self.schema.as_ref()?;
        match self.dialect {
            SqlDialect::Sqlite => None,
            SqlDialect::Postgres | SqlDialect::MySql => Some(format!("CREATE SCHEMA IF NOT EXISTS {schema}")),
        }
    }

    /// The state row, locked until the transaction ends, so that the check
    /// against the plan's state and the change after it cannot interleave
    /// with another writer.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub fn select_state_for_update(&self) -> String {
        match self.dialect {
            SqlDialect::Sqlite => self.select_state(),
            SqlDialect::Postgres | SqlDialect::MySql => format!("{} FOR UPDATE", self.select_state()),
        }
    }

    /// PostgreSQL only: a change's tracking writes as one statement. The
    /// tracking row (insert for up, delete for down) and the history row are
    /// data-modifying CTEs; the state row is updated only if it still holds
    /// the state the plan was made on, so zero rows updated means another
    /// process got there first and the transaction is rolled back.
    /// Parameters: the record (6, up) or the version (1, down), the history
    /// (8), the new state (4), the expected state (4).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub fn record_change_checked(&self, up: bool) -> String {
        let mut next = 0;
        let mut params = |count: usize| {
            let list: Vec<String> = (next + 1..=next + count).map(|i| self.p(i)).collect();
            next += count;
            list
        };
        let record = if up {
            format!(
                "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, dirty) VALUES ({})",
                self.table,
                params(6).join(", ")
            )
        } else {
            format!("DELETE FROM {} WHERE version = {}", self.table, params(1)[0])
        };
        let history = format!(
            "INSERT INTO {} (version, name, direction, started_at, duration_ms, success, error, reason) VALUES ({})",
            self.history,
            params(8).join(", ")
        );
        let new = params(4);
        let old = params(4);
        format!(
            "WITH tracked AS ({record}), logged AS ({history}) UPDATE {} SET applied_count = {}, last_version = {}, \
             chain = {}, dirty = {} WHERE id = 1 AND applied_count = {} AND last_version = {} AND chain = {} AND dirty = {}",
            self.state, new[0], new[1], new[2], new[3], old[0], old[1], old[2], old[3]
        )
    }

    pub fn select_state(&self) -> String {
        format!(
            "SELECT applied_count, last_version, chain, dirty FROM {} WHERE id = 1",
            self.state
        )
    }

    pub fn select_applied(&self) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty FROM {} ORDER BY version",
            self.table
        )
    }

    pub fn select_history(&self) -> String {
        format!(
            "SELECT version, name, direction, started_at, duration_ms, success, error, reason FROM {} ORDER BY id",
            self.history
        )
    }

    /// version, name, checksum, applied_at, execution_ms, dirty
    pub fn insert_record(&self) -> String {
        format!(
            "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, dirty) VALUES ({})",
            self.table,
            self.params(6)
        )
    }

    /// execution_ms, version: marks a dirty row clean.
    pub fn finish_record(&self) -> String {
        format!(
            "UPDATE {} SET execution_ms = {}, dirty = {} WHERE version = {}",
            self.table,
            self.p(1),
            self.p(2),
            self.p(3)
        )
    }

    /// dirty, version
    pub fn set_dirty(&self) -> String {
        format!(
            "UPDATE {} SET dirty = {} WHERE version = {}",
            self.table,
            self.p(1),
            self.p(2)
        )
    }

    pub fn delete_record(&self) -> String {
        format!("DELETE FROM {} WHERE version = {}", self.table, self.p(1))
    }

    /// applied_count, last_version, chain, dirty
    pub fn write_state(&self) -> String {
        format!(
            "UPDATE {} SET applied_count = {}, last_version = {}, chain = {}, dirty = {} WHERE id = 1",
            self.state,
            self.p(1),
            self.p(2),
            self.p(3),
            self.p(4)
        )
    }

    /// version, name, direction, started_at, duration_ms, success, error, reason
    pub fn insert_history(&self) -> String {
        format!(
            "INSERT INTO {} (version, name, direction, started_at, duration_ms, success, error, reason) VALUES ({})",
            self.history,
            self.params(8)
        )
    }
}

/// Reads and writes of the tracking tables, written once for every sqlx
/// database: the backends differ in transactions and locks, not in these.
pub(crate) trait TrackingIo: sqlx::Database {
    /// The state row through `query` (`select_state` or its `FOR UPDATE` form).
    async fn fetch_state(conn: &mut Self::Connection, query: String) -> Result<Option<State>, sqlx::Error>;
    async fn write_state(conn: &mut Self::Connection, sql: &TrackingSql, state: &State) -> Result<(), sqlx::Error>;
    async fn insert_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: bool,
    ) -> Result<(), sqlx::Error>;
    async fn insert_history(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        entry: &HistoryEntry,
    ) -> Result<(), sqlx::Error>;
    async fn fetch_applied(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
    ) -> Result<Vec<AppliedMigration>, sqlx::Error>;
    async fn fetch_history(conn: &mut Self::Connection, sql: &TrackingSql) -> Result<Vec<HistoryEntry>, sqlx::Error>;
    /// First step of the dirty protocol: the change's row marked dirty (an
    /// up change inserts it, a down change flags the existing one) and the
    /// state marked dirty; the caller holds the transaction.
    async fn mark_dirty(conn: &mut Self::Connection, sql: &TrackingSql, change: &Change<'_>)
        -> Result<(), sqlx::Error>;
    /// Last step of the dirty protocol, once every statement ran: the row
    /// made clean (up) or deleted (down), the new state, the history row.
    async fn finish_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> Result<(), sqlx::Error>;
    /// `force`/`forget`: the row of `version` replaced by `record` (or
    /// removed) and the state set; the caller holds the transaction.
    async fn replace_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> Result<(), sqlx::Error>;
}

impl<DB> TrackingIo for DB
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
{
    async fn fetch_state(conn: &mut DB::Connection, query: String) -> Result<Option<State>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(state_from_row).transpose()
    }

    async fn write_state(conn: &mut DB::Connection, sql: &TrackingSql, state: &State) -> Result<(), sqlx::Error> {
        bind_state(sqlx::query(sqlx::AssertSqlSafe(sql.write_state())), state)
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
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_record())),
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
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_history())),
            entry,
            entry.duration_ms,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn mark_dirty(conn: &mut DB::Connection, sql: &TrackingSql, change: &Change<'_>) -> Result<(), sqlx::Error> {
        match &change.record {
            Some(row) => Self::insert_record(conn, sql, row, 0, true).await?,
            None => {
                sqlx::query(sqlx::AssertSqlSafe(sql.set_dirty()))
                    .bind(true)
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let mut dirty_state = change.state_before;
        dirty_state.dirty = true;
        Self::write_state(conn, sql, &dirty_state).await
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
                    .bind(false)
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
        Self::write_state(conn, sql, &change.state_after).await?;
        bind_history(
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_history())),
            &change.history,
            execution_ms,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn replace_record(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
            .bind(version)
            .execute(&mut *conn)
            .await?;
        if let Some(row) = record {
            Self::insert_record(conn, sql, row, row.execution_ms, false).await?;
        }
        Self::write_state(conn, sql, state).await
    }

    async fn fetch_applied(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<AppliedMigration>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.select_applied()))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(applied_from_row).collect()
    }

    async fn fetch_history(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<HistoryEntry>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.select_history()))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(history_from_row).collect()
    }
}
