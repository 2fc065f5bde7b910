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
use crate::sql::{join_statements, SqlBackend, SqlDialect, SqlSession};
use crate::{Error, Settings, Sql};
use exec::TxFailure;
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
                busy_timeout_ms: None,
                run_lock: None,
            },
        )
    }
}

pub(crate) struct SqliteBackend {
    /// The pool's busy timeout, changed to the lock timeout by `lock`.
    restore_busy_timeout: Option<i64>,
    /// The busy timeout `lock` set (what is left of the lock timeout).
    busy_timeout_ms: Option<i32>,
    /// The run's file lock, held from `lock` to `unlock` (or the drop).
    run_lock: Option<std::fs::File>,
}

/// How often a run waiting for another process's file lock tries again.
const FILE_LOCK_POLL: Duration = Duration::from_millis(20);

/// Takes the run's file lock beside the database `file`, waiting up to
/// `timeout` (from `started`) for another process's run; `None` for an
/// in-memory database, or where the lock file cannot be opened (a read-only
/// directory: the run then goes on with SQLite's write lock alone, as before
/// the file lock). Also says whether it had to wait.
async fn take_file_lock(
    file: Option<&str>,
    timeout: Duration,
    started: Instant,
) -> Result<(Option<std::fs::File>, bool), Error> {
    let Some(path) = file else {
        return Ok((None, false));
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
            return Ok((None, false));
        }
    };
    let mut waited = false;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok((Some(lock), waited)),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                waited = true;
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
                return Ok((None, waited));
            }
        }
    }
}

/// A duration as SQLite's busy timeout, in milliseconds.
fn busy_millis(timeout: Duration) -> i32 {
    timeout.as_millis().min(i32::MAX as u128) as i32
}

type SqliteSession = SqlSession<SqliteBackend>;

/// `work` in a `BEGIN IMMEDIATE` transaction: in one borrow of the handle
/// when the write lock is free (the usual case), otherwise in sqlx's
/// transaction, whose wait for the lock (the busy timeout `lock` set) can
/// be cancelled, with the work in a borrow of its own.
async fn in_write_transaction<W>(
    conn: &mut SqliteConnection,
    busy_timeout_ms: Option<i32>,
    work: W,
) -> Result<(), TxFailure>
where
    W: FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error>,
{
    let work = match busy_timeout_ms {
        Some(busy) => match exec::write_transaction_now(conn, busy, work).await {
            Ok(done) => return done,
            Err(busy_work) => busy_work,
        },
        None => work,
    };
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(TxFailure::Begin)?;
    match exec::borrowed(&mut tx, work).await {
        Ok(()) => tx.commit().await.map_err(TxFailure::Commit),
        Err(err) => {
            if let Err(rollback) = tx.rollback().await {
                // SQLite rolls a transaction back by itself on some errors
                // (disk full, I/O); anything else leaves sqlx to roll back on drop.
                tracing::debug!(error = %rollback, "rolling back the failed batch");
            }
            Err(TxFailure::Work(err))
        }
    }
}

/// A `BEGIN IMMEDIATE` that failed after `started`: busy once the busy
/// timeout ran out is the lock timeout, anything else a database error.
fn begin_failed(err: sqlx::Error, started: Instant) -> Error {
    if is_busy(&err) {
        Error::LockTimeout {
            backend: SqliteBackend::NAME,
            waited: started.elapsed(),
            holder: None,
        }
    } else {
        Error::database(SqliteBackend::NAME, "beginning a transaction", &err).with_source(err)
    }
}

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

    fn no_such_table(err: &sqlx::Error) -> bool {
        // SQLite's code for it is the generic SQLITE_ERROR: its message says.
        err.as_database_error()
            .is_some_and(|db| db.message().starts_with("no such table:"))
    }

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
        conn.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|err| begin_failed(err, started))
    }

    /// Creating the tracking tables is the first write, so on a database
    /// whose write lock another connection holds it is what waits (the busy
    /// timeout `lock` set): running out of it is the lock timeout, not a
    /// database failure. The tables are created in one transaction: one
    /// commit (one journal sync) on a new database, not one per table.
    async fn prepare(session: &mut SqliteSession) -> Result<(), Error> {
        let started = Instant::now();
        let create = exec::c_text(join_statements(session.sql.create()))
            .map_err(SqliteSession::db_err("creating the tracking tables"))?;
        match in_write_transaction(&mut session.conn, session.backend.busy_timeout_ms, |db| {
            exec::exec(db, &create)
        })
        .await
        {
            Ok(()) => Ok(()),
            Err(TxFailure::Begin(err)) => Err(begin_failed(err, started)),
            Err(TxFailure::Work(err) | TxFailure::Commit(err)) if is_busy(&err) => Err(Error::LockTimeout {
                backend: Self::NAME,
                waited: started.elapsed(),
                holder: None,
            }),
            Err(TxFailure::Work(err) | TxFailure::Commit(err)) => {
                Err(SqliteSession::db_err("creating the tracking tables")(err))
            }
        }
    }

    /// Each change takes the database's write lock (see the module docs),
    /// and its wait for it is the busy timeout, set here to the lock
    /// timeout; the pool's own is given back in `unlock`. The file's name,
    /// the pool's busy timeout and the new one in one borrow of the handle;
    /// a wait for another run's file lock then leaves the write lock what
    /// is left of the timeout.
    async fn lock(session: &mut SqliteSession, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let millis = busy_millis(timeout);
        let handle = exec::swap_busy_timeout(&mut session.conn, millis)
            .await
            .map_err(SqliteSession::db_err("setting the busy timeout"))?;
        session.backend.restore_busy_timeout = Some(handle.busy_timeout_ms);
        session.backend.busy_timeout_ms = Some(millis);
        let (run_lock, waited) = match take_file_lock(handle.file.as_deref(), timeout, started).await {
            Ok(taken) => taken,
            Err(err) => {
                // Not locked: the pool's busy timeout goes back now.
                if let Err(restore) = Self::unlock(session).await {
                    tracing::warn!(error = %restore, "restoring the busy timeout after the lock timeout");
                }
                return Err(err);
            }
        };
        session.backend.run_lock = run_lock;
        if waited {
            let millis = busy_millis(timeout.saturating_sub(started.elapsed()));
            sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {millis}")))
                .execute(&mut *session.conn)
                .await
                .map_err(SqliteSession::db_err("setting the busy timeout"))?;
            session.backend.busy_timeout_ms = Some(millis);
        }
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

    /// The batch in a `BEGIN IMMEDIATE` transaction (a busy database is a
    /// lock timeout), handed to SQLite and timed by the client, all with
    /// the handle borrowed once (sqlite_exec.rs).
    async fn run_in_transaction<'a>(
        session: &'a mut SqliteSession,
        changes: &'a [Change<'a>],
    ) -> Result<Result<(), sqlx::Error>, Error> {
        let committed = if changes.len() == 1 {
            "committing the migration"
        } else {
            "committing the migrations"
        };
        let started = Instant::now();
        let work = match exec::timed_batch(&session.sql, changes) {
            Ok(work) => work,
            Err(err) => return Ok(Err(err)),
        };
        match in_write_transaction(&mut session.conn, session.backend.busy_timeout_ms, work).await {
            Ok(()) => Ok(Ok(())),
            Err(TxFailure::Begin(err)) => Err(begin_failed(err, started)),
            Err(TxFailure::Work(err)) => Ok(Err(err)),
            Err(TxFailure::Commit(err)) => Err(SqliteSession::db_err(committed)(err)),
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
