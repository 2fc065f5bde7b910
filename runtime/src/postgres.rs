//! PostgreSQL through `sqlx::PgPool`.
//!
//! PostgreSQL DDL is transactional, so each migration runs in one
//! transaction together with its tracking row, the state row and its history
//! row: after a crash it is either applied and recorded, or neither.
//!
//! A run is serialised by a session advisory lock whose key is derived from
//! the tracking table's schema and name. A session lock outlives any
//! transaction but not the connection, and the connection comes from the
//! user's pool: handed back with the lock still held, it would block every
//! later run. So whenever the release cannot be confirmed (it failed, or the
//! operation was cancelled halfway) the connection is closed instead of
//! being returned, and the server drops the lock with it.
//!
//! With `Settings::schema`, the tracking tables live in that schema (created
//! if missing) and every migration runs with the schema first on its
//! `search_path`, so unqualified names in the files land there; the rest of
//! the connection's search path stays behind it, so extensions installed in
//! `public` are still found.

use crate::backend::{Change, Database, Session, State};
use crate::core::split::{split, Dialect};
use crate::report::{AppliedMigration, HistoryEntry};
use crate::sql::{bind_history, bind_record, bind_state, SqlDialect, TrackingIo, TrackingSql};
use crate::{Error, Settings, Sql};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition, PgPool, Postgres};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::time::{Duration, Instant};

const BACKEND: &str = "PostgreSQL";

/// SQLSTATE `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

impl Database for PgPool {
    crate::backend::erased_operations!();

    type Language = Sql;
    type Session = PgSession;

    async fn open(&self, settings: &Settings) -> Result<PgSession, Error> {
        let conn = self.acquire().await.map_err(connect_error)?;
        Ok(PgSession {
            conn,
            sql: TrackingSql::new(SqlDialect::Postgres, settings),
            lock_key: lock_key(settings.schema_name().unwrap_or(""), settings.table_name()),
            locked: false,
            tainted: false,
        })
    }
}

/// The advisory lock key: stable across processes, versions and platforms,
/// and different for two tracking tables of one database.
fn lock_key(schema: &str, table: &str) -> i64 {
    let digest = crate::core::checksum(&format!("embedded_migrations:{schema}.{table}"));
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest.0[..8]);
    i64::from_be_bytes(bytes)
}

pub struct PgSession {
    conn: PoolConnection<Postgres>,
    sql: TrackingSql,
    lock_key: i64,
    /// The advisory lock is held (or its release was not confirmed).
    locked: bool,
    /// A session setting was changed and not yet restored.
    tainted: bool,
}

impl Drop for PgSession {
    fn drop(&mut self) {
        if self.locked || self.tainted {
            // Back in the pool, this connection would keep the lock (or the
            // changed setting) for whoever takes it next; closed, the server
            // releases everything the session held.
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

fn code_of(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// The server's message with its SQLSTATE, detail and hint: what a person
/// needs to fix the statement.
fn message_of(err: &sqlx::Error) -> String {
    let Some(db) = err.as_database_error() else {
        return err.to_string();
    };
    let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() else {
        return db.message().to_string();
    };
    let mut message = format!("{} (SQLSTATE {})", pg.message(), pg.code());
    if let Some(detail) = pg.detail() {
        message.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = pg.hint() {
        message.push_str(&format!("; hint: {hint}"));
    }
    if let Some(context) = pg.r#where() {
        message.push_str(&format!("; context: {}", context.replace('\n', " / ")));
    }
    message
}

/// The file line the server's error position points at, if it gave one.
fn error_line(err: &sqlx::Error, statement: &str, first_line: usize) -> usize {
    let position = err
        .as_database_error()
        .and_then(|db| db.try_downcast_ref::<PgDatabaseError>())
        .and_then(|pg| match pg.position() {
            Some(PgErrorPosition::Original(position)) => Some(position),
            _ => None,
        });
    match position {
        Some(position) => {
            let before: String = statement.chars().take(position.saturating_sub(1)).collect();
            first_line + before.matches('\n').count()
        }
        None => first_line,
    }
}

fn failed(change: &Change<'_>, statement: &str, line: usize, err: sqlx::Error, rolled_back: bool) -> Error {
    let script = change.migration.script(change.direction);
    Error::MigrationFailed {
        version: change.migration.version,
        name: change.migration.name.to_string(),
        file: script.file.to_string(),
        direction: change.direction,
        statement: statement.to_string(),
        line: error_line(&err, statement, line),
        message: message_of(&err),
        rolled_back,
    }
}

impl PgSession {
    /// Fails with `Conflict` unless the state row is the one the plan was
    /// made on; the row stays locked until the transaction ends.
    async fn check_state(conn: &mut PgConnection, sql: &TrackingSql, expected: &State) -> Result<(), Error> {
        let state = Postgres::fetch_state(conn, sql.select_state_for_update())
            .await
            .map_err(db_err("reading the state"))?;
        if state == Some(*expected) {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    /// Tracking writes of a finished change: row, history and, unless a
    /// group writes it once at its end, the state.
    async fn record(
        conn: &mut PgConnection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> Result<(), sqlx::Error> {
        match &change.record {
            Some(row) => Postgres::insert_record(conn, sql, row, execution_ms, false).await?,
            None => {
                sqlx::query(AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if write_state {
            Postgres::write_state(conn, sql, &change.state_after).await?;
        }
        let mut history = change.history.clone();
        history.duration_ms = execution_ms;
        Postgres::insert_history(conn, sql, &history).await
    }

    /// Puts the tracking schema first on the search path, for the
    /// transaction (`local`) or for the session.
    async fn enter_schema(conn: &mut PgConnection, sql: &TrackingSql, local: bool) -> Result<(), Error> {
        let Some(schema) = &sql.schema else { return Ok(()) };
        sqlx::query(
            "SELECT set_config('search_path', CASE WHEN current_setting('search_path') = '' THEN $1 \
             ELSE $1 || ', ' || current_setting('search_path') END, $2)",
        )
        .bind(schema)
        .bind(local)
        .execute(&mut *conn)
        .await
        .map_err(db_err("setting the search path"))?;
        Ok(())
    }

    /// Runs the statements of a change one by one, so that an error names
    /// its statement, and so that a no-transaction file is not turned into
    /// one implicit transaction by a multi-statement query.
    async fn run_statements(conn: &mut PgConnection, change: &Change<'_>, in_transaction: bool) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        for statement in split(script.text, Dialect::Postgres) {
            if let Err(err) = sqlx::raw_sql(statement.text).execute(&mut *conn).await {
                return Err(failed(change, statement.text, statement.line, err, in_transaction));
            }
        }
        Ok(())
    }

    /// The dirty protocol for `migrate:no-transaction` files: mark, run
    /// statement by statement outside a transaction, then record. A failure
    /// or a crash in between leaves the mark for a person to resolve.
    async fn apply_without_transaction(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        {
            let mut tx = Connection::begin(&mut *self.conn)
                .await
                .map_err(db_err("beginning a transaction"))?;
            Self::check_state(&mut tx, sql, &change.state_before).await?;
            let marked = async {
                Postgres::mark_dirty(&mut tx, sql, change).await?;
                tx.commit().await
            };
            marked.await.map_err(db_err("marking the migration dirty"))?;
        }
        let previous_path = match &sql.schema {
            Some(_) => {
                let previous: String = sqlx::query_scalar("SELECT current_setting('search_path')")
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err("reading the search path"))?;
                self.tainted = true;
                Self::enter_schema(&mut self.conn, sql, false).await?;
                Some(previous)
            }
            None => None,
        };
        let started = Instant::now();
        let ran = Self::run_statements(&mut self.conn, change, false).await;
        let execution_ms = started.elapsed().as_millis() as i64;
        if let Some(previous) = previous_path {
            let restored = sqlx::query("SELECT set_config('search_path', $1, false)")
                .bind(previous)
                .execute(&mut *self.conn)
                .await;
            match restored {
                Ok(_) => self.tainted = false,
                Err(err) => {
                    tracing::warn!(error = %err, "could not restore the search path; the connection will be closed")
                }
            }
        }
        ran?;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        let finish = async {
            Postgres::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(db_err("recording the migration"))
    }

    /// Who holds the advisory lock, for the timeout error.
    async fn lock_holder(&mut self) -> Option<String> {
        let key = self.lock_key as u64;
        let row = sqlx::query(
            "SELECT a.pid, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local socket'), \
             COALESCE(a.usename::text, ''), COALESCE(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), \
             COALESCE(a.state, '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2 LIMIT 1",
        )
        .bind((key >> 32) as i64)
        .bind((key & 0xffff_ffff) as i64)
        .fetch_optional(&mut *self.conn)
        .await;
        match row {
            Ok(Some(row)) => {
                let pid: i32 = row.try_get(0).ok()?;
                let application: String = row.try_get(1).ok()?;
                let client: String = row.try_get(2).ok()?;
                let user: String = row.try_get(3).ok()?;
                let since: String = row.try_get(4).ok()?;
                let state: String = row.try_get(5).ok()?;
                let application = if application.is_empty() {
                    "no application_name".to_string()
                } else {
                    format!("application \"{application}\"")
                };
                Some(format!(
                    "PostgreSQL backend pid {pid} ({application}, user {user}, client {client}, connected since {since}, {state})"
                ))
            }
            Ok(None) => None,
            Err(err) => {
                tracing::debug!(error = %err, "could not find the holder of the migration lock");
                None
            }
        }
    }
}

impl Session for PgSession {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn read_state(&mut self) -> Result<Option<State>, Error> {
        match Postgres::fetch_state(&mut self.conn, self.sql.select_state()).await {
            Ok(state) => Ok(state),
            Err(err) => {
                let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(&self.sql.state)
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err("reading the state"))?;
                if exists {
                    Err(Error::database(BACKEND, "reading the state", message_of(&err)))
                } else {
                    Ok(None)
                }
            }
        }
    }

    async fn prepare(&mut self) -> Result<(), Error> {
        // Nothing to do once the tables exist: no DDL, no notices, and no
        // need for CREATE privileges on every run.
        let ready: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&self.sql.state)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(db_err("looking for the tracking tables"))?;
        if ready {
            return Ok(());
        }
        let schema_missing = match &self.sql.schema {
            Some(schema) => sqlx::query_scalar::<_, bool>("SELECT to_regnamespace($1) IS NULL")
                .bind(schema)
                .fetch_one(&mut *self.conn)
                .await
                .map_err(db_err("looking for the schema"))?,
            None => false,
        };
        // One transaction, so that an interrupted first run never leaves a
        // state table without its row.
        let sql = &self.sql;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("creating the tracking tables"))?;
        let create = async {
            let schema = sql.create_schema().filter(|_| schema_missing);
            for statement in schema.into_iter().chain(sql.create()) {
                sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut *tx).await?;
            }
            tx.commit().await
        };
        create.await.map_err(db_err("creating the tracking tables"))
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let millis = timeout.as_millis().min(i32::MAX as u128);
        let acquired = if millis == 0 {
            // lock_timeout 0 would mean "wait forever": try once instead.
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(self.lock_key)
                .fetch_one(&mut *self.conn)
                .await
                .map_err(db_err("taking the migration lock"))?
        } else {
            // The server waits (in queue order, without polling) until
            // `lock_timeout`; the session's own value is put back at once so
            // that the migrations run with the user's setting.
            let previous: String = sqlx::query_scalar("SELECT current_setting('lock_timeout')")
                .fetch_one(&mut *self.conn)
                .await
                .map_err(db_err("reading the lock timeout"))?;
            self.tainted = true;
            sqlx::query("SELECT set_config('lock_timeout', $1, false)")
                .bind(format!("{millis}ms"))
                .execute(&mut *self.conn)
                .await
                .map_err(db_err("setting the lock timeout"))?;
            let waited = sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(self.lock_key)
                .execute(&mut *self.conn)
                .await;
            let acquired = match waited {
                Ok(_) => {
                    self.locked = true;
                    true
                }
                Err(err) if code_of(&err).as_deref() == Some(LOCK_NOT_AVAILABLE) => false,
                Err(err) => return Err(Error::database(BACKEND, "taking the migration lock", message_of(&err))),
            };
            sqlx::query("SELECT set_config('lock_timeout', $1, false)")
                .bind(previous)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err("restoring the lock timeout"))?;
            self.tainted = false;
            acquired
        };
        if acquired {
            self.locked = true;
            return Ok(());
        }
        Err(Error::LockTimeout {
            backend: BACKEND,
            waited: started.elapsed(),
            holder: self.lock_holder().await,
        })
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if !self.locked {
            return Ok(());
        }
        let released = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(self.lock_key)
            .fetch_one(&mut *self.conn)
            .await;
        match released {
            Ok(true) => self.locked = false,
            Ok(false) => {
                tracing::warn!("the migration lock was no longer held when releasing it");
                self.locked = false;
            }
            // Not an error for the caller: `locked` stays set, so the
            // connection is closed on drop and the server frees the lock.
            Err(err) => {
                tracing::warn!(error = %err, "releasing the migration lock failed; closing the connection instead")
            }
        }
        Ok(())
    }

    async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        Postgres::fetch_applied(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the tracking table"))
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        Postgres::fetch_history(&mut self.conn, &self.sql)
            .await
            .map_err(db_err("reading the history table"))
    }

    async fn apply(&mut self, change: &Change<'_>, _timeout: Duration) -> Result<(), Error> {
        if change.migration.script(change.direction).no_transaction {
            return self.apply_without_transaction(change).await;
        }
        let sql = &self.sql;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        Self::enter_schema(&mut tx, sql, true).await?;
        let started = Instant::now();
        // On error the transaction is dropped, which rolls it back.
        Self::run_statements(&mut tx, change, true).await?;
        let execution_ms = started.elapsed().as_millis() as i64;
        // The state is checked at the end, in the same statement as the
        // tracking writes: one round trip instead of four. Checking late is
        // safe here because the advisory lock keeps other runners out, and a
        // mismatch still rolls the whole migration back.
        let mut query = sqlx::query(AssertSqlSafe(sql.record_change_checked(change.record.is_some())));
        query = match &change.record {
            Some(row) => bind_record(query, row, execution_ms, false),
            None => query.bind(change.migration.version),
        };
        query = bind_history(query, &change.history, execution_ms);
        query = bind_state(bind_state(query, &change.state_after), &change.state_before);
        let updated = query
            .execute(&mut *tx)
            .await
            .map_err(db_err("recording the migration"))?;
        if updated.rows_affected() != 1 {
            return Err(Error::Conflict);
        }
        tx.commit().await.map_err(db_err("committing the migration"))
    }

    async fn apply_group(&mut self, changes: &[Change<'_>], _timeout: Duration) -> Result<(), Error> {
        let Some(first) = changes.first() else { return Ok(()) };
        let sql = &self.sql;
        let mut tx = Connection::begin(&mut *self.conn)
            .await
            .map_err(db_err("beginning a transaction"))?;
        Self::check_state(&mut tx, sql, &first.state_before).await?;
        Self::enter_schema(&mut tx, sql, true).await?;
        for change in changes {
            let started = Instant::now();
            Self::run_statements(&mut tx, change, true).await?;
            let execution_ms = started.elapsed().as_millis() as i64;
            Self::record(&mut tx, sql, change, execution_ms, false)
                .await
                .map_err(db_err("recording the migration"))?;
        }
        let last = changes.last().unwrap_or(first);
        Postgres::write_state(&mut tx, sql, &last.state_after)
            .await
            .map_err(db_err("recording the migrations"))?;
        tx.commit().await.map_err(db_err("committing the migrations"))
    }

    async fn record_failure(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        Postgres::insert_history(&mut self.conn, &self.sql, entry)
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
            Postgres::replace_record(&mut tx, sql, version, record, state).await?;
            tx.commit().await
        };
        write.await.map_err(db_err("updating the tracking table"))
    }
}
