//! A run's lock on SQLite: the busy timeout set to the lock timeout (each
//! change then waits for the write lock that long), and an exclusive file
//! lock on `<database file>-migrations.lock` from `lock` to `unlock`.
//!
//! A `no-transaction` file cannot hold the write lock while its statements
//! run, and its dirty mark is committed before them: a process booting then
//! would read the mark of a run still going as a failed one. The file lock
//! tells them apart: the operating system releases it when the process
//! dies, so a dirty mark seen with the file lock free was left by a run that
//! is over. (An in-memory database has no second process.)

use super::errors::{db_err, NAME};
use super::exec;
use crate::file_lock::{Attempt, FileLock};
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use std::time::{Duration, Instant};

/// What a session's lock holds, from `lock` to `unlock` (or the drop).
#[derive(Default)]
pub(super) struct RunLock {
    /// The pool's busy timeout, changed to the lock timeout by `take`.
    restore_busy_timeout: Option<i64>,
    /// The busy timeout `take` set (what is left of the lock timeout).
    pub busy_timeout_ms: Option<i32>,
    /// The run's file lock; closing the file releases it.
    file: Option<std::fs::File>,
    /// The connection's settings as the pool handed it out
    /// (`exec::SESSION_PRAGMAS`), read with the busy timeout.
    pub pragmas: Option<Vec<i64>>,
}

impl RunLock {
    /// Sets the busy timeout to `timeout` and takes the file lock. The
    /// file's name, the pool's busy timeout and the new one in one borrow
    /// of the handle; a wait for another run's file lock then leaves the
    /// write lock what is left of the timeout.
    pub(super) async fn take(&mut self, conn: &mut SqliteConnection, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let millis = busy_millis(timeout);
        let handle = exec::swap_busy_timeout(conn, millis)
            .await
            .map_err(db_err("setting the busy timeout"))?;
        self.restore_busy_timeout = Some(handle.busy_timeout_ms);
        self.pragmas = Some(handle.pragmas);
        self.busy_timeout_ms = Some(millis);
        let (file, waited) = match take_file_lock(handle.file.as_deref(), timeout, started).await {
            Ok(taken) => taken,
            Err(err) => {
                // Not locked: the pool's busy timeout goes back now.
                if let Err(restore) = self.release(conn).await {
                    tracing::warn!(error = %restore, "restoring the busy timeout after the lock timeout");
                }
                return Err(err);
            }
        };
        self.file = file;
        if waited {
            let millis = busy_millis(timeout.saturating_sub(started.elapsed()));
            set_busy_timeout(conn, i64::from(millis))
                .await
                .map_err(db_err("setting the busy timeout"))?;
            self.busy_timeout_ms = Some(millis);
        }
        Ok(())
    }

    /// Releases the file lock and gives the pool's busy timeout back.
    pub(super) async fn release(&mut self, conn: &mut SqliteConnection) -> Result<(), Error> {
        self.file = None;
        if let Some(previous) = self.restore_busy_timeout.take() {
            set_busy_timeout(conn, previous)
                .await
                .map_err(db_err("restoring the busy timeout"))?;
        }
        Ok(())
    }

    /// A run dropped between `lock` and `unlock` (while it waited for the
    /// write lock, say) gives the pool's busy timeout back all the same: the
    /// pool sees the connection as taken until it is back, so whoever
    /// acquires it next gets the pool's own setting. Without a runtime to
    /// do it in, the connection is closed instead.
    ///
    /// A session in doubt (`doubtful`: a change cancelled midway, say) is
    /// put back as the pool handed it out there too (no transaction open,
    /// the settings read by `take`), or else closed.
    pub(super) fn restore_on_drop(&mut self, conn: &mut Option<PoolConnection<Sqlite>>, doubtful: bool) {
        let previous = self.restore_busy_timeout.take();
        let pragmas = self.pragmas.take().filter(|_| doubtful);
        if previous.is_none() && !doubtful {
            return;
        }
        let Some(mut conn) = conn.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            if doubtful {
                let restored = match &pragmas {
                    Some(pragmas) => exec::restore_session(&mut conn, pragmas).await,
                    None => false,
                };
                if !restored {
                    tracing::warn!("a cancelled run's connection could not be restored; closing it");
                    conn.close_on_drop();
                    return;
                }
            }
            if let Some(previous) = previous {
                if let Err(err) = set_busy_timeout(&mut conn, previous).await {
                    tracing::warn!(error = %err, "could not restore the busy timeout; closing the connection");
                    conn.close_on_drop();
                }
            }
        });
    }
}

async fn set_busy_timeout(conn: &mut SqliteConnection, millis: i64) -> Result<(), sqlx::Error> {
    compat::raw_sql(assert_sql_safe!(format!("PRAGMA busy_timeout = {millis}")))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Takes the run's file lock beside the database `file` (file_lock.rs),
/// waiting up to `timeout` (from `started`) for another process's run;
/// `None` for an in-memory database or where it cannot be taken. Also says
/// whether it had to wait.
async fn take_file_lock(
    file: Option<&str>,
    timeout: Duration,
    started: Instant,
) -> Result<(Option<std::fs::File>, bool), Error> {
    let Some(mut lock) = FileLock::open(file, NAME, timeout, started) else {
        return Ok((None, false));
    };
    loop {
        match lock.attempt()? {
            Attempt::Taken(file, waited) => return Ok((file, waited)),
            Attempt::Wait(pause, again) => {
                lock = again;
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// A duration as SQLite's busy timeout, in milliseconds.
fn busy_millis(timeout: Duration) -> i32 {
    timeout.as_millis().min(i32::MAX as u128) as i32
}
