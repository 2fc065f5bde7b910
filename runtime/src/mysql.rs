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

use crate::backend::{BoxFuture, Change, Database, Session};
use crate::core::split::{split, Dialect};
use crate::sql::{lock_released, SqlBackend, SqlDialect, SqlSession, TrackingIo};
use crate::{Error, Settings, Sql};
use sqlx::mysql::{MySql, MySqlDatabaseError, MySqlPool};
use sqlx::{AssertSqlSafe, Row};
use std::time::{Duration, Instant};

impl Database for MySqlPool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        let backend = MySqlBackend {
            schema: settings.schema_name().map(str::to_string),
            table: settings.table_name().to_string(),
            lock_name: None,
        };
        SqlSession::open(self, settings, backend)
    }
}

pub(crate) struct MySqlBackend {
    /// Unquoted names, for the catalog queries.
    schema: Option<String>,
    table: String,
    /// Set while the lock is held (or its release was not confirmed).
    lock_name: Option<String>,
}

type MySqlSession = SqlSession<MySqlBackend>;

/// The database the tracking tables are in.
async fn tracking_database(session: &mut MySqlSession) -> Result<String, Error> {
    if let Some(schema) = &session.backend.schema {
        return Ok(schema.clone());
    }
    let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *session.conn)
        .await
        .map_err(MySqlSession::db_err("reading the current database"))?;
    database.ok_or_else(|| Error::InvalidSettings {
        message: "the MySQL connection has no default database: put one in the connection URL \
                  (mysql://host/database) or name one with Settings::schema"
            .to_string(),
    })
}

/// Who holds the lock, for the timeout error.
async fn lock_holder(session: &mut MySqlSession, name: &str) -> Option<String> {
    let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
        .bind(name)
        .fetch_one(&mut *session.conn)
        .await
        .ok()?;
    let id = id?;
    let row = sqlx::query(
        "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR), CAST(COALESCE(DB, '') AS CHAR), \
         CAST(COMMAND AS CHAR), CAST(TIME AS SIGNED) FROM information_schema.PROCESSLIST WHERE ID = ?",
    )
    .bind(id)
    .fetch_optional(&mut *session.conn)
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

/// The dirty protocol in two round trips (sql.rs, `mysql_mark` and
/// `mysql_run`): the mark, checked against the plan's state; then the
/// mark's commit, every statement each followed by the count of committed
/// statements in the tracking row, and the record of the change. After a
/// failure the count says which statement failed: the ones before it
/// committed, and if none did the mark is taken back.
async fn apply_marked(session: &mut MySqlSession, change: &Change<'_>) -> Result<(), Error> {
    let marked: Vec<Option<i64>> = sqlx::raw_sql(AssertSqlSafe(session.sql.mysql_mark(change)))
        .fetch_all(&mut *session.conn)
        .await
        .and_then(|rows| rows.iter().map(|row| row.try_get(0)).collect())
        .map_err(MySqlSession::db_err("marking the migration dirty"))?;
    if marked.last().copied().flatten() != Some(1) {
        rollback(session).await;
        return Err(Error::Conflict);
    }
    let script = change.migration.script(change.direction);
    let statements = split(script.text, Dialect::MySql);
    let texts: Vec<&str> = statements.iter().map(|statement| statement.text).collect();
    let run = sqlx::raw_sql(AssertSqlSafe(session.sql.mysql_run(change, &texts)))
        .execute(&mut *session.conn)
        .await;
    let Err(err) = run else {
        return Ok(());
    };
    // The transaction of the mark (if its COMMIT failed) or of the record.
    rollback(session).await;
    let version = change.migration.version;
    let progress = sqlx::query(AssertSqlSafe(session.sql.mysql_progress(version)))
        .fetch_optional(&mut *session.conn)
        .await
        .map_err(MySqlSession::db_err("reading how far the migration got"))?;
    let (dirty, committed) = match progress {
        Some(row) => (
            row.try_get::<i64, _>(0).unwrap_or(0) == 1,
            row.try_get::<i64, _>(1).unwrap_or(-1),
        ),
        None => (false, -1),
    };
    if !dirty || committed < 0 {
        // The mark never committed: nothing ran.
        return Err(MySqlSession::db_err("marking the migration dirty")(err));
    }
    let committed = committed as usize;
    match statements.get(committed) {
        Some(statement) => {
            if committed == 0 {
                session.unmark(change).await?;
            }
            let line = MySqlBackend::error_line(&err, statement.text, statement.line);
            let message = MySqlBackend::message(&err);
            Err(change
                .failed_after(statement.text, line, message, false, committed as u32)
                .with_source(err))
        }
        None => Err(Error::database(
            MySqlBackend::NAME,
            "recording the migration",
            format!(
                "every statement of it committed, but recording it failed: {}; the migration is marked dirty: \
                 `force {version}` records it applied",
                MySqlBackend::message(&err)
            ),
        )
        .with_source(err)),
    }
}

/// Ends a transaction the protocol opened with raw SQL, if one is open.
async fn rollback(session: &mut MySqlSession) {
    if let Err(err) = sqlx::raw_sql("ROLLBACK").execute(&mut *session.conn).await {
        tracing::debug!(error = %err, "rolling back after the dirty protocol failed");
    }
}

impl SqlBackend for MySqlBackend {
    type DB = MySql;
    const NAME: &'static str = "MySQL";
    const DIALECT: Dialect = Dialect::MySql;
    const SQL: SqlDialect = SqlDialect::MySql;
    const TRANSACTIONAL_DDL: bool = false;

    /// The server's message with its error number and SQLSTATE.
    fn message(err: &sqlx::Error) -> String {
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

    fn no_such_table(err: &sqlx::Error) -> bool {
        // ER_NO_SUCH_TABLE (1146), whose SQLSTATE sqlx gives as the code.
        err.as_database_error().and_then(|db| db.code()).as_deref() == Some("42S02")
    }

    async fn state_table_exists(session: &mut MySqlSession) -> Result<bool, Error> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        )
        .bind(&session.backend.schema)
        .bind(format!("{}_state", session.backend.table))
        .fetch_one(&mut *session.conn)
        .await
        .map_err(MySqlSession::db_err("reading the state"))?;
        Ok(exists > 0)
    }

    async fn prepare(session: &mut MySqlSession) -> Result<(), Error> {
        // Nothing to do once the state row exists: no DDL (which would commit
        // implicitly) and no need for CREATE privileges on every run.
        if let Ok(Some(_)) = MySql::fetch_state(&mut session.conn, session.sql.select_state()).await {
            // The history table too: one dropped by hand is created again
            // here, not met by the first change that writes to it.
            let history = format!("SELECT 1 FROM {} LIMIT 0", session.sql.history);
            if sqlx::raw_sql(AssertSqlSafe(history))
                .execute(&mut *session.conn)
                .await
                .is_ok()
            {
                return Ok(());
            }
        }
        let schema_missing = match &session.backend.schema {
            Some(schema) => {
                let found: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
                        .bind(schema)
                        .fetch_one(&mut *session.conn)
                        .await
                        .map_err(MySqlSession::db_err("looking for the database"))?;
                found == 0
            }
            None => false,
        };
        let schema = session.sql.create_schema().filter(|_| schema_missing);
        // Each statement commits on its own here; all are idempotent, so an
        // interrupted first run is completed by the next one.
        for statement in schema.into_iter().chain(session.sql.create()) {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *session.conn)
                .await
                .map_err(MySqlSession::db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    async fn lock(session: &mut MySqlSession, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let database = tracking_database(session).await?;
        // Lock names are server-wide and at most 64 characters.
        let digest = crate::core::checksum(&format!("{database}.{}", session.backend.table));
        let name = format!("embedded_migrations.{}", &digest.to_hex()[..24]);
        // Set before the wait: a run dropped while GET_LOCK is in flight
        // (the server may still grant it) must close its connection, not
        // hand it back to the pool holding the lock. (Found by the
        // cancellation test: the next run timed out on a pooled, idle
        // connection that held the lock.)
        session.backend.lock_name = Some(name.clone());
        let got: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, ?) AS SIGNED)")
            .bind(&name)
            // A year is "forever" here, and keeps the value in the range the server takes.
            .bind(timeout.as_secs_f64().min(31_536_000.0))
            .fetch_one(&mut *session.conn)
            .await
            .map_err(MySqlSession::db_err("taking the migration lock"))?;
        if got != Some(1) {
            session.backend.lock_name = None;
        }
        match got {
            Some(1) => Ok(()),
            Some(_) => Err(Error::LockTimeout {
                backend: Self::NAME,
                waited: started.elapsed(),
                holder: lock_holder(session, &name).await,
            }),
            None => Err(Error::database(
                Self::NAME,
                "taking the migration lock",
                "GET_LOCK returned NULL (the wait was interrupted or the server ran out of memory)",
            )),
        }
    }

    async fn unlock(session: &mut MySqlSession) -> Result<(), Error> {
        let Some(name) = &session.backend.lock_name else {
            return Ok(());
        };
        let released = sqlx::query_scalar::<_, Option<i64>>("SELECT CAST(RELEASE_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(&mut *session.conn)
            .await
            .map(|released| released == Some(1));
        if lock_released(released) {
            session.backend.lock_name = None;
        }
        Ok(())
    }

    /// DDL commits implicitly here: every migration follows the dirty
    /// protocol, statement by statement in autocommit.
    async fn apply<'a>(session: &'a mut MySqlSession, change: &'a Change<'a>) -> Result<(), Error> {
        apply_marked(session, change).await
    }

    fn must_close(&self) -> bool {
        self.lock_name.is_some()
    }
}
