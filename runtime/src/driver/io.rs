//! What a plain driver does for the session of session.rs: run a script of
//! statements, read rows of text, say whether a transaction is open, run
//! one migration transaction, and lock. Everything else (the tracking
//! statements, the state check, the dirty protocol, the replay that names
//! a failed statement) is the session's, written once.

use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::Error;
use std::future::Future;
use std::time::Duration;

/// A row of a query, each value as text (`None` for NULL).
pub(crate) type Row = Vec<Option<String>>;

/// One migration transaction as text, for [`Driver::run_transaction`]: the
/// driver sends it as it can (rusqlite statement by statement in process,
/// tokio-postgres as one query), BEGIN and COMMIT its own.
pub(crate) struct Transaction {
    /// Statements before the guard: the tracking tables of a database
    /// provisioned in this transaction (none otherwise).
    pub creation: Vec<String>,
    /// Fails unless the state row is the one the plan was made on (see
    /// `TrackingSql::refuse_unless`): the batch's state check, told apart
    /// from a statement's failure by the session's replay.
    pub guard: String,
    /// Each change's statements, in order.
    pub changes: Vec<Vec<String>>,
}

/// How a migration transaction failed.
pub(crate) enum TxFailure<E> {
    /// A statement failed and the transaction was rolled back; `at` is the
    /// change and the statement when the driver knows it (rusqlite runs
    /// them one by one), else the session replays to find it.
    RolledBack { err: E, at: Option<(usize, usize)> },
    /// A statement of a file ended the transaction (`COMMIT`, `END`,
    /// `ROLLBACK`): the change (and statement) where the driver saw it.
    Ended {
        change: Option<usize>,
        statement: Option<usize>,
    },
    /// Another failure (the write lock, the commit).
    #[cfg_attr(not(feature = "rusqlite"), allow(dead_code))]
    Other(Error),
}

/// A connection the session of session.rs drives with text alone.
pub(crate) trait Driver: Send {
    /// The driver's own error, kept as the source of ours.
    type Error: std::error::Error + Send + Sync + 'static;
    /// "SQLite (rusqlite)": `Session::backend`.
    const NAME: &'static str;
    const DIALECT: Dialect;

    /// Runs `script`: one statement or several, separated by `;`.
    fn execute(&mut self, script: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The rows one query returns, every value as text.
    fn query(&mut self, sql: &str) -> impl Future<Output = Result<Vec<Row>, Self::Error>> + Send;

    /// Whether the connection has a transaction open, as the database says.
    fn in_transaction(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// What begins a transaction of tracking writes (SQLite: `BEGIN
    /// IMMEDIATE`, so the write lock is waited for at once).
    const BEGIN: &'static str = "BEGIN";

    /// Whether a database with nothing applied is provisioned in one
    /// transaction without group mode (`Provision::by_default`).
    const PROVISION_BY_DEFAULT: bool;

    /// Runs `tx` in one transaction and then `finish(durations)` (the
    /// tracking writes, given each change's duration in milliseconds as
    /// SQL: a number the client measured, or an expression the server
    /// evaluates), then commits. Any failure leaves no transaction open.
    fn run_transaction<'a>(
        &'a mut self,
        tx: &'a Transaction,
        finish: &'a (dyn Fn(&[String]) -> Vec<String> + Send + Sync),
    ) -> impl Future<Output = Result<(), TxFailure<Self::Error>>> + Send + 'a;

    /// The database's own words for `err`.
    fn message(err: &Self::Error) -> String {
        err.to_string()
    }

    /// Whether `err` says that a table does not exist.
    fn no_such_table(err: &Self::Error) -> bool;

    /// Whether `err` is a wait for a lock that ran out (SQLite's busy).
    fn busy(_err: &Self::Error) -> bool {
        false
    }

    /// A query returning one row when the state table exists.
    fn state_table_query(table: &str, schema: Option<&str>) -> String;

    /// The statements that set up a change's statements (their `timeouts`;
    /// on PostgreSQL the tracking schema first on the search path), and
    /// those that take that back after (none where the change's
    /// transaction ends it: `in_transaction`); the reason when the
    /// database has no such timeout.
    fn around(&self, timeouts: Timeouts, in_transaction: bool) -> Result<(Vec<String>, Vec<String>), String> {
        let _ = in_transaction;
        match timeouts == Timeouts::default() {
            true => Ok((Vec::new(), Vec::new())),
            false => Err(format!("{} has no per-statement timeout to set", Self::NAME)),
        }
    }

    /// Which of `timeouts` stopped a statement with `err`.
    fn timed_out(err: &Self::Error, timeouts: Timeouts) -> Option<crate::Timeout> {
        let _ = (err, timeouts);
        None
    }

    /// The line of the file a failed statement's error points at.
    fn error_line(err: &Self::Error, statement: &str, first_line: usize) -> usize {
        let _ = (err, statement);
        first_line
    }

    /// Takes the migration lock, waiting at most `timeout`.
    fn lock(&mut self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;

    /// Releases it.
    fn unlock(&mut self) -> impl Future<Output = Result<(), Error>> + Send;
}
