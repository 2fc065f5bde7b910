//! SQLite's C API on the connection's own handle, which sqlx lends for
//! exactly this (`lock_handle`): the crate's only `unsafe`.
//!
//! sqlx runs a multi-statement query on its worker thread, one statement
//! at a time, and sends each statement's result back over a channel to the
//! task that awaits it. For a group of migrations that hop per statement
//! was most of the cost: refinery's grouped mode, which hands the script to
//! SQLite in one call, was 2.4x cheaper per migration. So a batch goes
//! through `sqlite3_exec`: one call per migration, all on one thread with
//! the handle borrowed once (batch.rs). The statement-by-statement replay
//! (sql/apply.rs) still names the statement that failed; the error here
//! carries SQLite's own message and code for the rare failure the replay
//! does not meet again.

use super::errors::is_busy;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::SqliteConnection;
use std::borrow::Cow;
use std::ffi::{c_char, CStr, CString};

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
            Err(err) if is_busy(&err) => return Err(work),
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
    // SAFETY: as above; `message` is copied before it is freed.
    let text = unsafe {
        if message.is_null() {
            None
        } else {
            let text = CStr::from_ptr(message).to_string_lossy().into_owned();
            libsqlite3_sys::sqlite3_free(message.cast());
            Some(text)
        }
    };
    Err(handle_error(db, code, text))
}

/// The error `code` just returned on `db`, with SQLite's `message` for it
/// when the call gave one.
fn handle_error(db: *mut libsqlite3_sys::sqlite3, code: i32, message: Option<String>) -> sqlx::Error {
    // SAFETY: `db` is the borrowed open handle (see `exec`);
    // `sqlite3_extended_errcode` reads its last error, `sqlite3_errmsg`
    // its message (copied at once), `sqlite3_errstr` a static string.
    let (code, message) = unsafe {
        let extended = libsqlite3_sys::sqlite3_extended_errcode(db);
        let message = message.unwrap_or_else(|| {
            let text = if extended == libsqlite3_sys::SQLITE_OK {
                libsqlite3_sys::sqlite3_errstr(code)
            } else {
                libsqlite3_sys::sqlite3_errmsg(db)
            };
            CStr::from_ptr(text).to_string_lossy().into_owned()
        });
        (extended, message)
    };
    sqlx::Error::Database(Box::new(ExecError { code, message }))
}

/// What a run's lock reads from the connection's handle.
pub(super) struct HandleSettings {
    /// The main database's file, `None` in memory.
    pub file: Option<String>,
    /// The busy timeout the handle had (the pool's), in milliseconds.
    pub busy_timeout_ms: i64,
    /// The value of each of [`SESSION_PRAGMAS`], as the pool handed the
    /// connection out.
    pub pragmas: Vec<i64>,
}

/// The connection's own settings a migration file can change (a
/// `no-transaction` file, or a statement outside the transaction's reach):
/// each is read when a run takes its lock and set back before the
/// connection returns to the pool. `foreign_keys` first: the table-rebuild
/// recipe turns it off.
pub(super) const SESSION_PRAGMAS: &[&str] = &[
    "foreign_keys",
    "defer_foreign_keys",
    "recursive_triggers",
    "ignore_check_constraints",
    "query_only",
    "legacy_alter_table",
    "trusted_schema",
    "reverse_unordered_selects",
    "automatic_index",
    "cell_size_check",
    "synchronous",
    "temp_store",
    "cache_size",
];

/// Whether the handle has a transaction open: SQLite's own word
/// (`sqlite3_get_autocommit`), whoever began it.
pub(super) fn in_transaction(db: *mut libsqlite3_sys::sqlite3) -> bool {
    // SAFETY: `db` is the borrowed open handle (see `exec`).
    unsafe { libsqlite3_sys::sqlite3_get_autocommit(db) == 0 }
}

/// [`in_transaction`] on sqlx's connection: one hop to its worker.
pub(super) async fn connection_in_transaction(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    Ok(in_transaction(handle.as_raw_handle().as_ptr()))
}

/// The current value of each of [`SESSION_PRAGMAS`].
fn read_pragmas(db: *mut libsqlite3_sys::sqlite3) -> Result<Vec<i64>, sqlx::Error> {
    SESSION_PRAGMAS
        .iter()
        .map(|name| query_int(db, &c_text(format!("PRAGMA {name}"))?))
        .collect()
}

/// Puts the handle back as `pragmas` describe it (read by
/// [`swap_busy_timeout`]): a transaction left open rolled back, each
/// setting that differs set again (`foreign_keys` can only change outside
/// a transaction), then read once more. True when all of it holds.
pub(super) fn restore_handle(db: *mut libsqlite3_sys::sqlite3, pragmas: &[i64]) -> bool {
    if in_transaction(db) {
        if let Err(err) = exec(db, c"ROLLBACK") {
            tracing::debug!(error = %err, "rolling back a transaction a migration left open");
        }
    }
    let Ok(now) = read_pragmas(db) else { return false };
    for ((name, was), is) in SESSION_PRAGMAS.iter().zip(pragmas).zip(&now) {
        if was != is {
            tracing::info!(
                pragma = name,
                from = is,
                to = was,
                "restoring a setting a migration changed"
            );
            if let Ok(set) = c_text(format!("PRAGMA {name} = {was}")) {
                let _ = exec(db, &set);
            }
        }
    }
    !in_transaction(db) && read_pragmas(db).is_ok_and(|again| again == pragmas)
}

/// [`restore_handle`] on sqlx's connection: one hop to its worker.
pub(super) async fn restore_session(conn: &mut SqliteConnection, pragmas: &[i64]) -> bool {
    match conn.lock_handle().await {
        Ok(mut handle) => restore_handle(handle.as_raw_handle().as_ptr(), pragmas),
        Err(_) => false,
    }
}

/// The main database's file and the handle's busy timeout, and then that
/// timeout set to `busy_timeout_ms`: one hop to sqlx's worker, where
/// three queries took one each.
pub(super) async fn swap_busy_timeout(
    conn: &mut SqliteConnection,
    busy_timeout_ms: i32,
) -> Result<HandleSettings, sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open handle the guard lends to this thread;
    // `sqlite3_db_filename` returns NULL, or a string the handle owns, which
    // is copied at once ("" for an in-memory or temporary database).
    let file = unsafe {
        let name = libsqlite3_sys::sqlite3_db_filename(db, c"main".as_ptr());
        (!name.is_null())
            .then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
            .filter(|name| !name.is_empty())
    };
    let previous = query_int(db, c"PRAGMA busy_timeout")?;
    let pragmas = read_pragmas(db)?;
    // SAFETY: as above.
    unsafe { libsqlite3_sys::sqlite3_busy_timeout(db, busy_timeout_ms) };
    Ok(HandleSettings {
        file,
        busy_timeout_ms: previous,
        pragmas,
    })
}

/// The first column of the first row of `sql`, as an integer.
fn query_int(db: *mut libsqlite3_sys::sqlite3, sql: &CStr) -> Result<i64, sqlx::Error> {
    let mut statement: *mut libsqlite3_sys::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is the borrowed open handle (see `exec`); `sql` is
    // NUL-terminated; the statement, when prepared, is finalized below
    // and not used after.
    unsafe {
        let code = libsqlite3_sys::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut statement, std::ptr::null_mut());
        if code != libsqlite3_sys::SQLITE_OK {
            return Err(handle_error(db, code, None));
        }
        let step = libsqlite3_sys::sqlite3_step(statement);
        let value = match step {
            libsqlite3_sys::SQLITE_ROW => Ok(libsqlite3_sys::sqlite3_column_int64(statement, 0)),
            _ => Err(handle_error(db, step, None)),
        };
        libsqlite3_sys::sqlite3_finalize(statement);
        value
    }
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
