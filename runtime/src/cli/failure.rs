//! How a command fails, and the exit code each failure gives: 0 success, 1
//! a migration (or the database) failed, 2 usage or validation; a command
//! that printed its own messages (`check`, `plan`, a failed set among
//! several) gives the code it chose.

use super::output::eprintln;
use crate::Error;

pub(super) enum Failure {
    Usage(String),
    /// Boxed: an `Error` is large, and most results here are `Ok`.
    Migrations(Box<Error>),
    /// The messages are printed already; this is the exit code.
    Reported(i32),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Migrations(Box::new(err))
    }
}

/// `Ok` for exit code 0, else the code as a failure whose messages were
/// printed already.
pub(super) fn reported(code: i32) -> Result<(), Failure> {
    match code {
        0 => Ok(()),
        code => Err(Failure::Reported(code)),
    }
}

/// The exit code of a command's result; a failure not printed yet is
/// printed on stderr.
pub(super) fn exit_code(result: Result<(), Failure>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            2
        }
        Err(Failure::Migrations(err)) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
        Err(Failure::Reported(code)) => code,
    }
}
