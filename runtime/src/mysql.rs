//! MySQL and MariaDB through `sqlx::MySqlPool`.
//!
//! DDL commits implicitly there, so a migration that fails (or whose process
//! dies) halfway cannot be rolled back. Every migration therefore follows
//! the dirty protocol: its tracking row is written dirty (together with the
//! state row, after checking that state against the plan) and committed
//! before the first statement runs, and marked clean only after the last
//! one succeeded. A later run that finds a dirty row stops before changing
//! anything and names it; a person repairs the schema and then calls `force`
//! (it is applied now) or `forget` (it is undone now).
//!
//! A run is serialised by `GET_LOCK`, whose name is derived from the
//! database and the tracking table. The lock belongs to the connection, and
//! the connection to the user's pool: whenever its release cannot be
//! confirmed, the connection is closed instead of being handed back, and the
//! server releases the lock with the session.
//!
//! `Settings::schema` names the database that holds the tracking tables
//! (created if missing); migrations run in the connection's own database.

use crate::backend::{Change, Database, Session, State};
use crate::core::split::{split, Dialect};
use crate::report::{AppliedMigration, HistoryEntry};
use crate::sql::{SqlDialect, TrackingIo, TrackingSql};
use crate::{Error, Settings, Sql};
use sqlx::mysql::{MySql, MySqlDatabaseError, MySqlPool};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, Row};
use std::time::{Duration, Instant};

const BACKEND: &str = "MySQL";

impl Database for MySqlPool {
    crate::backend::erased_operations!();

    type Language = Sql;
    type Session = MySqlSession;

    async fn open(&self, settings: &Settings) -> Result<MySqlSession, Error> {
        let conn = self.acquire().await.map_err(connect_error)?;
        Ok(MySqlSession {
            conn,
            sql: TrackingSql::new(SqlDialect::MySql, settings),
            schema: settings.schema_name().map(str::to_string),
            table: settings.table_name().to_string(),
            lock_name: None,
        })
    }
}

pub struct MySqlSession {
    conn: PoolConnection<MySql>,
    sql: TrackingSql,
    /// Unquoted names, for the catalog queries.
    schema: Option<String>,
    table: String,
    /// Set while the lock is held (or its release was not confirmed).
    lock_name: Option<String>,
}

impl Drop for MySqlSession {
    fn drop(&mut self) {
        if self.lock_name.is_some() {
            // Back in the pool this connection would keep the lock for
            // whoever takes it next; closed, the server releases it.
            self.conn.close_on_drop();
        }
    }
}

/// sqlx reports a server that never answered as a pool timeout, which
/// alone does not say where to look.
fn connect_error(err: sqlx::Error) -> Error {
    let message = match err {
        sqlx::Error::PoolTimedOut => "no connection within the pool's acquire timeout: the server is down or \
                                      unreachable, or every connection of the pool is in use"
            .to_string(),
        other => message_of(&other),
    };
    Error::database(BACKEND, "connecting", message)
}

fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |err| Error::database(BACKEND, operation, message_of(&err))
}

/// The server's message with its error number and SQLSTATE.
fn message_of(err: &sqlx::Error) -> String {
    let Some(db) = err.as_database_error() else {
        return err.to_string();
    };
    match db.try_downcast_ref::<MySqlDatabaseError>() {
        Some(my) => match my.code() {
            Some(state) => format!("{} (error {}, SQLSTATE {state})", my.message(), my.number()),
            None => format!("{} (error {})", my.message(), my.number()),
        },
        None => db.message().to_string(),
    }
}

fn failed(change: &Change<'_>, statement: &str, line: usize, err: sqlx::Error) -> Error {
    let script = change.migration.script(change.direction);
    Error::MigrationFailed {
        version: change.migration.version,
        name: change.migration.name.to_string(),
        file: script.file.to_string(),
        direction: change.direction,
        statement: statement.to_string(),
        line,
        message: message_of(&err),
        rolled_back: false,
    }
}

impl MySqlSession {
    /// Step one of the protocol: check the state against the plan, then
    /// mark the migration dirty, in one transaction.
    async fn mark_dirty(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        let state = MySql::fetch_state(&mut tx, sql.select_state_for_update())
            .await
            .map_err(db_err("reading the state"))?;
        if state != Some(change.state_before) {
            return Err(Error::Conflict);
        }
        let marked = async {
            MySql::mark_dirty(&mut tx, sql, change).await?;
            tx.commit().await
        };
        marked.await.map_err(db_err("marking the migration dirty"))
    }

    /// Step three: the migration ran whole; record it clean.
    async fn mark_clean(&mut self, change: &Change<'_>, execution_ms: i64) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        let finish = async {
            MySql::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(db_err("recording the migration"))
    }

    /// The database the tracking tables are in.
    async fn tracking_database(&mut self) -> Result<String, Error> {
        if let Some(schema) = &self.schema {
            return Ok(schema.clone());
        }
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut *self.conn)
            .await
            .map_err(db_err("reading the current database"))?;
        database.ok_or_else(|| Error::InvalidSettings {
            message: "the MySQL connection has no default database: put one in the connection URL \
                      (mysql://host/database) or name one with Settings::schema"
                .to_string(),
        })
    }

    /// Who holds the lock, for the timeout error.
    async fn lock_holder(&mut self, name: &str) -> Option<String> {
        let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(&mut *self.conn)
            .await
            .ok()?;
        let id = id?;
        let row = sqlx::query(
            "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR), CAST(COALESCE(DB, '') AS CHAR), \
             CAST(COMMAND AS CHAR), CAST(TIME AS SIGNED) FROM information_schema.PROCESSLIST WHERE ID = ?",
        )
        .bind(id)
        .fetch_optional(&mut *self.conn)
        .await;
        match row {
            Ok(Some(row)) => {
                let user: String = row.try_get(0).ok()?;
                let host: String = row.try_get(1).ok()?;
                let db: String = row.try_get(2).ok()?;
                let command: String = row.try_get(3).ok()?;
                let seconds: i64 = row.try_get(4).ok()?;
                Some(format!(
                    "connection {id} (user {user}, client {host}, database {db}, {command} for {seconds}s)"
                ))
            }
            Ok(None) => Some(format!("connection {id}")),
            Err(err) => {
                tracing::debug!(error = %err, "could not read the process list");
                Some(format!("connection {id}"))
            }
        }
    }
}

impl Session for MySqlSession {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn read_state(&mut self) -> Result<Option<State>, Error> {
        match MySql::fetch_state(&mut self.conn, self.sql.select_state()).await {
            Ok(state) => Ok(state),
            Err(err) => {
                let exists: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
                )
                .bind(&self.schema)
                .bind(format!("{}_state", self.table))
                .fetch_one(&mut *self.conn)
                .await
                .map_err(db_err("reading the state"))?;
                if exists == 0 {
                    Ok(None)
                } else {
                    Err(Error::database(BACKEND, "reading the state", message_of(&err)))
                }
            }
        }
    }

    async fn prepare(&mut self) -> Result<(), Error> {
        // Nothing to do once the state row exists: no DDL (which would commit
        // implicitly) and no need for CREATE privileges on every run.
        if let Ok(Some(_)) = MySql::fetch_state(&mut self.conn, self.sql.select_state()).await {
            return Ok(());
        }
        let schema_missing = match &self.schema {
            Some(schema) => {
                let found: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
                        .bind(schema)
                        .fetch_one(&mut *self.conn)
                        .await
                        .map_err(db_err("looking for the database"))?;
                found == 0
            }
            None => false,
        };
        let schema = self.sql.create_schema().filter(|_| schema_missing);
        // Each statement commits on its own here; all are idempotent, so an
        // interrupted first run is completed by the next one.
        for statement in schema.into_iter().chain(self.sql.create()) {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *self.conn)
                .await
                .map_err(db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let database = self.tracking_database().await?;
        // Lock names are server-wide and at most 64 characters.
        let digest = crate::core::checksum(&format!("{database}.{}", self.table));
        let name = format!("embedded_migrations.{}", &digest.to_hex()[..24]);
        let got: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, ?) AS SIGNED)")
            .bind(&name)
            // A year is "forever" here, and keeps the value in the range the server takes.
            .bind(timeout.as_secs_f64().min(31_536_000.0))
            .fetch_one(&mut *self.conn)
            .await
            .map_err(db_err("taking the migration lock"))?;
        match got {
            Some(1) => {
                self.lock_name = Some(name);
                Ok(())
            }
            Some(_) => Err(Error::LockTimeout {
                backend: BACKEND,
                waited: started.elapsed(),
                holder: self.lock_holder(&name).await,
            }),
            None => Err(Error::database(
                BACKEND,
                "taking the migration lock",
                "GET_LOCK returned NULL (the wait was interrupted or the server ran out of memory)",
            )),
        }
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        let Some(name) = &self.lock_name else { return Ok(()) };
        let released: Result<Option<i64>, _> = sqlx::query_scalar("SELECT CAST(RELEASE_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(&mut *self.conn)
            .await;
        match released {
            Ok(Some(1)) => self.lock_name = None,
            Ok(_) => {
                tracing::warn!("the migration lock was no longer held by this connection when releasing it");
                self.lock_name = None;
            }
            // Not an error for the caller: `lock_name` stays set, so the
            // connection is closed on drop and the server frees the lock.
            Err(err) => {
                tracing::warn!(error = %err, "releasing the migration lock failed; closing the connection instead")
            }
        }
        Ok(())
    }

    async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        MySql::fetch_applied(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the tracking table"))
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        MySql::fetch_history(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the history table"))
    }

    async fn apply(&mut self, change: &Change<'_>, _timeout: Duration) -> Result<(), Error> {
        self.mark_dirty(change).await?;
        let started = Instant::now();
        let script = change.migration.script(change.direction);
        // Statement by statement, in autocommit: each DDL statement commits
        // anyway, and an error must name its statement.
        for statement in split(script.text, Dialect::MySql) {
            if let Err(err) = sqlx::raw_sql(statement.text).execute(&mut *self.conn).await {
                return Err(failed(change, statement.text, statement.line, err));
            }
        }
        let execution_ms = started.elapsed().as_millis() as i64;
        self.mark_clean(change, execution_ms).await
    }

    async fn record_failure(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        MySql::insert_history(&mut self.conn, &self.sql, entry)
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
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        let write = async {
            MySql::replace_record(&mut tx, sql, version, record, state).await?;
            tx.commit().await
        };
        write.await.map_err(db_err("updating the tracking table"))
    }
}
