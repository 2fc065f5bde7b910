//! A session on one sqlx connection, and the trait through which each sqlx
//! database says what differs: its transactions, its lock, its catalog and
//! its error messages. Everything else a session does is written once, for
//! all three (apply.rs, transaction.rs, dirty.rs, batches.rs, and the
//! `Session` impl in contract.rs).

use super::checkpoint::CheckpointIo;
use super::dirty_io::DirtyIo;
use super::io::TrackingIo;
use super::tracking::TrackingSql;
use crate::backend::{BoxFuture, Change, GroupApply, Provision, Session};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::error::CorruptChecksum;
use crate::{Error, Settings, Timeout};
use sqlx::pool::PoolConnection;
use std::future::Future;
use std::time::Duration;

/// What gives a change's statements their timeouts (`SqlBackend::timeout_statements`).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
#[derive(Default)]
pub(crate) struct TimeoutStatements {
    /// Before the change's statements.
    pub set: Vec<String>,
    /// After them, where the change's transaction does not end them.
    pub reset: Vec<String>,
}

/// The timeouts of `change` as the database takes them, or an error
/// naming its file when the database has none.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn timeouts_for<B: SqlBackend>(
    sql: &TrackingSql,
    change: &Change<'_>,
    in_transaction: bool,
) -> Result<(Timeouts, TimeoutStatements), Error> {
    let script = change.migration.script(change.direction);
    let timeouts = sql.timeouts_of(script);
    let statements = B::timeout_statements(timeouts, in_transaction).map_err(|why| Error::Unsupported {
        backend: B::NAME,
        what: format!(
            "the timeouts of `{}` (`migrate:timeout`, or Settings::statement_timeout and \
             Settings::statement_lock_timeout): {why}",
            script.file
        ),
    })?;
    Ok((timeouts, statements))
}

/// `failed`, a statement's failure from `err`, as `TimedOut` when one of
/// `timeouts` stopped it. (Its source is set here, inside.)
pub(crate) fn mark_timeout<B: SqlBackend>(failed: Error, err: sqlx::Error, timeouts: Timeouts) -> Error {
    match B::timed_out(&err, timeouts) {
        Some(timeout) => Error::TimedOut {
            timeout,
            error: Box::new(failed.with_source(err)),
        },
        None => failed.with_source(err),
    }
}

/// A connection of the backend's sqlx database.
pub(crate) type Connection<B> = <<B as SqlBackend>::DB as sqlx::Database>::Connection;

/// What differs between the sqlx databases: transactions, locks, the
/// catalog and error messages. [`SqlSession`] is everything else, once.
/// The implementing type is also the session's backend-specific state (the
/// lock held, a setting to restore).
pub(crate) trait SqlBackend: Send + Sized + 'static {
    type DB: TrackingIo + CheckpointIo + DirtyIo;
    const NAME: &'static str;
    const DIALECT: Dialect;
    /// Whether DDL is transactional: what a dry run says of a file (group
    /// mode is what [`SqlBackend::group`] hands out).
    const TRANSACTIONAL_DDL: bool;
    /// Whether a migration's transaction, rolled back, takes back whatever
    /// its statements changed in the session (PostgreSQL's `SET` is
    /// transactional; a SQLite `PRAGMA` is not): then a failure rolled
    /// back leaves the session in no doubt.
    const ROLLBACK_RESTORES_SESSION: bool = false;

    /// The database's own words for `err`, with its codes where it has them.
    fn message(err: &sqlx::Error) -> String {
        database_message(err)
    }

    /// The line of the file a failed statement's error points at.
    fn error_line(_err: &sqlx::Error, _statement: &str, first_line: usize) -> usize {
        first_line
    }

    /// Whether `err`, from reading the state, is the database saying that
    /// the table does not exist: that settles what `state_table_exists`
    /// would be asked, one round trip fewer on a database's first run.
    fn no_such_table(err: &sqlx::Error) -> bool;

    /// Whether the state table exists: asked when reading it failed, to tell
    /// "no tracking tables yet" from a real error.
    fn state_table_exists(session: &mut SqlSession<Self>) -> impl Future<Output = Result<bool, Error>> + Send;

    /// A transaction for tracking writes.
    fn begin(
        conn: &mut Connection<Self>,
    ) -> impl Future<Output = Result<sqlx::Transaction<'_, Self::DB>, Error>> + Send {
        async move {
            sqlx::Connection::begin(conn).await.map_err(|err| {
                Error::database(Self::NAME, "beginning a transaction", Self::message(&err)).with_source(err)
            })
        }
    }

    /// Runs in each migration's transaction before its statements
    /// (PostgreSQL: the tracking schema onto the search path).
    fn enter_transaction(
        conn: &mut Connection<Self>,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (conn, sql);
        async { Ok(()) }
    }

    /// The statements that give a change's statements `timeouts` (see
    /// `Settings::statement_timeout`), run just before them, and those that
    /// take them back after (none where the change's transaction ends them:
    /// `in_transaction`). Nothing when `timeouts` sets none; the reason when
    /// the database has no such timeout.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    fn timeout_statements(timeouts: Timeouts, in_transaction: bool) -> Result<TimeoutStatements, String> {
        let _ = in_transaction;
        match timeouts == Timeouts::default() {
            true => Ok(TimeoutStatements::default()),
            false => Err(format!("{} has no per-statement timeout to set", Self::NAME)),
        }
    }

    /// Which of `timeouts` the database stopped a statement at with `err`.
    fn timed_out(err: &sqlx::Error, timeouts: Timeouts) -> Option<Timeout> {
        let _ = (err, timeouts);
        None
    }

    /// Creates the tracking tables that are missing (the columns an older
    /// release lacks are added after, once for all three).
    fn create_tracking(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn lock(session: &mut SqlSession<Self>, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;
    fn unlock(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn apply<'a>(
        session: &'a mut SqlSession<Self>,
        change: &'a Change<'a>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// Group mode, where DDL is transactional: the session itself (its
    /// `GroupApply` is in transaction.rs); `None` elsewhere.
    fn group(session: &mut SqlSession<Self>) -> Option<&mut dyn GroupApply>;

    /// A database with nothing applied provisioned in one transaction,
    /// where DDL is transactional: the session itself (its `Provision` is
    /// in transaction.rs); `None` elsewhere.
    fn provision(session: &mut SqlSession<Self>) -> Option<&mut dyn Provision>;

    /// Writes a backup of the whole database to `backup.path()` before a
    /// `down` reverts anything: SQLite's `VACUUM INTO` on the session's
    /// connection, a dump program (`pg_dump`, `mariadb-dump`) connecting
    /// with the pool's options elsewhere.
    fn backup<'a>(
        session: &'a mut SqlSession<Self>,
        backup: &'a crate::Backup,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// Puts the session back as the pool handed it out, once it is in doubt
    /// ([`SqlSession::doubtful`]: a change failed, was cancelled, or ran
    /// outside a transaction, where a file may have left a transaction open
    /// or changed a session setting): no transaction open, the settings the
    /// session began with. True when that is known to hold; otherwise the
    /// connection is closed rather than handed back to the pool.
    fn restore_session(session: &mut SqlSession<Self>) -> impl Future<Output = bool> + Send;

    /// Whether the connection must be closed rather than handed back to the
    /// pool: a lock or session setting whose release was not confirmed.
    fn must_close(&self) -> bool {
        false
    }

    /// Called when the session is dropped with its connection (unless
    /// `must_close`): a backend that changed a session setting and was
    /// dropped before giving it back (a cancelled run) takes the connection
    /// to restore it first. A session still in doubt (`doubtful`) is
    /// closed, unless the backend can restore it here.
    fn on_drop(&mut self, conn: &mut Option<PoolConnection<Self::DB>>, doubtful: bool) {
        if let (true, Some(conn)) = (doubtful, conn.as_mut()) {
            conn.close_on_drop();
        }
    }
}

/// The session's pooled connection, taken out only when the session is
/// dropped (to restore a setting first, see [`SqlBackend::on_drop`]).
pub(crate) struct Pooled<DB: sqlx::Database>(Option<PoolConnection<DB>>);

impl<DB: sqlx::Database> std::ops::Deref for Pooled<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        self.0.as_ref().expect("the connection is taken only on drop")
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for Pooled<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.0.as_mut().expect("the connection is taken only on drop")
    }
}

/// One sqlx connection of the user's pool, for one operation.
pub(crate) struct SqlSession<B: SqlBackend> {
    pub conn: Pooled<B::DB>,
    pub sql: TrackingSql,
    pub backend: B,
    /// The session may differ from what the pool handed out: a change
    /// failed or was cancelled midway, or ran outside a transaction. Until
    /// [`SqlBackend::restore_session`] says it is as it was, the
    /// connection is not handed back to the pool.
    pub doubtful: bool,
    /// The next transaction creates the tracking tables (and their schema)
    /// before anything else: a database provisioned from nothing in one
    /// transaction (sql/transaction.rs: `Provision`; never on MySQL).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub create_first: bool,
    /// The pool's connect options: where a dump program connects to
    /// write the backup before a `down` ([`SqlBackend::backup`]).
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub connect: std::sync::Arc<<Connection<B> as sqlx::Connection>::Options>,
}

impl<B: SqlBackend> Drop for SqlSession<B> {
    fn drop(&mut self) {
        if self.backend.must_close() {
            // Back in the pool, this connection would keep the lock (or the
            // changed setting, or a transaction) for whoever takes it next;
            // closed, the server releases everything the session held.
            if let Some(conn) = self.conn.0.as_mut() {
                conn.close_on_drop();
            }
            return;
        }
        self.backend.on_drop(&mut self.conn.0, self.doubtful);
    }
}

/// How long `acquire` waits for the pool before it asks the server itself
/// why no connection comes, and how long that one attempt may take.
const PROBE_AFTER: Duration = Duration::from_secs(1);
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection of `pool`. sqlx retries an unreachable server until the
/// pool's acquire timeout (30 s by default) and then says only "timed out";
/// so when none comes within [`PROBE_AFTER`] while the pool has room for
/// more (it is not merely busy), one direct connection with the
/// pool's own options, bounded by [`PROBE_TIMEOUT`], tells the cause: refused,
/// name not resolved, TLS, authentication. Reachable, the wait goes on.
async fn acquire<B: SqlBackend>(pool: &sqlx::Pool<B::DB>) -> Result<PoolConnection<B::DB>, Error> {
    use sqlx::ConnectOptions;
    let acquire = pool.acquire();
    tokio::pin!(acquire);
    tokio::select! {
        result = &mut acquire => return result.map_err(connect_error::<B>),
        _ = tokio::time::sleep(PROBE_AFTER) => {}
    }
    // With room for another connection, the wait is for opening one (sqlx
    // counts the attempt in `size`), not for a busy pool.
    if pool.size() < pool.options().get_max_connections() {
        let options = pool.connect_options();
        match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
            Ok(Err(err)) => {
                let message = format!("the server could not be reached: {}", B::message(&err));
                return Err(Error::database(B::NAME, "connecting", message).with_source(err));
            }
            Ok(Ok(conn)) => {
                if let Err(err) = sqlx::Connection::close(conn).await {
                    tracing::debug!(error = %err, "closing the probe connection");
                }
            }
            Err(_) => tracing::debug!("the probe connection did not finish within {PROBE_TIMEOUT:?}"),
        }
    }
    acquire.await.map_err(connect_error::<B>)
}

/// sqlx reports a server that never answered as a pool timeout, which
/// alone does not say where to look.
fn connect_error<B: SqlBackend>(err: sqlx::Error) -> Error {
    let message = match err {
        sqlx::Error::PoolTimedOut => "no connection within the pool's acquire timeout: the server is down or \
                                      unreachable, or every connection of the pool is in use"
            .to_string(),
        ref other => B::message(other),
    };
    Error::database(B::NAME, "connecting", message).with_source(err)
}

/// The outcome of asking the server to release the migration lock: whether
/// it is free now. A release that failed leaves it counted as held, so the
/// connection is closed on drop and the server frees the lock.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn lock_released(result: Result<bool, sqlx::Error>) -> bool {
    match result {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("the migration lock was no longer held by this connection when releasing it");
            true
        }
        Err(err) => {
            tracing::warn!(error = %err, "releasing the migration lock failed; closing the connection instead");
            false
        }
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Takes a connection from `pool`.
    pub(crate) fn open<'a>(
        pool: &'a sqlx::Pool<B::DB>,
        settings: &'a Settings,
        backend: B,
    ) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move {
            let conn = acquire::<B>(pool).await?;
            let session: Box<dyn Session + 'a> = Box::new(SqlSession {
                conn: Pooled(Some(conn)),
                sql: TrackingSql::new(B::DIALECT, settings),
                backend,
                doubtful: false,
                create_first: false,
                connect: pool.connect_options(),
            });
            Ok(session)
        })
    }

    /// A driver error as ours (see [`driver_error`]).
    pub(crate) fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
        driver_error(B::NAME, B::message, operation)
    }
}

/// The database's own message for `err`, or the driver's where the
/// database said nothing.
pub(crate) fn database_message(err: &sqlx::Error) -> String {
    match err.as_database_error() {
        Some(db) => db.message().to_string(),
        None => err.to_string(),
    }
}

/// A driver error of database `name` as ours, in the database's own words
/// (`message`); a checksum that did not decode is `CorruptChecksum`,
/// naming the row and the text.
pub(crate) fn driver_error<'o>(
    name: &'static str,
    message: fn(&sqlx::Error) -> String,
    operation: &'o str,
) -> impl FnOnce(sqlx::Error) -> Error + 'o {
    move |err| match err {
        sqlx::Error::Decode(inner) => match inner.downcast::<CorruptChecksum>() {
            Ok(corrupt) => corrupt.into_error(name),
            Err(inner) => {
                let err = sqlx::Error::Decode(inner);
                Error::database(name, operation, message(&err)).with_source(err)
            }
        },
        err => Error::database(name, operation, message(&err)).with_source(err),
    }
}
