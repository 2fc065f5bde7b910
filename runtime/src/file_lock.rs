//! The run's file lock beside a SQLite database file,
//! `<file>-migrations.lock`, taken by the sqlx backend (sqlite/lock.rs) and
//! the rusqlite driver (driver/rusqlite.rs) alike, so that a program on one
//! and a program on the other exclude each other on one file. The
//! operating system releases it when its process dies: a dirty mark seen
//! with the lock free was left by a run that is over.
//!
//! Each caller waits between attempts in its own way (a timer on sqlx's
//! runtime, the thread on rusqlite's), so this gives one attempt at a time.

use crate::Error;
use std::fs::{File, TryLockError};
use std::time::{Duration, Instant};

/// How often a run waiting for another process's file lock tries again.
const POLL: Duration = Duration::from_millis(20);

/// What an attempt at the lock says to do next.
pub(crate) enum Attempt {
    /// Held (or, where the file cannot be locked, none: the run goes on with
    /// SQLite's write lock alone), and whether it had to wait.
    Taken(Option<File>, bool),
    /// Another process holds it: try again after this long.
    Wait(Duration, FileLock),
}

/// A lock file opened, not locked yet, with the time its run may wait.
pub(crate) struct FileLock {
    file: File,
    path: String,
    backend: &'static str,
    timeout: Duration,
    started: Instant,
    waited: bool,
}

impl FileLock {
    /// The lock file of the database `file`, opened; `None` for an
    /// in-memory database, or where the lock file cannot be opened (a
    /// read-only directory: the run goes on with SQLite's write lock alone).
    pub(crate) fn open(
        file: Option<&str>,
        backend: &'static str,
        timeout: Duration,
        started: Instant,
    ) -> Option<FileLock> {
        let path = format!("{}-migrations.lock", file?);
        match std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => Some(FileLock {
                file,
                path,
                backend,
                timeout,
                started,
                waited: false,
            }),
            Err(err) => {
                tracing::debug!(error = %err, path = %path, "no run file lock: it cannot be opened");
                None
            }
        }
    }

    /// One try: taken, wait and try again, or `LockTimeout` naming the file
    /// once the run's lock timeout is spent.
    pub(crate) fn attempt(mut self) -> Result<Attempt, Error> {
        match self.file.try_lock() {
            Ok(()) => Ok(Attempt::Taken(Some(self.file), self.waited)),
            Err(TryLockError::WouldBlock) if self.started.elapsed() < self.timeout => {
                self.waited = true;
                let pause = POLL.min(self.timeout.saturating_sub(self.started.elapsed()));
                Ok(Attempt::Wait(pause, self))
            }
            Err(TryLockError::WouldBlock) => Err(Error::LockTimeout {
                backend: self.backend,
                waited: self.started.elapsed(),
                holder: Some(format!("another process running migrations (it holds `{}`)", self.path)),
            }),
            Err(TryLockError::Error(err)) => {
                tracing::debug!(error = %err, path = %self.path, "no run file lock: locking failed");
                Ok(Attempt::Taken(None, self.waited))
            }
        }
    }
}
