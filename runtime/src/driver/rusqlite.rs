//! SQLite through a rusqlite `Connection`.
//!
//! The handle is [`Rusqlite`], built from `&mut Connection` (or owning
//! one): rusqlite's `Connection` is `Send` but not `Sync`, and a
//! [`Database`] is shared by reference, so the connection sits behind a
//! lock that a session holds from `open` to its end. Borrowing it
//! mutably means nothing else of the program can send a statement into a
//! migration's transaction while the run holds it: the compiler says so.
//!
//! The lock is SQLite's own, as with sqlx (sqlite/lock.rs): each migration
//! takes the database's write lock with `BEGIN IMMEDIATE`, its wait the
//! busy timeout (set to the lock timeout for the run), and a run of a
//! database file holds the same file lock beside it,
//! `<file>-migrations.lock`, so a dirty mark seen with that lock free was
//! left by a run that is over, and sqlx and rusqlite programs on one file
//! exclude each other. An in-memory database has no second process and
//! takes no file lock. Nothing here needs an async runtime: every future
//! is ready when first polled.

use super::io::{Driver, Row, Transaction, TxFailure};
use super::session::DriverSession;
use crate::backend::{BoxFuture, Database, Session};
use crate::core::split::Dialect;
use crate::file_lock::{Attempt, FileLock};
use crate::{Error, Settings, Sql};
use futures_util::lock::{Mutex, MutexGuard};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::future::{ready, Future};
use std::time::{Duration, Instant};

const NAME: &str = "SQLite (rusqlite)";

/// The connection's own settings a migration file can change (a
/// `no-transaction` file's `PRAGMA foreign_keys = OFF`, say): read when a
/// run takes its lock and set back when it ends, as sqlx's SQLite does.
const SESSION_PRAGMAS: &[&str] = &[
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
];

enum Slot<'c> {
    Borrowed(&'c mut Connection),
    Owned(Box<Connection>),
}

impl Slot<'_> {
    fn conn(&mut self) -> &mut Connection {
        match self {
            Slot::Borrowed(conn) => conn,
            Slot::Owned(conn) => conn,
        }
    }
}

/// A rusqlite connection as a [`Database`]: what `run`, `run_blocking`
/// and every other operation take.
///
/// ```no_run
/// # fn boot() -> Result<(), embedded_migrations::Error> {
/// static MIGRATIONS: embedded_migrations::Migrations =
///     embedded_migrations::embed_migrations!("docs/migrations/sqlite");
///
/// let mut conn = rusqlite::Connection::open("app.db").expect("open");
/// MIGRATIONS.run_blocking(&embedded_migrations::Rusqlite::new(&mut conn))?;
/// // `conn` is the program's again.
/// # Ok(())
/// # }
/// ```
pub struct Rusqlite<'c> {
    conn: Mutex<Slot<'c>>,
}

impl<'c> Rusqlite<'c> {
    /// The connection, borrowed for as long as this handle lives.
    pub fn new(conn: &'c mut Connection) -> Self {
        Rusqlite {
            conn: Mutex::new(Slot::Borrowed(conn)),
        }
    }
}

impl Rusqlite<'_> {
    /// Calls `f` with the connection between operations, waiting on the
    /// calling thread while one holds it (a handle that owns its
    /// connection, used for the program's own statements too).
    pub fn with<R>(&self, f: impl FnOnce(&mut Connection) -> R) -> R {
        let mut slot = futures_executor::block_on(self.conn.lock());
        f(slot.conn())
    }
}

impl Rusqlite<'static> {
    /// A handle that owns its connection (a program that keeps one for
    /// migrations and status, a test).
    pub fn owned(conn: Connection) -> Self {
        Rusqlite {
            conn: Mutex::new(Slot::Owned(Box::new(conn))),
        }
    }
}

impl std::fmt::Debug for Rusqlite<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rusqlite").finish_non_exhaustive()
    }
}

impl Database for Rusqlite<'_> {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move {
            let conn = self.conn.lock().await;
            let session: Box<dyn Session + 'a> = Box::new(DriverSession::new(
                RusqliteDriver {
                    conn,
                    lock: RunLock::default(),
                },
                settings,
            ));
            Ok(session)
        })
    }
}

/// What a run's lock holds, from `lock` to `unlock` (or the drop).
#[derive(Default)]
struct RunLock {
    /// The busy timeout before the run set it to the lock timeout.
    restore_busy_timeout: Option<i64>,
    /// The run's file lock; closing the file releases it.
    file: Option<std::fs::File>,
    /// The connection's settings when the run began (`SESSION_PRAGMAS`).
    pragmas: Option<Vec<Option<String>>>,
}

/// One session's hold of the connection.
struct RusqliteDriver<'a, 'c> {
    conn: MutexGuard<'a, Slot<'c>>,
    lock: RunLock,
}

impl RusqliteDriver<'_, '_> {
    fn conn(&mut self) -> &mut Connection {
        self.conn.conn()
    }

    /// Every statement of `script` (split as the migration files are),
    /// each stepped through all its rows: a statement returning rows of its
    /// own still runs to its end, whatever rusqlite's `execute_batch` of
    /// the version in use does with rows.
    fn run_script(conn: &Connection, script: &str) -> rusqlite::Result<()> {
        for statement in crate::core::split::split(script, Dialect::Sqlite) {
            Self::run_one(conn, statement.text)?;
        }
        Ok(())
    }

    /// One statement, stepped through all its rows.
    fn run_one(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
        let mut statement = conn.prepare(statement)?;
        let mut rows = statement.raw_query();
        while rows.next()?.is_some() {}
        Ok(())
    }

    fn rows(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<Row>> {
        let mut statement = conn.prepare(sql)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for index in 0..columns {
                values.push(match row.get_ref(index)? {
                    ValueRef::Null => None,
                    ValueRef::Integer(value) => Some(value.to_string()),
                    ValueRef::Real(value) => Some(value.to_string()),
                    ValueRef::Text(text) => Some(String::from_utf8_lossy(text).into_owned()),
                    ValueRef::Blob(bytes) => Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn pragma(conn: &Connection, name: &str) -> Option<String> {
        Self::rows(conn, &format!("PRAGMA {name}"))
            .ok()?
            .into_iter()
            .next()?
            .into_iter()
            .next()?
    }

    /// The migration transaction, statement by statement, the handle in
    /// process: after each statement SQLite says whether the transaction
    /// is still open, so a file's `COMMIT`, `END` or `ROLLBACK` stops it
    /// there, and a failure is named without a replay.
    // The failure is as large as an `Error` and a driver error together;
    // it is made once per failed migration, not per statement.
    #[allow(clippy::result_large_err)]
    fn transaction(
        &mut self,
        tx: &Transaction,
        finish: &(dyn Fn(&[String]) -> Vec<String> + Send + Sync),
    ) -> Result<(), TxFailure<rusqlite::Error>> {
        let started = Instant::now();
        let conn = self.conn();
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            return Err(TxFailure::Other(begin_failed(err, started)));
        }
        let rollback = |conn: &Connection| {
            if !conn.is_autocommit() {
                if let Err(err) = conn.execute_batch("ROLLBACK") {
                    tracing::debug!(error = %err, "rolling back the migration's transaction");
                }
            }
        };
        for statement in &tx.creation {
            if let Err(err) = Self::run_one(conn, statement) {
                rollback(conn);
                return Err(TxFailure::RolledBack { err, at: None });
            }
        }
        if let Err(err) = Self::run_one(conn, &tx.guard) {
            rollback(conn);
            return Err(TxFailure::RolledBack { err, at: None });
        }
        let mut durations = Vec::with_capacity(tx.changes.len());
        for (change, statements) in tx.changes.iter().enumerate() {
            let began = Instant::now();
            for (at, statement) in statements.iter().enumerate() {
                if let Err(err) = Self::run_one(conn, statement) {
                    rollback(conn);
                    return Err(TxFailure::RolledBack {
                        err,
                        at: Some((change, at)),
                    });
                }
                if conn.is_autocommit() {
                    return Err(TxFailure::Ended {
                        change: Some(change),
                        statement: Some(at),
                    });
                }
            }
            durations.push(began.elapsed().as_millis().to_string());
        }
        // Each tracking write is one statement already: prepared as it is,
        // not joined and split again.
        for write in finish(&durations) {
            if let Err(err) = Self::run_one(conn, &write) {
                rollback(conn);
                return Err(TxFailure::RolledBack { err, at: None });
            }
        }
        if let Err(err) = conn.execute_batch("COMMIT") {
            rollback(conn);
            return Err(TxFailure::Other(match is_busy(&err) {
                true => lock_timeout(started),
                false => Error::database(NAME, "committing the migration", err.to_string()).with_source(err),
            }));
        }
        Ok(())
    }

    /// The busy timeout set to `timeout`, the session's settings read, and
    /// the file lock taken beside a database file.
    fn take_lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let conn = self.conn.conn();
        let previous = Self::pragma(conn, "busy_timeout").and_then(|ms| ms.parse().ok());
        conn.busy_timeout(timeout)
            .map_err(|err| Error::database(NAME, "setting the busy timeout", err.to_string()).with_source(err))?;
        self.lock.restore_busy_timeout = previous;
        self.lock.pragmas = Some(SESSION_PRAGMAS.iter().map(|name| Self::pragma(conn, name)).collect());
        let path = conn.path().filter(|path| !path.is_empty()).map(str::to_string);
        match take_file_lock(path.as_deref(), timeout, started) {
            Ok((file, waited)) => {
                self.lock.file = file;
                if waited {
                    let left = timeout.saturating_sub(started.elapsed());
                    let _ = self.conn().busy_timeout(left);
                }
                Ok(())
            }
            Err(err) => {
                self.release();
                Err(err)
            }
        }
    }

    /// Back as the run found the connection: no transaction open, its
    /// settings and busy timeout as they were, the file lock released.
    fn release(&mut self) {
        self.lock.file = None;
        let pragmas = self.lock.pragmas.take();
        let busy = self.lock.restore_busy_timeout.take();
        let conn = self.conn();
        if !conn.is_autocommit() {
            if let Err(err) = conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %err, "rolling back a transaction a migration left open");
            }
        }
        if let Some(pragmas) = pragmas {
            for (name, before) in SESSION_PRAGMAS.iter().zip(pragmas) {
                let Some(before) = before else { continue };
                if Self::pragma(conn, name).as_ref() != Some(&before) {
                    if let Err(err) = conn.execute_batch(&format!("PRAGMA {name} = {before}")) {
                        tracing::warn!(error = %err, pragma = name, "restoring a setting a migration changed");
                    }
                }
            }
        }
        if let Some(ms) = busy {
            if let Err(err) = conn.execute_batch(&format!("PRAGMA busy_timeout = {ms}")) {
                tracing::warn!(error = %err, "restoring the busy timeout");
            }
        }
    }
}

impl Drop for RusqliteDriver<'_, '_> {
    /// A session dropped mid-run (its future dropped, or a panic) gives the
    /// connection back as `unlock` would: it is the program's connection.
    fn drop(&mut self) {
        if self.lock.pragmas.is_some() || self.lock.file.is_some() || !self.conn().is_autocommit() {
            self.release();
        }
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn lock_timeout(started: Instant) -> Error {
    Error::LockTimeout {
        backend: NAME,
        waited: started.elapsed(),
        holder: Some("another connection writing to the database".to_string()),
    }
}

fn begin_failed(err: rusqlite::Error, started: Instant) -> Error {
    match is_busy(&err) {
        true => lock_timeout(started),
        false => Error::database(NAME, "beginning a transaction", err.to_string()).with_source(err),
    }
}

/// Takes the run's file lock beside the database `file` (file_lock.rs, the
/// file the sqlx backend locks too), waiting up to `timeout` for another
/// process's run; `None` for an in-memory database or where it cannot be
/// taken. Also says whether it had to wait.
fn take_file_lock(
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
                // A blocking wait: rusqlite's calls block the thread anyway.
                std::thread::sleep(pause);
            }
        }
    }
}

impl Driver for RusqliteDriver<'_, '_> {
    type Error = rusqlite::Error;
    const NAME: &'static str = NAME;
    const DIALECT: Dialect = Dialect::Sqlite;
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    /// Only in group mode: one transaction holds the file's write lock for
    /// the whole first run, which group mode asks for (as sqlx's SQLite).
    const PROVISION_BY_DEFAULT: bool = false;

    fn execute(&mut self, script: &str) -> impl Future<Output = Result<(), rusqlite::Error>> + Send {
        ready(Self::run_script(self.conn(), script))
    }

    fn query(&mut self, sql: &str) -> impl Future<Output = Result<Vec<Row>, rusqlite::Error>> + Send {
        ready(Self::rows(self.conn(), sql))
    }

    fn in_transaction(&mut self) -> impl Future<Output = Result<bool, rusqlite::Error>> + Send {
        ready(Ok(!self.conn().is_autocommit()))
    }

    fn run_transaction<'a>(
        &'a mut self,
        tx: &'a Transaction,
        finish: &'a (dyn Fn(&[String]) -> Vec<String> + Send + Sync),
    ) -> impl Future<Output = Result<(), TxFailure<rusqlite::Error>>> + Send + 'a {
        ready(self.transaction(tx, finish))
    }

    fn no_such_table(err: &rusqlite::Error) -> bool {
        err.to_string().contains("no such table")
    }

    fn busy(err: &rusqlite::Error) -> bool {
        is_busy(err)
    }

    fn state_table_query(table: &str, _schema: Option<&str>) -> String {
        format!(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{}'",
            table.replace('\'', "''")
        )
    }

    /// SQLite has no statement timeout, and the one lock a migration
    /// waits for, the write lock, is the run's busy timeout.
    fn around(
        &self,
        timeouts: crate::core::timeout::Timeouts,
        _in_transaction: bool,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        match timeouts == Default::default() {
            true => Ok((Vec::new(), Vec::new())),
            false => Err(
                "SQLite has no statement timeout, and the one lock a migration waits for, the write \
                          lock, is waited for as long as Settings::lock_timeout says (the run's busy timeout)"
                    .to_string(),
            ),
        }
    }

    fn lock(&mut self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send {
        ready(self.take_lock(timeout))
    }

    fn unlock(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        self.release();
        ready(Ok(()))
    }
}
