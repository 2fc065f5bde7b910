//! The tracking tables' SQL, for the backends built on sqlx. The statement
//! texts differ per dialect only in quoting, types and placeholders; the
//! values bound to them and read back from them do not differ at all, so
//! binding and decoding are written once here, generic over sqlx's database.

use crate::backend::{BoxFuture, Change, Session, State};
use crate::core::split::{split, Dialect};
use crate::report::{AppliedMigration, HistoryEntry};
use crate::{Checksum, Direction, Error, Settings};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Row, Type};
use std::future::Future;
use std::time::{Duration, Instant};

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

    /// `text` as a string literal of the dialect. PostgreSQL's `E''` form
    /// means the same whatever `standard_conforming_strings` says.
    fn literal(&self, text: &str) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''")),
            SqlDialect::Sqlite | SqlDialect::MySql => format!("'{}'", text.replace('\'', "''")),
        }
    }

    fn optional_literal(&self, text: Option<&str>) -> String {
        text.map_or_else(|| "NULL".to_string(), |text| self.literal(text))
    }

    fn flag(&self, value: bool) -> &'static str {
        match (self.dialect, value) {
            (SqlDialect::Sqlite, true) => "1",
            (SqlDialect::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// Milliseconds since the batch began, computed by the database when the
    /// statement runs, so that a change's duration is written in the same
    /// trip as its statements. PostgreSQL: since the server received the
    /// batch; SQLite (in this process, on its clock): since `started_unix_ms`.
    fn elapsed_ms(&self, started_unix_ms: i64) -> String {
        match self.dialect {
            SqlDialect::Postgres => {
                "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint".into()
            }
            SqlDialect::Sqlite | SqlDialect::MySql => {
                format!("(CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - {started_unix_ms})")
            }
        }
    }

    /// A statement that fails unless the state row is `expected`: it would
    /// insert a row of NULLs, which NOT NULL refuses (whether or not a state
    /// row exists), and inserts nothing when the state is the expected one.
    /// The batch's stand-in for `check_state`: a failure is told apart from
    /// a conflict afterwards, by the replay.
    pub fn guard_state(&self, expected: &State) -> String {
        format!(
            "INSERT INTO {state} (id, applied_count, last_version, chain, dirty) SELECT 1, NULL, NULL, NULL, NULL \
             WHERE NOT EXISTS (SELECT 1 FROM {state} WHERE id = 1 AND applied_count = {} AND last_version = {} \
             AND chain = {} AND dirty = {})",
            expected.applied_count,
            expected.last_version,
            self.literal(&expected.chain.to_hex()),
            self.flag(expected.dirty),
            state = self.state,
        )
    }

    /// Another tool's history table, every column cast to text (hex for
    /// binary columns), so that one decoder reads every dialect.
    pub fn select_foreign(&self, table: &str, columns: &[crate::backend::ForeignColumn]) -> String {
        use crate::backend::ForeignColumn;
        let list: Vec<String> = columns
            .iter()
            .map(|column| match (column, self.dialect) {
                (ForeignColumn::Text(c), SqlDialect::Postgres) => format!("CAST({c} AS TEXT)"),
                (ForeignColumn::Text(c), SqlDialect::MySql) => format!("CAST({c} AS CHAR)"),
                (ForeignColumn::Text(c), SqlDialect::Sqlite) => format!("CAST({c} AS TEXT)"),
                (ForeignColumn::Hex(c), SqlDialect::Postgres) => format!("encode({c}, 'hex')"),
                (ForeignColumn::Hex(c), _) => format!("lower(hex({c}))"),
            })
            .collect();
        format!("SELECT {} FROM {table}", list.join(", "))
    }

    /// The state row set to `state`, as literal SQL.
    pub fn write_state_literal(&self, state: &State) -> String {
        format!(
            "UPDATE {} SET applied_count = {}, last_version = {}, chain = {}, dirty = {} WHERE id = 1",
            self.state,
            state.applied_count,
            state.last_version,
            self.literal(&state.chain.to_hex()),
            self.flag(state.dirty)
        )
    }

    /// A change's tracking row (inserted clean for up, deleted for down) and
    /// its history row, as literal SQL for the batch. Its duration is the
    /// time since the batch began less the durations of the `earlier`
    /// changes of the same batch (their history rows are the last ones:
    /// the batch holds the write lock, or the migration lock on PostgreSQL).
    pub fn record_change_literal(&self, change: &Change<'_>, earlier: usize, started_unix_ms: i64) -> [String; 3] {
        let elapsed = self.elapsed_ms(started_unix_ms);
        let duration = if earlier == 0 {
            elapsed
        } else {
            format!(
                "({elapsed} - (SELECT COALESCE(SUM(duration_ms), 0) FROM \
                 (SELECT duration_ms FROM {} ORDER BY id DESC LIMIT {earlier}) AS earlier))",
                self.history
            )
        };
        // Clocks read at millisecond precision and rounded differently can
        // put the end a millisecond before the start: never below zero.
        let duration = match self.dialect {
            SqlDialect::Postgres => format!("GREATEST(0, {duration})"),
            SqlDialect::Sqlite | SqlDialect::MySql => format!("max(0, {duration})"),
        };
        // A repeatable migration re-applied replaces its row (the upsert of
        // the statement-by-statement path): delete it first, a no-op for a
        // versioned migration.
        let replaced = format!(
            "DELETE FROM {} WHERE version = {}",
            self.table, change.migration.version
        );
        let record = match &change.record {
            Some(row) => format!(
                "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, dirty) \
                 SELECT {}, {}, {}, {}, duration_ms, {} FROM {} WHERE id = (SELECT MAX(id) FROM {})",
                self.table,
                row.version,
                self.literal(&row.name),
                self.literal(&row.checksum.to_hex()),
                self.literal(&row.applied_at),
                self.flag(false),
                self.history,
                self.history,
            ),
            None => format!(
                "DELETE FROM {} WHERE version = {}",
                self.table, change.migration.version
            ),
        };
        let entry = &change.history;
        let history = format!(
            "INSERT INTO {} (version, name, direction, started_at, duration_ms, success, error, reason) \
             VALUES ({}, {}, {}, {}, {duration}, {}, {}, {})",
            self.history,
            entry.version,
            self.literal(&entry.name),
            self.literal(entry.direction.as_str()),
            self.literal(&entry.started_at),
            self.flag(entry.success),
            self.optional_literal(entry.error.as_deref()),
            self.optional_literal(entry.reason.as_deref()),
        );
        // The history row first: the tracking row copies its duration.
        [history, replaced, record]
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
        self.upsert_record(&self.params(6))
    }

    /// The tracking row written with `values`, replacing the row of its
    /// version if there is one: a repeatable migration applied again after
    /// its text changed. (A versioned migration never has a row when it is
    /// applied: the state check before every change sees to that.)
    fn upsert_record(&self, values: &str) -> String {
        let columns = "(version, name, checksum, applied_at, execution_ms, dirty)";
        match self.dialect {
            SqlDialect::Sqlite => format!("INSERT OR REPLACE INTO {} {columns} VALUES ({values})", self.table),
            SqlDialect::Postgres => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, \
                 checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at, execution_ms = EXCLUDED.execution_ms, \
                 dirty = EXCLUDED.dirty",
                self.table
            ),
            SqlDialect::MySql => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON DUPLICATE KEY UPDATE name = VALUES(name), \
                 checksum = VALUES(checksum), applied_at = VALUES(applied_at), execution_ms = VALUES(execution_ms), \
                 dirty = VALUES(dirty)",
                self.table
            ),
        }
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
    /// First step of the dirty protocol: the change's row marked dirty (an
    /// up change inserts it, a down change flags the existing one) and the
    /// state marked dirty.
    fn mark_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Last step of the dirty protocol, once every statement ran: the row
    /// made clean (up) or deleted (down), the new state, the history row.
    fn finish_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Rows of `query`, whose `columns` columns are all text (`import`).
    fn fetch_text(
        conn: &mut Self::Connection,
        query: String,
        columns: usize,
    ) -> impl Future<Output = Result<Vec<Vec<Option<String>>>, sqlx::Error>> + Send;
    /// `force`/`forget`: the row of `version` replaced by `record` (or
    /// removed) and the state set.
    fn replace_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
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
                sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if write_state {
            Self::write_state(conn, sql, &change.state_after).await?;
        }
        bind_history(
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_history())),
            &change.history,
            execution_ms,
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

    async fn fetch_text(
        conn: &mut DB::Connection,
        query: String,
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(query)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| (0..columns).map(|i| row.try_get::<Option<String>, _>(i)).collect())
            .collect()
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

type Connection<B> = <<B as SqlBackend>::DB as sqlx::Database>::Connection;

/// What differs between the sqlx databases: transactions, locks, the
/// catalog and error messages. [`SqlSession`] is everything else, once.
/// The implementing type is also the session's backend-specific state (the
/// lock held, a setting to restore).
pub(crate) trait SqlBackend: Send + Sized + 'static {
    type DB: TrackingIo + crate::sql_batch::CheckpointIo;
    const NAME: &'static str;
    const DIALECT: Dialect;
    const SQL: SqlDialect;

    /// The database's own words for `err`, with its codes where it has them.
    fn message(err: &sqlx::Error) -> String {
        match err.as_database_error() {
            Some(db) => db.message().to_string(),
            None => err.to_string(),
        }
    }

    /// The line of the file a failed statement's error points at.
    fn error_line(_err: &sqlx::Error, _statement: &str, first_line: usize) -> usize {
        first_line
    }

    /// Whether the state table exists: asked when reading it failed, to tell
    /// "no tracking tables yet" from a real error.
    fn state_table_exists(session: &mut SqlSession<Self>) -> impl Future<Output = Result<bool, Error>> + Send;

    /// A transaction for tracking writes.
    fn begin(
        conn: &mut Connection<Self>,
    ) -> impl Future<Output = Result<sqlx::Transaction<'_, Self::DB>, Error>> + Send {
        async move {
            sqlx::Connection::begin(conn).await.map_err(|err| {
                Error::database(Self::NAME, "beginning a transaction", Self::message(&err)).with_source(err)
            })
        }
    }

    /// Runs in each migration's transaction before its statements
    /// (PostgreSQL: the tracking schema onto the search path).
    fn enter_transaction(
        conn: &mut Connection<Self>,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (conn, sql);
        async { Ok(()) }
    }

    fn prepare(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn lock(session: &mut SqlSession<Self>, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;
    fn unlock(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn apply<'a>(
        session: &'a mut SqlSession<Self>,
        change: &'a Change<'a>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// Whether DDL is transactional: group mode runs only where it is.
    const TRANSACTIONAL_DDL: bool;

    /// Whether the connection must be closed rather than handed back to the
    /// pool: a lock or session setting whose release was not confirmed.
    fn must_close(&self) -> bool {
        false
    }
}

/// One sqlx connection of the user's pool, for one operation.
pub(crate) struct SqlSession<B: SqlBackend> {
    pub conn: PoolConnection<B::DB>,
    pub sql: TrackingSql,
    pub backend: B,
}

impl<B: SqlBackend> Drop for SqlSession<B> {
    fn drop(&mut self) {
        if self.backend.must_close() {
            // Back in the pool, this connection would keep the lock (or the
            // changed setting) for whoever takes it next; closed, the server
            // releases everything the session held.
            self.conn.close_on_drop();
        }
    }
}

/// sqlx reports a server that never answered as a pool timeout, which
/// alone does not say where to look.
fn connect_error<B: SqlBackend>(err: sqlx::Error) -> Error {
    let message = match err {
        sqlx::Error::PoolTimedOut => "no connection within the pool's acquire timeout: the server is down or \
                                      unreachable, or every connection of the pool is in use"
            .to_string(),
        ref other => B::message(other),
    };
    Error::database(B::NAME, "connecting", message).with_source(err)
}

/// The outcome of asking the server to release the migration lock: whether
/// it is free now. A release that failed leaves it counted as held, so the
/// connection is closed on drop and the server frees the lock.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn lock_released(result: Result<bool, sqlx::Error>) -> bool {
    match result {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("the migration lock was no longer held by this connection when releasing it");
            true
        }
        Err(err) => {
            tracing::warn!(error = %err, "releasing the migration lock failed; closing the connection instead");
            false
        }
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Takes a connection from `pool`.
    pub fn open<'a>(
        pool: &'a sqlx::Pool<B::DB>,
        settings: &'a Settings,
        backend: B,
    ) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move {
            let conn = pool.acquire().await.map_err(connect_error::<B>)?;
            let session: Box<dyn Session + 'a> = Box::new(SqlSession {
                conn,
                sql: TrackingSql::new(B::SQL, settings),
                backend,
            });
            Ok(session)
        })
    }

    pub fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
        move |err| Error::database(B::NAME, operation, B::message(&err)).with_source(err)
    }

    /// Runs the statements of a change one by one, so that an error names
    /// its statement (and so that a file is never turned into one implicit
    /// transaction by a multi-statement query).
    pub async fn run_statements(
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
    pub async fn check_state(conn: &mut Connection<B>, sql: &TrackingSql, expected: &State) -> Result<(), Error> {
        let state = B::DB::fetch_state(conn, sql.select_state_for_update())
            .await
            .map_err(Self::db_err("reading the state"))?;
        if state == Some(*expected) {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    /// Transactional changes (one, or a group) in one transaction and one
    /// batch: BEGIN, then one multi-statement query holding the state
    /// guard, every statement of every change, each change's tracking and
    /// history rows and the new state, then COMMIT. Three round trips (or
    /// hops to sqlx's SQLite worker) however many statements the files
    /// hold.
    ///
    /// A batch that fails is rolled back and then replayed one statement at
    /// a time in a transaction that is rolled back too ([`Self::replay`]),
    /// so the error names the statement, its line and the database's own
    /// message exactly as if the statements had been sent one by one.
    pub async fn apply_batched(&mut self, changes: &[Change<'_>]) -> Result<(), Error> {
        if changes.is_empty() {
            return Ok(());
        }
        let started_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64);
        let batch = Self::batch(&self.sql, changes, started_unix_ms);
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        B::enter_transaction(&mut tx, sql).await?;
        let failure = match sqlx::raw_sql(AssertSqlSafe(batch)).execute(&mut *tx).await {
            Ok(_) => {
                let committed = if changes.len() == 1 {
                    "committing the migration"
                } else {
                    "committing the migrations"
                };
                return tx.commit().await.map_err(Self::db_err(committed));
            }
            Err(err) => err,
        };
        if let Err(err) = tx.rollback().await {
            // SQLite rolls a transaction back by itself on some errors
            // (disk full, I/O); anything else leaves sqlx to roll back on drop.
            tracing::debug!(error = %err, "rolling back the failed batch");
        }
        Err(self.replay(changes, failure).await)
    }

    /// The batch of [`Self::apply_batched`], without BEGIN and COMMIT.
    /// Statements are joined by `;` on a line of its own, so that a
    /// statement ending in a line comment still ends.
    fn batch(sql: &TrackingSql, changes: &[Change<'_>], started_unix_ms: i64) -> String {
        let mut parts = Vec::new();
        if let Some(first) = changes.first() {
            parts.push(sql.guard_state(&first.state_before));
        }
        for (earlier, change) in changes.iter().enumerate() {
            let script = change.migration.script(change.direction);
            parts.extend(split(script.text, B::DIALECT).into_iter().map(|s| s.text.to_string()));
            parts.extend(sql.record_change_literal(change, earlier, started_unix_ms));
        }
        if let Some(last) = changes.last() {
            parts.push(sql.write_state_literal(&last.state_after));
        }
        let mut batch = parts.join("\n;\n");
        batch.push_str("\n;");
        batch
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

    /// The dirty protocol, for DDL that commits implicitly and for
    /// `migrate:no-transaction` files: check the state and mark the change
    /// dirty in one transaction, run the statements outside any, then
    /// record the change clean. A failure or a crash in between leaves the
    /// mark for a person to resolve with `force` or `forget`.
    pub async fn apply_marked(&mut self, change: &Change<'_>) -> Result<(), Error> {
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
        Self::run_statements(&mut self.conn, change, false).await?;
        let execution_ms = started.elapsed().as_millis() as i64;
        let mut tx = B::begin(&mut self.conn).await?;
        let finish = async {
            B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(Self::db_err("recording the migration"))
    }
}

impl<B: SqlBackend> Session for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn dialect(&self) -> Dialect {
        B::DIALECT
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(async move {
            match B::DB::fetch_state(&mut self.conn, self.sql.select_state()).await {
                Ok(state) => Ok(state),
                Err(err) => match B::state_table_exists(self).await? {
                    true => Err(Error::database(B::NAME, "reading the state", B::message(&err)).with_source(err)),
                    false => Ok(None),
                },
            }
        })
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::prepare(self))
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::lock(self, timeout))
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::unlock(self))
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(async move {
            B::DB::fetch_applied(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the tracking table"))
        })
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(async move {
            B::DB::fetch_history(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the history table"))
        })
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>, _timeout: Duration) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(B::apply(self, change))
    }

    fn apply_group<'a>(
        &'a mut self,
        changes: &'a [Change<'a>],
        _timeout: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if !B::TRANSACTIONAL_DDL {
                return Err(Error::Unsupported {
                    backend: B::NAME,
                    what: "group mode (all migrations in one transaction)".to_string(),
                });
            }
            self.apply_batched(changes).await
        })
    }

    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [crate::backend::ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>> {
        Box::pin(async move {
            let query = self.sql.select_foreign(table, columns);
            let operation = format!("reading `{table}`");
            B::DB::fetch_text(&mut self.conn, query, columns.len())
                .await
                .map_err(|err| Error::database(B::NAME, operation.as_str(), B::message(&err)))
        })
    }

    /// Every row, its history row and the final state in one transaction,
    /// after checking the state (MySQL too: these are data writes, no DDL).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
                return Ok(());
            };
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            Self::check_state(&mut tx, sql, &first.state_before).await?;
            let write = async {
                for change in changes {
                    B::DB::record_change(&mut tx, sql, change, 0, false).await?;
                }
                B::DB::write_state(&mut tx, sql, &last.state_after).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("recording migrations as applied"))
        })
    }

    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<crate::backend::Checkpoint>, Error>> {
        Box::pin(SqlSession::read_checkpoint(self, version))
    }

    fn run_batch<'a>(
        &'a mut self,
        batch: &'a crate::backend::Batch<'a>,
    ) -> BoxFuture<'a, Result<crate::backend::BatchDone, Error>> {
        Box::pin(SqlSession::run_batch(self, batch))
    }

    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(SqlSession::count_rows(self, query))
    }

    fn record_failure<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            B::DB::insert_history(&mut self.conn, &self.sql, entry)
                .await
                .map_err(Self::db_err("recording the failure"))
        })
    }

    fn set_record<'a>(
        &'a mut self,
        version: i64,
        record: Option<&'a AppliedMigration>,
        state: &'a State,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            let write = async {
                B::DB::replace_record(&mut tx, sql, version, record, state).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("updating the tracking table"))
        })
    }
}
