//! SQLite through `sqlx::SqlitePool`.
//!
//! SQLite has no advisory lock, but its write lock is database-wide: each
//! migration runs in a `BEGIN IMMEDIATE` transaction that first re-reads the
//! state row. A second process booting at the same moment waits for the
//! write lock, sees that the state moved, and plans again; so each migration
//! is applied once without a lock row that a crash could leave behind.

use crate::backend::{Change, Database, Session, State};
use crate::core::split::{split, Dialect};
use crate::report::{AppliedMigration, HistoryEntry};
use crate::sql::{SqlDialect, TrackingIo, TrackingSql};
use crate::{Error, Settings, Sql};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use sqlx::{AssertSqlSafe, Connection};
use std::time::{Duration, Instant};

const BACKEND: &str = "SQLite";

impl Database for SqlitePool {
    crate::backend::erased_operations!();

    type Language = Sql;
    type Session = SqliteSession;

    async fn open(&self, settings: &Settings) -> Result<SqliteSession, Error> {
        let conn = self
            .acquire()
            .await
            .map_err(|err| Error::database(BACKEND, "connecting", err))?;
        Ok(SqliteSession {
            conn,
            sql: TrackingSql::new(SqlDialect::Sqlite, settings),
            restore_busy_timeout: None,
        })
    }
}

pub struct SqliteSession {
    conn: PoolConnection<Sqlite>,
    sql: TrackingSql,
    restore_busy_timeout: Option<i64>,
}

fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |err| Error::database(BACKEND, operation, err)
}

fn is_busy(err: &sqlx::Error) -> bool {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    err.as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Takes SQLite's write lock. The wait is SQLite's own busy handler, which
/// `lock` set to the lock timeout for this session.
async fn begin_immediate(conn: &mut SqliteConnection) -> Result<sqlx::Transaction<'_, Sqlite>, Error> {
    let started = Instant::now();
    conn.begin_with("BEGIN IMMEDIATE").await.map_err(|err| {
        if is_busy(&err) {
            Error::LockTimeout {
                backend: BACKEND,
                waited: started.elapsed(),
                holder: None,
            }
        } else {
            Error::database(BACKEND, "beginning a transaction", err)
        }
    })
}

fn failed(change: &Change<'_>, statement: &str, line: usize, err: sqlx::Error, rolled_back: bool) -> Error {
    let message = match err.as_database_error() {
        Some(db) => db.message().to_string(),
        None => err.to_string(),
    };
    let script = change.migration.script(change.direction);
    Error::MigrationFailed {
        version: change.migration.version,
        name: change.migration.name.to_string(),
        file: script.file.to_string(),
        direction: change.direction,
        statement: statement.to_string(),
        line,
        message,
        rolled_back,
    }
}

impl SqliteSession {
    /// Tracking writes of a finished change: row, history and, unless a
    /// group writes it once at its end, the state.
    async fn record(
        conn: &mut SqliteConnection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> Result<(), sqlx::Error> {
        match &change.record {
            Some(row) => {
                Sqlite::insert_record(conn, sql, row, execution_ms, false).await?;
            }
            None => {
                sqlx::query(AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if write_state {
            Sqlite::write_state(conn, sql, &change.state_after).await?;
        }
        let mut history = change.history.clone();
        history.duration_ms = execution_ms;
        Sqlite::insert_history(conn, sql, &history).await
    }

    /// Runs the statements of a change on `conn`, one by one so that an error
    /// names its statement.
    async fn run_statements(
        conn: &mut SqliteConnection,
        change: &Change<'_>,
        in_transaction: bool,
    ) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        for statement in split(script.text, Dialect::Sqlite) {
            if let Err(err) = sqlx::raw_sql(statement.text).execute(&mut *conn).await {
                return Err(failed(change, statement.text, statement.line, err, in_transaction));
            }
        }
        Ok(())
    }

    /// The dirty protocol for `migrate:no-transaction` files: mark, run
    /// outside a transaction, then record. A failure leaves the mark.
    async fn apply_without_transaction(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        {
            let mut tx = begin_immediate(&mut self.conn).await?;
            if Sqlite::fetch_state(&mut tx, sql.select_state())
                .await
                .map_err(db_err("reading the state"))?
                != Some(change.state_before)
            {
                return Err(Error::Conflict);
            }
            let marked = async {
                Sqlite::mark_dirty(&mut tx, sql, change).await?;
                tx.commit().await
            };
            marked.await.map_err(db_err("marking the migration dirty"))?;
        }
        let started = Instant::now();
        Self::run_statements(&mut self.conn, change, false).await?;
        let execution_ms = started.elapsed().as_millis() as i64;
        let mut tx = begin_immediate(&mut self.conn).await?;
        let finish = async {
            Sqlite::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(db_err("recording the migration"))
    }
}

impl Session for SqliteSession {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn read_state(&mut self) -> Result<Option<State>, Error> {
        match Sqlite::fetch_state(&mut self.conn, self.sql.select_state()).await {
            Ok(state) => Ok(state),
            Err(err) => {
                let exists: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
                        .bind(format!("{}_state", self.sql.table.trim_matches('"')))
                        .fetch_one(&mut *self.conn)
                        .await
                        .map_err(db_err("reading the state"))?;
                if exists == 0 {
                    Ok(None)
                } else {
                    Err(Error::database(BACKEND, "reading the state", err))
                }
            }
        }
    }

    async fn prepare(&mut self) -> Result<(), Error> {
        for statement in self.sql.create() {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *self.conn)
                .await
                .map_err(db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        // Each change takes the database's write lock (see the module docs);
        // here the wait for it is set to the lock timeout, and the pool's own
        // busy timeout is given back in `unlock`.
        let previous: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *self.conn)
            .await
            .map_err(db_err("reading the busy timeout"))?;
        self.restore_busy_timeout = Some(previous);
        let millis = timeout.as_millis().min(i32::MAX as u128);
        sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {millis}")))
            .execute(&mut *self.conn)
            .await
            .map_err(db_err("setting the busy timeout"))?;
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if let Some(previous) = self.restore_busy_timeout.take() {
            sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {previous}")))
                .execute(&mut *self.conn)
                .await
                .map_err(db_err("restoring the busy timeout"))?;
        }
        Ok(())
    }

    async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        Sqlite::fetch_applied(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the tracking table"))
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        Sqlite::fetch_history(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the history table"))
    }

    async fn apply(&mut self, change: &Change<'_>, _timeout: Duration) -> Result<(), Error> {
        if change.migration.script(change.direction).no_transaction {
            return self.apply_without_transaction(change).await;
        }
        let sql = &self.sql;
        let mut tx = begin_immediate(&mut self.conn).await?;
        if Sqlite::fetch_state(&mut tx, sql.select_state())
            .await
            .map_err(db_err("reading the state"))?
            != Some(change.state_before)
        {
            return Err(Error::Conflict);
        }
        let started = Instant::now();
        // On error the transaction is dropped, which rolls it back.
        Self::run_statements(&mut tx, change, true).await?;
        let execution_ms = started.elapsed().as_millis() as i64;
        Self::record(&mut tx, sql, change, execution_ms, true)
            .await
            .map_err(db_err("recording the migration"))?;
        tx.commit().await.map_err(db_err("committing the migration"))
    }

    async fn apply_group(&mut self, changes: &[Change<'_>], _timeout: Duration) -> Result<(), Error> {
        let Some(first) = changes.first() else { return Ok(()) };
        let sql = &self.sql;
        let mut tx = begin_immediate(&mut self.conn).await?;
        if Sqlite::fetch_state(&mut tx, sql.select_state())
            .await
            .map_err(db_err("reading the state"))?
            != Some(first.state_before)
        {
            return Err(Error::Conflict);
        }
        for change in changes {
            let started = Instant::now();
            Self::run_statements(&mut tx, change, true).await?;
            let execution_ms = started.elapsed().as_millis() as i64;
            Self::record(&mut tx, sql, change, execution_ms, false)
                .await
                .map_err(db_err("recording the migration"))?;
        }
        let last = changes.last().unwrap_or(first);
        Sqlite::write_state(&mut tx, sql, &last.state_after)
            .await
            .map_err(db_err("recording the migrations"))?;
        tx.commit().await.map_err(db_err("committing the migrations"))
    }

    async fn record_failure(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        Sqlite::insert_history(&mut self.conn, &self.sql, entry)
            .await
            .map_err(db_err("recording the failure"))
    }

    async fn set_record(
        &mut self,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = begin_immediate(&mut self.conn).await?;
        let write = async {
            Sqlite::replace_record(&mut tx, sql, version, record, state).await?;
            tx.commit().await
        };
        write.await.map_err(db_err("updating the tracking table"))
    }
}
