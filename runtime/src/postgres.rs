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

use crate::backend::{BoxFuture, Change, Database, Session};
use crate::core::split::Dialect;
use crate::sql::{lock_released, SqlBackend, SqlDialect, SqlSession, TrackingSql};
use crate::{Error, Settings, Sql};
use sqlx::postgres::{PgConnection, PgDatabaseError, PgErrorPosition, PgPool, Postgres};
use sqlx::{AssertSqlSafe, Connection, Row};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// SQLSTATE `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

impl Database for PgPool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        let backend = PgBackend {
            schema: settings.schema_name().map(str::to_string),
            table: settings.table_name().to_string(),
            lock_key: 0,
            locked: false,
            tainted: false,
            prepared: None,
        };
        SqlSession::open(self, settings, backend)
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

pub(crate) struct PgBackend {
    /// The configured schema and table, unquoted.
    schema: Option<String>,
    table: String,
    /// Set by `lock`, from the schema the tables resolve to.
    lock_key: i64,
    /// The advisory lock is held (or its release was not confirmed).
    locked: bool,
    /// A session setting was changed and not yet restored.
    tainted: bool,
    /// The name of the tracking statement prepared for this run
    /// (`finish_statement`), deallocated with the lock's release.
    prepared: Option<String>,
}

/// Names the statements this process prepares, so that one left behind on
/// a connection (a run cancelled between PREPARE and the unlock, whose
/// connection is closed anyway) is never met by a PREPARE of the same name.
static PREPARED: AtomicU64 = AtomicU64::new(0);

type PgSession = SqlSession<PgBackend>;

fn code_of(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// Puts the tracking schema first on the search path, for the transaction
/// (`local`) or for the session.
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
    .map_err(PgSession::db_err("setting the search path"))?;
    Ok(())
}

/// A `migrate:no-transaction` file: the dirty protocol, with the tracking
/// schema first on the session's search path while its statements run (the
/// tracking writes name their tables in full).
async fn apply_without_transaction(session: &mut PgSession, change: &Change<'_>) -> Result<(), Error> {
    let previous_path = match &session.sql.schema {
        Some(_) => {
            let previous: String = sqlx::query_scalar("SELECT current_setting('search_path')")
                .fetch_one(&mut *session.conn)
                .await
                .map_err(PgSession::db_err("reading the search path"))?;
            session.backend.tainted = true;
            enter_schema(&mut session.conn, &session.sql, false).await?;
            Some(previous)
        }
        None => None,
    };
    let applied = session.apply_marked(change).await;
    if let Some(previous) = previous_path {
        let restored = sqlx::query("SELECT set_config('search_path', $1, false)")
            .bind(previous)
            .execute(&mut *session.conn)
            .await;
        match restored {
            Ok(_) => session.backend.tainted = false,
            Err(err) => {
                tracing::warn!(error = %err, "could not restore the search path; the connection will be closed")
            }
        }
    }
    applied
}

/// The lock key of the tables the session will use. Without a configured
/// schema they are in the connection's current schema; a configured schema
/// that is that same schema names the same tables, so it takes the same key
/// (the key of no schema, as every release before this one took it for
/// the default settings). Any other schema keeps a key of its own.
async fn resolved_lock_key(session: &mut PgSession) -> Result<i64, Error> {
    let schema = match &session.backend.schema {
        None => "",
        Some(schema) => {
            let current: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
                .fetch_one(&mut *session.conn)
                .await
                .map_err(PgSession::db_err("reading the current schema"))?;
            if current.as_deref() == Some(schema.as_str()) {
                ""
            } else {
                schema.as_str()
            }
        }
    };
    Ok(lock_key(schema, &session.backend.table))
}

/// Who holds the advisory lock, for the timeout error.
async fn lock_holder(session: &mut PgSession) -> Option<String> {
    let key = session.backend.lock_key as u64;
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
    .fetch_optional(&mut *session.conn)
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

/// Waits for the advisory lock until `millis` through the server's own
/// `lock_timeout` (in queue order, without polling); the session's own
/// value is put back at once, so that the migrations run with the user's
/// setting. False when the wait timed out.
async fn wait_for_lock(session: &mut PgSession, millis: u128) -> Result<bool, Error> {
    let previous: String = sqlx::query_scalar("SELECT current_setting('lock_timeout')")
        .fetch_one(&mut *session.conn)
        .await
        .map_err(PgSession::db_err("reading the lock timeout"))?;
    session.backend.tainted = true;
    sqlx::query("SELECT set_config('lock_timeout', $1, false)")
        .bind(format!("{millis}ms"))
        .execute(&mut *session.conn)
        .await
        .map_err(PgSession::db_err("setting the lock timeout"))?;
    let waited = sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(session.backend.lock_key)
        .execute(&mut *session.conn)
        .await;
    let acquired = match waited {
        Ok(_) => {
            session.backend.locked = true;
            true
        }
        Err(err) if code_of(&err).as_deref() == Some(LOCK_NOT_AVAILABLE) => false,
        Err(err) => return Err(PgSession::db_err("taking the migration lock")(err)),
    };
    sqlx::query("SELECT set_config('lock_timeout', $1, false)")
        .bind(previous)
        .execute(&mut *session.conn)
        .await
        .map_err(PgSession::db_err("restoring the lock timeout"))?;
    session.backend.tainted = false;
    Ok(acquired)
}

impl SqlBackend for PgBackend {
    type DB = Postgres;
    const NAME: &'static str = "PostgreSQL";
    const DIALECT: Dialect = Dialect::Postgres;
    const SQL: SqlDialect = SqlDialect::Postgres;
    const TRANSACTIONAL_DDL: bool = true;

    /// The server's message with its SQLSTATE, detail and hint: what a
    /// person needs to fix the statement.
    fn message(err: &sqlx::Error) -> String {
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

    fn no_such_table(err: &sqlx::Error) -> bool {
        // undefined_table
        err.as_database_error().and_then(|db| db.code()).as_deref() == Some("42P01")
    }

    async fn state_table_exists(session: &mut PgSession) -> Result<bool, Error> {
        sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&session.sql.state)
            .fetch_one(&mut *session.conn)
            .await
            .map_err(PgSession::db_err("reading the state"))
    }

    async fn enter_transaction(conn: &mut PgConnection, sql: &TrackingSql) -> Result<(), Error> {
        enter_schema(conn, sql, true).await
    }

    fn enter_transaction_literal(sql: &TrackingSql) -> Option<String> {
        sql.enter_schema_literal()
    }

    async fn prepare(session: &mut PgSession) -> Result<(), Error> {
        // Nothing to do once the tables exist: no DDL, no notices, and no
        // need for CREATE privileges on every run. All three are looked
        // for: one dropped by hand (history) is created again here, not
        // met by the first change that writes to it.
        let ready: bool = sqlx::query_scalar(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL",
        )
        .bind(&session.sql.table)
        .bind(&session.sql.history)
        .bind(&session.sql.state)
        .fetch_one(&mut *session.conn)
        .await
        .map_err(PgSession::db_err("looking for the tracking tables"))?;
        if ready {
            return Ok(());
        }
        let schema_missing = match &session.sql.schema {
            Some(schema) => sqlx::query_scalar::<_, bool>("SELECT to_regnamespace($1) IS NULL")
                .bind(schema)
                .fetch_one(&mut *session.conn)
                .await
                .map_err(PgSession::db_err("looking for the schema"))?,
            None => false,
        };
        // One transaction, so that an interrupted first run never leaves a
        // state table without its row.
        let sql = &session.sql;
        let mut tx = Connection::begin(&mut *session.conn)
            .await
            .map_err(PgSession::db_err("creating the tracking tables"))?;
        let create = async {
            let schema = sql.create_schema().filter(|_| schema_missing);
            for statement in schema.into_iter().chain(sql.create()) {
                sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut *tx).await?;
            }
            tx.commit().await
        };
        create.await.map_err(PgSession::db_err("creating the tracking tables"))
    }

    async fn lock(session: &mut PgSession, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        session.backend.lock_key = resolved_lock_key(session).await?;
        let millis = timeout.as_millis().min(i32::MAX as u128);
        // Set before the wait: a run dropped while the lock request is in
        // flight (the server may still grant it) must close its
        // connection, not hand it back to the pool holding the lock.
        session.backend.locked = true;
        let acquired = if millis == 0 {
            // lock_timeout 0 would mean "wait forever": try once instead.
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(session.backend.lock_key)
                .fetch_one(&mut *session.conn)
                .await
                .map_err(PgSession::db_err("taking the migration lock"))?
        } else {
            wait_for_lock(session, millis).await?
        };
        session.backend.locked = acquired;
        if acquired {
            return Ok(());
        }
        Err(Error::LockTimeout {
            backend: Self::NAME,
            waited: started.elapsed(),
            holder: lock_holder(session).await,
        })
    }

    async fn unlock(session: &mut PgSession) -> Result<(), Error> {
        if !session.backend.locked {
            return Ok(());
        }
        let released = match session.backend.prepared.take() {
            // One trip for both: a failed DEALLOCATE skips the unlock, and
            // the connection is then closed rather than pooled.
            Some(name) => sqlx::raw_sql(AssertSqlSafe(format!(
                "DEALLOCATE {name}; SELECT pg_advisory_unlock({})",
                session.backend.lock_key
            )))
            .fetch_one(&mut *session.conn)
            .await
            .and_then(|row| row.try_get::<bool, _>(0)),
            None => {
                sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
                    .bind(session.backend.lock_key)
                    .fetch_one(&mut *session.conn)
                    .await
            }
        };
        session.backend.locked = !lock_released(released);
        Ok(())
    }

    /// A one-migration batch ends with the `EXECUTE` of a tracking statement
    /// prepared on the first such batch of the run: one more trip per run,
    /// no planning per migration.
    async fn finish_statement<'a>(session: &'a mut PgSession, changes: &'a [Change<'a>]) -> Result<String, Error> {
        if session.backend.prepared.is_none() && TrackingSql::one_applied(changes).is_some() {
            let name = format!("_em_finish_{}", PREPARED.fetch_add(1, Ordering::Relaxed));
            sqlx::raw_sql(AssertSqlSafe(session.sql.prepare_finish_one(&name)))
                .execute(&mut *session.conn)
                .await
                .map_err(PgSession::db_err("preparing the tracking statement"))?;
            session.backend.prepared = Some(name);
        }
        let prepared = session.backend.prepared.as_deref();
        Ok(prepared
            .and_then(|name| session.sql.execute_finish_one(name, changes))
            .unwrap_or_else(|| session.sql.finish_batch_literal(changes)))
    }

    async fn apply<'a>(session: &'a mut PgSession, change: &'a Change<'a>) -> Result<(), Error> {
        if change.migration.script(change.direction).no_transaction {
            apply_without_transaction(session, change).await
        } else {
            session.apply_batched(std::slice::from_ref(change)).await
        }
    }

    fn must_close(&self) -> bool {
        self.locked || self.tainted || self.prepared.is_some()
    }
}
