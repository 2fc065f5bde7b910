//! `LockMode::Table` on PostgreSQL and MySQL/MariaDB: the migration lock as
//! a row of `<table>_lock` naming its holder and an expiry in the server's
//! clock, instead of a lock that belongs to a server connection.
//!
//! Every statement is one short transaction of its own, sent as plain text
//! (no prepared statement, no session setting): behind a pooler that gives
//! each transaction whichever server connection is free (PgBouncer in
//! transaction mode), nothing here depends on meeting the same one twice.
//!
//! - **Taking it** is an upsert that writes this session's owner and expiry
//!   only where the row is free, its own or expired (the row's lock makes
//!   two takers of an expired row wait for each other), then reading the
//!   row back: the owner read is the holder.
//! - **Holding it** is a lease (lease.rs): a heartbeat on a connection of
//!   its own renews the expiry every third of the lease, so a migration of
//!   any length keeps it while the holder lives, and the row of a holder
//!   that died (SIGKILL, a lost pod) expires and is taken over.
//! - **Releasing it** deletes the row where it is still this session's. A
//!   session dropped without releasing (a cancelled run) stops renewing it,
//!   and it expires within a lease: its last statement may still be running
//!   on the server, as a killed holder's may.
//!
//! What is not guaranteed: a holder stopped for longer than its lease (a
//! debugger, a frozen VM) loses the lock; its next change then stops with
//! an error instead of writing without it.

use super::text::SqlText;
use crate::backend::BoxFuture;
use crate::core::split::Dialect;
use crate::lease::{lease_for, owner_id, Heartbeat, Renewal};
use crate::sql::compat::{self, assert_sql_safe};
use crate::{Error, Settings};
use sqlx::{ColumnIndex, ConnectOptions, Connection, Decode, Row, Type};
use std::time::{Duration, Instant};

/// How often a waiter tries again.
const POLL: Duration = Duration::from_millis(100);

const OPERATION: &str = "taking the migration lock";

/// The statements of the lock row, as plain text with literal values.
#[derive(Clone)]
struct LockSql {
    dialect: Dialect,
    schema: Option<String>,
    table: String,
    owner: String,
}

impl LockSql {
    fn new(dialect: Dialect, settings: &Settings, owner: String) -> Self {
        LockSql {
            dialect,
            schema: settings.schema_name().map(|schema| dialect.quote(schema)),
            table: dialect.qualified(settings.schema_name(), &format!("{}_lock", settings.table_name())),
            owner: dialect.literal(&owner),
        }
    }

    /// The schema (a database on MySQL) and the table, each idempotent.
    fn create(&self) -> Vec<String> {
        let LockSql { table, .. } = self;
        let mut statements = Vec::new();
        match (self.dialect, &self.schema) {
            (Dialect::MySql, Some(schema)) => statements.push(format!("CREATE DATABASE IF NOT EXISTS {schema}")),
            (_, Some(schema)) => statements.push(format!("CREATE SCHEMA IF NOT EXISTS {schema}")),
            (_, None) => {}
        }
        statements.push(match self.dialect {
            Dialect::MySql => format!(
                "CREATE TABLE IF NOT EXISTS {table} (id INT PRIMARY KEY, owner VARCHAR(255) NOT NULL, \
                 acquired_at DATETIME(6) NOT NULL, expires_at DATETIME(6) NOT NULL)"
            ),
            _ => format!(
                "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, \
                 acquired_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)"
            ),
        });
        statements
    }

    /// The server's clock now, and a lease from now.
    fn now_and_expiry(&self, lease: Duration) -> (&'static str, String) {
        let micros = lease.as_micros();
        match self.dialect {
            Dialect::MySql => (
                "UTC_TIMESTAMP(6)",
                format!("UTC_TIMESTAMP(6) + INTERVAL {micros} MICROSECOND"),
            ),
            _ => (
                "clock_timestamp()",
                format!("clock_timestamp() + interval '{micros} microseconds'"),
            ),
        }
    }

    /// Writes this session's owner and expiry where the row is free, its
    /// own or expired; leaves another holder's row as it is.
    fn take(&self, lease: Duration) -> String {
        let LockSql { table, owner, .. } = self;
        let (now, expiry) = self.now_and_expiry(lease);
        match self.dialect {
            // The owner first: the assignments after it read its new value.
            Dialect::MySql => format!(
                "INSERT INTO {table} (id, owner, acquired_at, expires_at) VALUES (1, {owner}, {now}, {expiry}) \
                 ON DUPLICATE KEY UPDATE owner = IF(owner = {owner} OR expires_at < {now}, {owner}, owner), \
                 acquired_at = IF(owner = {owner}, {now}, acquired_at), \
                 expires_at = IF(owner = {owner}, {expiry}, expires_at)"
            ),
            _ => format!(
                "INSERT INTO {table} AS l (id, owner, acquired_at, expires_at) VALUES (1, {owner}, {now}, {expiry}) \
                 ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, acquired_at = EXCLUDED.acquired_at, \
                 expires_at = EXCLUDED.expires_at WHERE l.owner = EXCLUDED.owner OR l.expires_at < {now}"
            ),
        }
    }

    /// The holder, since when and until when, as text.
    fn read(&self) -> String {
        let table = &self.table;
        match self.dialect {
            Dialect::MySql => {
                format!("SELECT owner, CAST(acquired_at AS CHAR), CAST(expires_at AS CHAR) FROM {table} WHERE id = 1")
            }
            _ => format!("SELECT owner, acquired_at::text, expires_at::text FROM {table} WHERE id = 1"),
        }
    }

    fn renew(&self, lease: Duration) -> String {
        let LockSql { table, owner, .. } = self;
        let (_, expiry) = self.now_and_expiry(lease);
        format!("UPDATE {table} SET expires_at = {expiry} WHERE id = 1 AND owner = {owner}")
    }

    fn release(&self) -> String {
        let LockSql { table, owner, .. } = self;
        format!("DELETE FROM {table} WHERE id = 1 AND owner = {owner}")
    }
}

/// The row as read: its owner, and since and until when it holds it.
struct LockRow {
    owner: String,
    acquired_at: String,
    expires_at: String,
}

async fn execute<DB>(conn: &mut DB::Connection, statement: String) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    compat::raw_sql(assert_sql_safe!(statement)).execute(&mut *conn).await?;
    Ok(())
}

async fn read_row<DB>(conn: &mut DB::Connection, sql: &LockSql) -> Result<Option<LockRow>, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
{
    let row = compat::raw_sql(assert_sql_safe!(sql.read()))
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        Ok(LockRow {
            owner: row.try_get(0)?,
            acquired_at: row.try_get(1)?,
            expires_at: row.try_get(2)?,
        })
    })
    .transpose()
}

/// The lock of one session's run, in `LockMode::Table`.
pub(crate) struct TableLock<DB: sqlx::Database> {
    sql: LockSql,
    /// The owner, unquoted, as the holder is named.
    owner: String,
    /// How the heartbeat's own connection (and a release after a cancelled
    /// run) reaches the server: the user's pool's options.
    options: <DB::Connection as Connection>::Options,
    backend: &'static str,
    message: fn(&sqlx::Error) -> String,
    /// Set while the lock is held. Dropped with the session (a cancelled
    /// run), it stops renewing, and the row expires within a lease: not
    /// deleted at once, because the cancelled run's last statement may
    /// still be running on the server.
    heartbeat: Option<Heartbeat>,
}

impl<DB> TableLock<DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
{
    /// The lock of `settings`' tables; `message` is the backend's words for
    /// a driver error.
    pub(crate) fn new(
        dialect: Dialect,
        settings: &Settings,
        options: <DB::Connection as Connection>::Options,
        backend: &'static str,
        message: fn(&sqlx::Error) -> String,
    ) -> Self {
        let owner = owner_id();
        TableLock {
            sql: LockSql::new(dialect, settings, owner.clone()),
            owner,
            options,
            backend,
            message,
            heartbeat: None,
        }
    }

    fn db_err(&self, operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
        move |err| Error::database(self.backend, operation, (self.message)(&err)).with_source(err)
    }

    /// Takes the lock, waiting at most `timeout`; names the holder when the
    /// wait runs out.
    pub(crate) async fn take(&mut self, conn: &mut DB::Connection, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let lease = lease_for(timeout);
        self.create(conn).await?;
        loop {
            execute::<DB>(conn, self.sql.take(lease))
                .await
                .map_err(self.db_err(OPERATION))?;
            let row = read_row::<DB>(conn, &self.sql).await.map_err(self.db_err(OPERATION))?;
            let waited = started.elapsed();
            match row {
                Some(row) if row.owner == self.owner => return self.hold(conn, lease).await,
                // Released between the two statements: try again at once.
                None if waited < timeout => continue,
                Some(_) if waited < timeout => tokio::time::sleep(POLL.min(timeout - waited)).await,
                row => {
                    return Err(Error::LockTimeout {
                        backend: self.backend,
                        waited,
                        holder: row.map(|row| self.describe(row)),
                    })
                }
            }
        }
    }

    /// Creates the lock table. Two sessions creating it at once can race
    /// in the catalog (PostgreSQL answers one with a unique violation):
    /// once the table is there, that failure is harmless.
    async fn create(&self, conn: &mut DB::Connection) -> Result<(), Error> {
        for statement in self.sql.create() {
            if let Err(err) = execute::<DB>(conn, statement).await {
                if read_row::<DB>(conn, &self.sql).await.is_err() {
                    return Err(self.db_err("creating the migration lock table")(err));
                }
            }
        }
        Ok(())
    }

    /// The row is ours: its lease is renewed from now on, on a connection
    /// of its own (the session's is busy with a migration). Without one,
    /// the lock is given back: held unrenewed, it would expire under a
    /// long migration.
    async fn hold(&mut self, conn: &mut DB::Connection, lease: Duration) -> Result<(), Error> {
        let renewing = match self.options.connect().await {
            Ok(renewing) => renewing,
            Err(err) => {
                let failed = self.db_err("opening the connection that renews the migration lock")(err);
                if let Err(release) = execute::<DB>(conn, self.sql.release()).await {
                    tracing::warn!(error = %release, "releasing the migration lock; it expires after its lease");
                }
                return Err(failed);
            }
        };
        let sql = self.sql.clone();
        let owner = self.owner.clone();
        let what = "migration lock row";
        self.heartbeat = Some(Heartbeat::start(what, lease, renewing, move |conn| {
            let (renew, sql, owner) = (sql.renew(lease), sql.clone(), owner.clone());
            Box::pin(async move {
                let renewed = async {
                    execute::<DB>(conn, renew).await?;
                    read_row::<DB>(conn, &sql).await
                };
                match renewed.await {
                    Ok(Some(row)) if row.owner == owner => Renewal::Renewed,
                    Ok(_) => Renewal::Lost,
                    Err(err) => Renewal::Failed(err.to_string()),
                }
            }) as BoxFuture<'_, Renewal>
        }));
        Ok(())
    }

    /// The holder as the timeout names it, with how to free the lock.
    fn describe(&self, row: LockRow) -> String {
        format!(
            "`{}` (the row of {}, taken at {}, expires at {} unless renewed; if that process is gone, it is \
             taken over then, or at once after: DELETE FROM {})",
            row.owner, self.sql.table, row.acquired_at, row.expires_at, self.sql.table
        )
    }

    /// Stops a change when the lease ran out and another process took the
    /// lock over since.
    pub(crate) fn guard(&self) -> Result<(), Error> {
        match &self.heartbeat {
            Some(heartbeat) if heartbeat.lost() => Err(Error::database(
                self.backend,
                "writing under the migration lock",
                "the lock row's lease expired and another process took it over; nothing more was written",
            )),
            _ => Ok(()),
        }
    }

    /// Deletes the row where it is still ours. A failed delete leaves it
    /// to expire within a lease.
    pub(crate) async fn release(&mut self, conn: &mut DB::Connection) -> Result<(), Error> {
        if self.heartbeat.take().is_none() {
            return Ok(());
        }
        if let Err(err) = execute::<DB>(conn, self.sql.release()).await {
            tracing::warn!(error = %err, "releasing the migration lock row failed; it expires after its lease");
        }
        Ok(())
    }
}
