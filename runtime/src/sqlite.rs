//! SQLite through `sqlx::SqlitePool`: what differs from the other sqlx
//! databases (the session itself is `sql::SqlSession`).
//!
//! SQLite has no advisory lock, but its write lock is database-wide: each
//! migration runs in a `BEGIN IMMEDIATE` transaction that first re-reads the
//! state row. A second process booting at the same moment waits for the
//! write lock, sees that the state moved, and plans again; so each migration
//! is applied once without a lock row that a crash could leave behind.
//!
//! A `no-transaction` file cannot hold the write lock while its statements
//! run, and its dirty mark is committed before them: a process booting then
//! would read the mark of a run still going as a failed one. So a run of a
//! database file also holds an exclusive file lock on `<file>-migrations.lock`
//! beside it, from `lock` to `unlock`: the operating system releases it when
//! the process dies, so a dirty mark seen with the file lock free was left
//! by a run that is over. (An in-memory database has no second process.)

#[path = "sqlite_exec.rs"]
mod exec;

use crate::backend::{BoxFuture, Change, Database, Session};
use crate::core::split::Dialect;
use crate::sql::{SqlBackend, SqlDialect, SqlSession};
use crate::{Error, Settings, Sql};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use sqlx::{AssertSqlSafe, Connection};
use std::time::{Duration, Instant};

impl Database for SqlitePool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        SqlSession::open(
            self,
            settings,
            SqliteBackend {
                restore_busy_timeout: None,
                run_lock: None,
            },
        )
    }
}

pub(crate) struct SqliteBackend {
    /// The pool's busy timeout, changed to the lock timeout by `lock`.
    restore_busy_timeout: Option<i64>,
    /// The run's file lock, held from `lock` to `unlock` (or the drop).
    run_lock: Option<std::fs::File>,
}

/// How often a run waiting for another process's file lock tries again.
const FILE_LOCK_POLL: Duration = Duration::from_millis(20);

/// Takes the run's file lock beside the database file, waiting up to
/// `timeout` for another process's run; `None` for an in-memory database,
/// or where the lock file cannot be opened (a read-only directory: the run
/// then goes on with SQLite's write lock alone, as before the file lock).
async fn take_file_lock(
    session: &mut SqliteSession,
    timeout: Duration,
    started: Instant,
) -> Result<Option<std::fs::File>, Error> {
    let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_optional(&mut *session.conn)
        .await
        .map_err(SqliteSession::db_err("reading the database file name"))?;
    let Some(path) = file.filter(|path| !path.is_empty()) else {
        return Ok(None);
    };
    let lock_path = format!("{path}-migrations.lock");
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
    {
        Ok(lock) => lock,
        Err(err) => {
            tracing::debug!(error = %err, path = %lock_path, "no run file lock: it cannot be opened");
            return Ok(None);
        }
    };
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(Some(lock)),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                tokio::time::sleep(FILE_LOCK_POLL.min(timeout.saturating_sub(started.elapsed()))).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::LockTimeout {
                    backend: SqliteBackend::NAME,
                    waited: started.elapsed(),
                    holder: Some(format!("another process running migrations (it holds `{lock_path}`)")),
                });
            }
            Err(std::fs::TryLockError::Error(err)) => {
                tracing::debug!(error = %err, path = %lock_path, "no run file lock: locking failed");
                return Ok(None);
            }
        }
    }
}

type SqliteSession = SqlSession<SqliteBackend>;

fn is_busy(err: &sqlx::Error) -> bool {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    err.as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

impl SqlBackend for SqliteBackend {
    type DB = Sqlite;
    const NAME: &'static str = "SQLite";
    const DIALECT: Dialect = Dialect::Sqlite;
    const SQL: SqlDialect = SqlDialect::Sqlite;
    const TRANSACTIONAL_DDL: bool = true;

    async fn state_table_exists(session: &mut SqliteSession) -> Result<bool, Error> {
        let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(format!("{}_state", session.sql.table.trim_matches('"')))
            .fetch_one(&mut *session.conn)
            .await
            .map_err(SqliteSession::db_err("reading the state"))?;
        Ok(exists > 0)
    }

    /// Takes SQLite's write lock. The wait is SQLite's own busy handler,
    /// which `lock` set to the lock timeout for this session.
    async fn begin(conn: &mut SqliteConnection) -> Result<sqlx::Transaction<'_, Sqlite>, Error> {
        let started = Instant::now();
        conn.begin_with("BEGIN IMMEDIATE").await.map_err(|err| {
            if is_busy(&err) {
                Error::LockTimeout {
                    backend: Self::NAME,
                    waited: started.elapsed(),
                    holder: None,
                }
            } else {
                Error::database(Self::NAME, "beginning a transaction", &err).with_source(err)
            }
        })
    }

    /// Creating the tracking tables is the first write, so on a database
    /// whose write lock another connection holds it is what waits (the busy
    /// timeout `lock` set): running out of it is the lock timeout, not a
    /// database failure. The tables are created in one transaction: one
    /// commit (one journal sync) on a new database, not one per table.
    async fn prepare(session: &mut SqliteSession) -> Result<(), Error> {
        let started = Instant::now();
        let busy_or = |operation: &'static str| {
            move |err: sqlx::Error| {
                if is_busy(&err) {
                    Error::LockTimeout {
                        backend: Self::NAME,
                        waited: started.elapsed(),
                        holder: None,
                    }
                } else {
                    SqliteSession::db_err(operation)(err)
                }
            }
        };
        let mut tx = Self::begin(&mut session.conn).await?;
        for statement in session.sql.create() {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await
                .map_err(busy_or("creating the tracking tables"))?;
        }
        tx.commit().await.map_err(busy_or("creating the tracking tables"))
    }

    async fn lock(session: &mut SqliteSession, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        session.backend.run_lock = take_file_lock(session, timeout, started).await?;
        // The wait for the write lock gets what is left of the timeout.
        let timeout = timeout.saturating_sub(started.elapsed());
        // Each change takes the database's write lock (see the module docs);
        // here the wait for it is set to the lock timeout, and the pool's own
        // busy timeout is given back in `unlock`.
        let previous: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *session.conn)
            .await
            .map_err(SqliteSession::db_err("reading the busy timeout"))?;
        session.backend.restore_busy_timeout = Some(previous);
        let millis = timeout.as_millis().min(i32::MAX as u128);
        sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {millis}")))
            .execute(&mut *session.conn)
            .await
            .map_err(SqliteSession::db_err("setting the busy timeout"))?;
        Ok(())
    }

    async fn unlock(session: &mut SqliteSession) -> Result<(), Error> {
        // Closing the file releases its lock.
        session.backend.run_lock = None;
        if let Some(previous) = session.backend.restore_busy_timeout.take() {
            sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {previous}")))
                .execute(&mut *session.conn)
                .await
                .map_err(SqliteSession::db_err("restoring the busy timeout"))?;
        }
        Ok(())
    }

    /// A run dropped between `lock` and `unlock` (while it waited for the
    /// write lock, say) gives the pool's busy timeout back all the same: the
    /// pool sees the connection as taken until it is back, so whoever
    /// acquires it next gets the pool's own setting. Without a runtime to
    /// do it in, the connection is closed instead.
    fn on_drop(&mut self, conn: &mut Option<PoolConnection<Sqlite>>) {
        let Some(previous) = self.restore_busy_timeout.take() else {
            return;
        };
        let Some(mut conn) = conn.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            let restore = format!("PRAGMA busy_timeout = {previous}");
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(restore)).execute(&mut *conn).await {
                tracing::warn!(error = %err, "could not restore the busy timeout; closing the connection");
                conn.close_on_drop();
            }
        });
    }

    /// The batch in sqlx's `BEGIN IMMEDIATE` (a busy database is a lock
    /// timeout), handed to SQLite and timed by the client (sqlite_exec.rs).
    async fn run_in_transaction<'a>(
        session: &'a mut SqliteSession,
        changes: &'a [Change<'a>],
    ) -> Result<Result<(), sqlx::Error>, Error> {
        let committed = if changes.len() == 1 {
            "committing the migration"
        } else {
            "committing the migrations"
        };
        let mut tx = Self::begin(&mut session.conn).await?;
        match exec::execute_timed(&mut tx, &session.sql, changes).await {
            Ok(()) => tx.commit().await.map(Ok).map_err(SqliteSession::db_err(committed)),
            Err(err) => {
                if let Err(rollback) = tx.rollback().await {
                    // SQLite rolls a transaction back by itself on some errors
                    // (disk full, I/O); anything else leaves sqlx to roll back on drop.
                    tracing::debug!(error = %rollback, "rolling back the failed batch");
                }
                Ok(Err(err))
            }
        }
    }

    async fn apply<'a>(session: &'a mut SqliteSession, change: &'a Change<'a>) -> Result<(), Error> {
        if change.migration.script(change.direction).no_transaction {
            session.apply_marked(change).await
        } else {
            session.apply_batched(std::slice::from_ref(change)).await
        }
    }
}
