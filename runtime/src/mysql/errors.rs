//! MySQL's (and MariaDB's) name in messages and its errors: the server's
//! message with its error number and SQLSTATE.

use crate::sql::session::driver_error;
use crate::Error;
use sqlx::mysql::MySqlDatabaseError;

pub(super) const NAME: &str = "MySQL";

/// A driver error as ours, for `operation`.
pub(super) fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    driver_error(NAME, message, operation)
}

/// The server's message with its error number and SQLSTATE.
pub(super) fn message(err: &sqlx::Error) -> String {
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

/// ER_NO_SUCH_TABLE (1146), whose SQLSTATE sqlx gives as the code.
pub(super) fn no_such_table(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|db| db.code()).as_deref() == Some("42S02")
}

/// The server's error number, where it gave one.
pub(super) fn number_of(err: &sqlx::Error) -> Option<u16> {
    Some(
        err.as_database_error()?
            .try_downcast_ref::<MySqlDatabaseError>()?
            .number(),
    )
}
