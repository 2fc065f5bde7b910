//! A batch handed to SQLite itself (a child module of sqlite.rs).
//!
//! sqlx runs a multi-statement query on its worker thread, one statement
//! at a time, and sends each statement's result back over a channel to the
//! task that awaits it. For a group of migrations that hop per statement
//! was most of the cost (BENCHMARKS.md, issue 14): refinery's grouped mode,
//! which hands the script to SQLite in one call, was 2.4x cheaper per
//! migration. So a batch goes through `sqlite3_exec` on the connection's
//! own handle, which sqlx lends for exactly this (`lock_handle`): SQLite
//! prepares and steps each statement in turn, and calls back only for
//! result rows; the one row of each end-of-change marker is timed there.
//! The statement-by-statement replay in sql.rs still names the statement
//! that failed; the error here carries SQLite's own message and code for
//! the rare failure the replay does not meet again.

use super::SqliteBackend;
use crate::backend::Change;
use crate::sql::{timed_tracking, SqlSession, TrackingSql, END_OF_CHANGE};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::SqliteConnection;
use std::borrow::Cow;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::time::Instant;

/// Runs `changes` as a timed batch on `conn`, inside the transaction the
/// caller holds, then their tracking writes with the durations measured
/// (see `SqlSession::timed_batch`): both with the handle borrowed once,
/// one hop to sqlx's worker.
pub(super) async fn execute_timed(
    conn: &mut SqliteConnection,
    sql: &TrackingSql,
    changes: &[Change<'_>],
) -> Result<(), sqlx::Error> {
    let batch = c_text(SqlSession::<SqliteBackend>::timed_batch(sql, changes))?;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    off_the_runtime(|| {
        let started = Instant::now();
        let mut ends: Vec<Instant> = Vec::new();
        exec(db, &batch, Some(&mut ends))?;
        exec(db, &c_text(timed_tracking(sql, changes, started, &ends))?, None)
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

fn c_text(text: String) -> Result<CString, sqlx::Error> {
    // A NUL character in a migration: SQLite's C API would stop the text
    // there; sqlx's query takes it whole (and SQLite refuses it).
    CString::new(text).map_err(|_| sqlx::Error::Protocol("a migration's text holds a NUL character".into()))
}

/// One `sqlite3_exec` of `text` on the handle `db`, which the caller holds
/// through sqlx's guard; with `ends`, each [`END_OF_CHANGE`] row is timed.
fn exec(db: *mut libsqlite3_sys::sqlite3, text: &CStr, ends: Option<&mut Vec<Instant>>) -> Result<(), sqlx::Error> {
    let mut message: *mut c_char = std::ptr::null_mut();
    let (callback, argument) = match ends {
        Some(ends) => (Some(on_row as OnRow), std::ptr::from_mut(ends).cast::<c_void>()),
        None => (None, std::ptr::null_mut()),
    };
    // SAFETY: `db` is the connection's open handle, which sqlx's guard
    // lends to this thread alone while the caller holds it (sqlx's worker
    // waits meanwhile); `text` is NUL-terminated and outlives the call; the
    // callback's argument is `ends`, borrowed for the call only; `message`
    // is either left null or set to a string SQLite allocated, which is
    // copied and freed with `sqlite3_free` below.
    let code = unsafe { libsqlite3_sys::sqlite3_exec(db, text.as_ptr(), callback, argument, &mut message) };
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

type OnRow = unsafe extern "C" fn(*mut c_void, c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;

/// `sqlite3_exec`'s callback, once per result row: a row whose first
/// column is [`END_OF_CHANGE`] is timed; any other (a migration's own
/// `SELECT` or `PRAGMA`) is passed over, as sqlx's query would. Returns 0:
/// go on.
unsafe extern "C" fn on_row(
    ends: *mut c_void,
    columns: c_int,
    _values: *mut *mut c_char,
    names: *mut *mut c_char,
) -> c_int {
    // SAFETY: SQLite passes `columns` column names, each a NUL-terminated
    // string valid during the call; `ends` is the `Vec` `execute` passed.
    unsafe {
        if columns >= 1 && !(*names).is_null() && CStr::from_ptr(*names).to_bytes() == END_OF_CHANGE.as_bytes() {
            (*ends.cast::<Vec<Instant>>()).push(Instant::now());
        }
    }
    0
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
