//! PostgreSQL's name in messages and its errors: the server's message with
//! its SQLSTATE, detail, hint and context, the line it points at, and the
//! codes the backend acts on.

use crate::sql::session::driver_error;
use crate::Error;
use sqlx::postgres::{PgDatabaseError, PgErrorPosition};

pub(super) const NAME: &str = "PostgreSQL";

/// SQLSTATE `lock_not_available`: `lock_timeout` expired.
pub(super) const LOCK_NOT_AVAILABLE: &str = "55P03";

/// SQLSTATE `active_sql_transaction`: "cannot run inside a transaction
/// block" (`CREATE INDEX CONCURRENTLY`, TimescaleDB's continuous aggregate
/// `WITH DATA`, ...).
const ACTIVE_SQL_TRANSACTION: &str = "25001";

/// A driver error as ours, for `operation`.
pub(super) fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    driver_error(NAME, message, operation)
}

/// The SQLSTATE of `err`, when the server sent one.
pub(super) fn code_of(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// `undefined_table`.
pub(super) fn no_such_table(err: &sqlx::Error) -> bool {
    code_of(err).as_deref() == Some("42P01")
}

/// The server's message with its SQLSTATE, detail and hint: what a
/// person needs to fix the statement.
pub(super) fn message(err: &sqlx::Error) -> String {
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
    if pg.code() == ACTIVE_SQL_TRANSACTION {
        message.push_str(
            "; the statement cannot run inside a transaction: start its file with \
             `-- migrate:no-transaction` so that its statements run one by one, outside one",
        );
    }
    message
}

/// The file line the server's error position points at, if it gave one.
pub(super) fn error_line(err: &sqlx::Error, statement: &str, first_line: usize) -> usize {
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
