//! SQLite's name in messages and its errors: busy, a missing table, a
//! write lock that did not come within the timeout.

use crate::sql::session::{database_message, driver_error};
use crate::Error;
use std::time::Instant;

pub(super) const NAME: &str = "SQLite";

/// A driver error as ours, for `operation`.
pub(super) fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    driver_error(NAME, database_message, operation)
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
pub(super) fn is_busy(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// SQLite's code for a missing table is the generic SQLITE_ERROR: its
/// message says.
pub(super) fn no_such_table(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.message().starts_with("no such table:"))
}

/// The write lock, waited for since `started` until the busy timeout ran
/// out: the lock timeout.
pub(super) fn lock_timeout(started: Instant) -> Error {
    Error::LockTimeout {
        backend: NAME,
        waited: started.elapsed(),
        holder: None,
    }
}

/// A `BEGIN IMMEDIATE` that failed after `started`: busy once the busy
/// timeout ran out is the lock timeout, anything else a database error.
pub(super) fn begin_failed(err: sqlx::Error, started: Instant) -> Error {
    if is_busy(&err) {
        lock_timeout(started)
    } else {
        Error::database(NAME, "beginning a transaction", &err).with_source(err)
    }
}
