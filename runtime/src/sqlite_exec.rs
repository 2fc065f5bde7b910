//! A batch handed to SQLite itself (a child module of sqlite.rs).
//!
//! sqlx runs a multi-statement query on its worker thread, one statement
//! at a time, and sends each statement's result back over a channel to the
//! task that awaits it. For a group of migrations that hop per statement
//! was most of the cost (BENCHMARKS.md, issue 14): refinery's grouped mode,
//! which hands the script to SQLite in one call, was 2.4x cheaper per
//! migration. So a batch goes through `sqlite3_exec` on the connection's
//! own handle, which sqlx lends for exactly this (`lock_handle`): one call
//! per migration, timed between the calls, all on one thread with the
//! handle borrowed once. The statement-by-statement replay in sql.rs still
//! names the statement that failed; the error here carries SQLite's own
//! message and code for the rare failure the replay does not meet again.

use super::SqliteBackend;
use crate::backend::Change;
use crate::sql::{timed_tracking, SqlSession, TrackingSql};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::SqliteConnection;
use std::borrow::Cow;
use std::ffi::{c_char, CStr, CString};
use std::time::Instant;

/// How a write transaction failed; every failure leaves no transaction
/// open.
pub(super) enum TxFailure {
    /// `BEGIN IMMEDIATE`, or borrowing the handle.
    Begin(sqlx::Error),
    /// The work, rolled back.
    Work(sqlx::Error),
    /// `COMMIT`, rolled back.
    Commit(sqlx::Error),
}

/// `BEGIN IMMEDIATE`, `work` and `COMMIT` (or `ROLLBACK`) with the handle
/// borrowed from sqlx once: one hop to sqlx's worker where its own
/// transaction takes three. The BEGIN does not wait, since a wait here
/// could not be cancelled: when the write lock is another connection's,
/// nothing is done and the work is handed back (`Err`), for the caller to
/// wait where it can be cancelled. After the BEGIN the busy timeout is
/// `busy_timeout_ms` again (a COMMIT may wait for readers). Nothing awaits
/// between the BEGIN and the end, so a cancelled run never leaves this
/// transaction open, and sqlx, which did not open it, finds none when it
/// has the handle back.
pub(super) async fn write_transaction_now<W>(
    conn: &mut SqliteConnection,
    busy_timeout_ms: i32,
    work: W,
) -> Result<Result<(), TxFailure>, W>
where
    W: FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error>,
{
    let mut handle = match conn.lock_handle().await {
        Ok(handle) => handle,
        Err(err) => return Ok(Err(TxFailure::Begin(err))),
    };
    let db = handle.as_raw_handle().as_ptr();
    off_the_runtime(|| {
        // SAFETY: `db` is the open handle the guard lends to this thread.
        unsafe { libsqlite3_sys::sqlite3_busy_timeout(db, 0) };
        let begun = exec(db, c"BEGIN IMMEDIATE");
        // SAFETY: as above.
        unsafe { libsqlite3_sys::sqlite3_busy_timeout(db, busy_timeout_ms) };
        match begun {
            Ok(()) => {}
            Err(err) if super::is_busy(&err) => return Err(work),
            Err(err) => return Ok(Err(TxFailure::Begin(err))),
        }
        let result = work(db)
            .map_err(TxFailure::Work)
            .and_then(|()| exec(db, c"COMMIT").map_err(TxFailure::Commit));
        // SQLite ends the transaction by itself on some errors (disk full,
        // I/O); a COMMIT refused as busy leaves it open.
        // SAFETY: as above.
        if result.is_err() && unsafe { libsqlite3_sys::sqlite3_get_autocommit(db) } == 0 {
            if let Err(err) = exec(db, c"ROLLBACK") {
                tracing::debug!(error = %err, "rolling back the failed batch");
            }
        }
        Ok(result)
    })
}

/// `work` with the handle borrowed from sqlx once, inside whatever
/// transaction the caller holds.
pub(super) async fn borrowed(
    conn: &mut SqliteConnection,
    work: impl FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    off_the_runtime(|| work(db))
}

/// The work of a timed batch of `changes` (see `SqlSession::timed_batch`),
/// for [`write_transaction`]: the state guard, each change's statements
/// in a call of its own, timed between the calls, then their tracking
/// writes with the durations measured. The texts are made before the
/// handle is borrowed.
pub(super) fn timed_batch<'a>(
    sql: &'a TrackingSql,
    changes: &'a [Change<'a>],
) -> Result<impl FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error> + 'a, sqlx::Error> {
    let (guard, scripts) = SqlSession::<SqliteBackend>::timed_batch(sql, changes);
    let guard = c_text(guard)?;
    let scripts = scripts.into_iter().map(c_text).collect::<Result<Vec<_>, _>>()?;
    Ok(move |db| {
        let started = Instant::now();
        exec(db, &guard)?;
        let mut ends = Vec::with_capacity(scripts.len());
        for script in &scripts {
            exec(db, script)?;
            ends.push(Instant::now());
        }
        exec(db, &c_text(timed_tracking(sql, changes, started, &ends))?)
    })
}

/// Runs `work`, which blocks for as long as the migrations take, where it
/// keeps the runtime's other tasks going: on a multi-threaded runtime the
/// worker thread hands its tasks to another first (`block_in_place`), as
/// sqlx's own worker thread did for these statements. A current-thread
/// runtime has no other thread: its other tasks wait for the batch.
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

pub(super) fn c_text(text: String) -> Result<CString, sqlx::Error> {
    // A NUL character in a migration: SQLite's C API would stop the text
    // there; sqlx's query takes it whole (and SQLite refuses it).
    CString::new(text).map_err(|_| sqlx::Error::Protocol("a migration's text holds a NUL character".into()))
}

/// One `sqlite3_exec` of `text` on the handle `db`, which the caller holds
/// through sqlx's guard. Result rows (a migration's own `SELECT` or
/// `PRAGMA`) are passed over, as sqlx's query would.
pub(super) fn exec(db: *mut libsqlite3_sys::sqlite3, text: &CStr) -> Result<(), sqlx::Error> {
    let mut message: *mut c_char = std::ptr::null_mut();
    // SAFETY: `db` is the connection's open handle, which sqlx's guard
    // lends to this thread alone while the caller holds it (sqlx's worker
    // waits meanwhile); `text` is NUL-terminated and outlives the call; no
    // callback, so no argument; `message`
    // is either left null or set to a string SQLite allocated, which is
    // copied and freed with `sqlite3_free` below.
    let code = unsafe { libsqlite3_sys::sqlite3_exec(db, text.as_ptr(), None, std::ptr::null_mut(), &mut message) };
    if code == libsqlite3_sys::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: as above; `sqlite3_extended_errcode` reads the handle's last
    // error, `sqlite3_errstr` returns a static string.
    let (code, message) = unsafe {
        let extended = libsqlite3_sys::sqlite3_extended_errcode(db);
        let text = if message.is_null() {
            CStr::from_ptr(libsqlite3_sys::sqlite3_errstr(code))
                .to_string_lossy()
                .into_owned()
        } else {
            let text = CStr::from_ptr(message).to_string_lossy().into_owned();
            libsqlite3_sys::sqlite3_free(message.cast());
            text
        };
        (extended, text)
    };
    Err(sqlx::Error::Database(Box::new(ExecError { code, message })))
}

/// SQLite's error from `sqlite3_exec`, as sqlx's own errors read: its
/// message, and its extended result code as the code.
#[derive(Debug)]
struct ExecError {
    code: i32,
    message: String,
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExecError {}

impl DatabaseError for ExecError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        // The primary codes of constraint failures (SQLITE_CONSTRAINT, 19).
        match self.code {
            2067 | 1555 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
