//! What SQLite does its own way behind `SqlSession`: the write lock as the
//! transaction, the file lock for a run, the catalog, and the batch
//! through `sqlite3_exec`.

use super::batch::{timed_work, EndedAt};
use super::errors::{self, begin_failed, is_busy, lock_timeout, NAME};
use super::exec::{self, c_text, exec, TxFailure};
use super::lock::RunLock;
use super::transaction::{begin_immediate, in_write_transaction};
use crate::backend::{Change, GroupApply, Provision};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::sql::dirty::TransactionProbe;
use crate::sql::script::join_statements;
use crate::sql::session::{timeouts_for, SqlBackend, SqlSession, TimeoutStatements};
use crate::sql::transaction::{BatchFailure, TransactionalBatch};
use crate::Error;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use std::time::{Duration, Instant};

/// A session's SQLite state: its run's lock.
#[derive(Default)]
pub(crate) struct SqliteBackend {
    lock: RunLock,
}

type SqliteSession = SqlSession<SqliteBackend>;

impl SqlBackend for SqliteBackend {
    type DB = Sqlite;
    const NAME: &'static str = NAME;
    const DIALECT: Dialect = Dialect::Sqlite;
    const TRANSACTIONAL_DDL: bool = true;

    fn no_such_table(err: &sqlx::Error) -> bool {
        errors::no_such_table(err)
    }

    async fn state_table_exists(session: &mut SqliteSession) -> Result<bool, Error> {
        let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(format!("{}_state", session.sql.table.trim_matches('"')))
            .fetch_one(&mut *session.conn)
            .await
            .map_err(SqliteSession::db_err("reading the state"))?;
        Ok(exists > 0)
    }

    async fn begin(conn: &mut SqliteConnection) -> Result<sqlx::Transaction<'_, Sqlite>, Error> {
        begin_immediate(conn).await
    }

    /// Creating the tracking tables is the first write, so on a database
    /// whose write lock another connection holds it is what waits (the busy
    /// timeout `lock` set): running out of it is the lock timeout, not a
    /// database failure. The tables are created in one transaction: one
    /// commit (one journal sync) on a new database, not one per table.
    async fn create_tracking(session: &mut SqliteSession) -> Result<(), Error> {
        let started = Instant::now();
        let create = c_text(join_statements(session.sql.create()))
            .map_err(SqliteSession::db_err("creating the tracking tables"))?;
        let busy = session.backend.lock.busy_timeout_ms;
        match in_write_transaction(&mut session.conn, busy, |db| exec(db, &create)).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Begin(err)) => Err(begin_failed(err, started)),
            Err(TxFailure::Work(err) | TxFailure::Commit(err)) if is_busy(&err) => Err(lock_timeout(started)),
            Err(TxFailure::Work(err) | TxFailure::Commit(err)) => {
                Err(SqliteSession::db_err("creating the tracking tables")(err))
            }
        }
    }

    /// Each change takes the database's write lock, and its wait for it is
    /// the busy timeout, set here to the lock timeout (lock.rs); the pool's
    /// own is given back in `unlock`.
    async fn lock(session: &mut SqliteSession, timeout: Duration) -> Result<(), Error> {
        session.backend.lock.take(&mut session.conn, timeout).await
    }

    async fn unlock(session: &mut SqliteSession) -> Result<(), Error> {
        session.backend.lock.release(&mut session.conn).await
    }

    /// Rolls back a transaction left open and sets back each setting of
    /// `exec::SESSION_PRAGMAS` a file changed, to what the run's lock read:
    /// closing would lose an in-memory database, so SQLite restores.
    async fn restore_session(session: &mut SqliteSession) -> bool {
        match &session.backend.lock.pragmas {
            Some(pragmas) => exec::restore_session(&mut session.conn, pragmas).await,
            None => false,
        }
    }

    fn on_drop(&mut self, conn: &mut Option<PoolConnection<Sqlite>>, doubtful: bool) {
        self.lock.restore_on_drop(conn, doubtful);
    }

    /// SQLite has no statement timeout, and a migration's one lock wait,
    /// for the write lock, is the run's busy timeout: `Settings::lock_timeout`.
    fn timeout_statements(timeouts: Timeouts, _in_transaction: bool) -> Result<TimeoutStatements, String> {
        match timeouts == Timeouts::default() {
            true => Ok(TimeoutStatements::default()),
            false => Err(
                "SQLite has no statement timeout, and the one lock a migration waits for, the write lock, \
                          is waited for as long as Settings::lock_timeout says (the run's busy timeout)"
                    .to_string(),
            ),
        }
    }

    async fn apply<'a>(session: &'a mut SqliteSession, change: &'a Change<'a>) -> Result<(), Error> {
        // Refused before anything runs (the default `timeout_statements`).
        timeouts_for::<Self>(&session.sql, change, true)?;
        if change.migration.script(change.direction).no_transaction {
            session.apply_marked(change).await
        } else {
            session.apply_batched(std::slice::from_ref(change)).await
        }
    }

    fn group(session: &mut SqliteSession) -> Option<&mut dyn GroupApply> {
        Some(session)
    }

    fn provision(session: &mut SqliteSession) -> Option<&mut dyn Provision> {
        Some(session)
    }

    async fn backup<'a>(session: &'a mut SqliteSession, backup: &'a crate::Backup) -> Result<(), Error> {
        super::backup::vacuum_into(session, backup).await
    }
}

impl TransactionalBatch for SqliteBackend {
    /// Only in group mode: one transaction holds the file's write lock for
    /// the whole first run, which group mode asks for.
    const PROVISION_BY_DEFAULT: bool = false;

    /// The batch in a `BEGIN IMMEDIATE` transaction (a busy database is a
    /// lock timeout), handed to SQLite and timed by the client, all with
    /// the handle borrowed once (batch.rs).
    async fn run_in_transaction<'a>(
        session: &'a mut SqliteSession,
        changes: &'a [Change<'a>],
    ) -> Result<(), BatchFailure> {
        // A group or a provisioning run: refused as one change is.
        for change in changes {
            timeouts_for::<Self>(&session.sql, change, true)?;
        }
        let committed = if changes.len() == 1 {
            "committing the migration"
        } else {
            "committing the migrations"
        };
        let started = Instant::now();
        let ended = EndedAt::default();
        let creation = session.creation();
        let work = timed_work(&session.sql, changes, &ended, &creation).map_err(BatchFailure::RolledBack)?;
        let busy = session.backend.lock.busy_timeout_ms;
        match in_write_transaction(&mut session.conn, busy, work).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Begin(err)) => Err(begin_failed(err, started).into()),
            Err(TxFailure::Work(err)) => match ended.into_inner().ok().flatten() {
                Some((change, statement)) => Err(BatchFailure::Ended {
                    change: Some(change),
                    statement: Some(statement),
                    after: None,
                }),
                None => Err(BatchFailure::RolledBack(err)),
            },
            Err(TxFailure::Commit(err)) => Err(SqliteSession::db_err(committed)(err).into()),
        }
    }
}

impl TransactionProbe for SqliteBackend {
    async fn in_transaction(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
        exec::connection_in_transaction(conn).await
    }
}
