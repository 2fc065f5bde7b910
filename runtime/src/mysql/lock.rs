//! The migration lock on MySQL and MariaDB: `GET_LOCK`, whose name is
//! derived from the database and the tracking table. The lock belongs to
//! the connection, and the connection to the user's pool: whenever its
//! release cannot be confirmed, the connection is closed instead of being
//! handed back, and the server releases the lock with the session.

use super::errors::{db_err, NAME};
use crate::sql::session::lock_released;
use crate::Error;
use sqlx::mysql::MySqlConnection;
use sqlx::Row;
use std::time::{Duration, Instant};

/// The lock of one session's run.
pub(super) struct NamedLock {
    /// Unquoted names, for the catalog queries.
    pub schema: Option<String>,
    pub table: String,
    /// Set while the lock is held (or its release was not confirmed).
    pub name: Option<String>,
}

impl NamedLock {
    /// Takes the lock, waiting at most `timeout`; names the holder when the
    /// wait runs out.
    pub(super) async fn take(&mut self, conn: &mut MySqlConnection, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let database = self.tracking_database(conn).await?;
        // Lock names are server-wide and at most 64 characters.
        let digest = crate::core::checksum(&format!("{database}.{}", self.table));
        let name = format!("embedded_migrations.{}", &digest.to_hex()[..24]);
        // Set before the wait: a run dropped while GET_LOCK is in flight
        // (the server may still grant it) must close its connection, not
        // hand it back to the pool holding the lock. (Found by the
        // cancellation test: the next run timed out on a pooled, idle
        // connection that held the lock.)
        self.name = Some(name.clone());
        let got: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, ?) AS SIGNED)")
            .bind(&name)
            // A year is "forever" here, and keeps the value in the range the server takes.
            .bind(timeout.as_secs_f64().min(31_536_000.0))
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err("taking the migration lock"))?;
        if got != Some(1) {
            self.name = None;
        }
        match got {
            Some(1) => Ok(()),
            Some(_) => Err(Error::LockTimeout {
                backend: NAME,
                waited: started.elapsed(),
                holder: holder(conn, &name).await,
            }),
            None => Err(Error::database(
                NAME,
                "taking the migration lock",
                "GET_LOCK returned NULL (the wait was interrupted or the server ran out of memory)",
            )),
        }
    }

    pub(super) async fn release(&mut self, conn: &mut MySqlConnection) -> Result<(), Error> {
        let Some(name) = &self.name else {
            return Ok(());
        };
        let released = sqlx::query_scalar::<_, Option<i64>>("SELECT CAST(RELEASE_LOCK(?) AS SIGNED)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .map(|released| released == Some(1));
        if lock_released(released) {
            self.name = None;
        }
        Ok(())
    }

    /// The database the tracking tables are in.
    async fn tracking_database(&self, conn: &mut MySqlConnection) -> Result<String, Error> {
        if let Some(schema) = &self.schema {
            return Ok(schema.clone());
        }
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err("reading the current database"))?;
        database.ok_or_else(|| Error::InvalidSettings {
            message: "the MySQL connection has no default database: put one in the connection URL \
                      (mysql://host/database) or name one with Settings::schema"
                .to_string(),
        })
    }
}

/// Who holds the lock, for the timeout error.
async fn holder(conn: &mut MySqlConnection, name: &str) -> Option<String> {
    let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .ok()?;
    let id = id?;
    let row = sqlx::query(
        "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR), CAST(COALESCE(DB, '') AS CHAR), \
         CAST(COMMAND AS CHAR), CAST(TIME AS SIGNED) FROM information_schema.PROCESSLIST WHERE ID = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await;
    match row {
        Ok(Some(row)) => {
            let user: String = row.try_get(0).ok()?;
            let host: String = row.try_get(1).ok()?;
            let db: String = row.try_get(2).ok()?;
            let command: String = row.try_get(3).ok()?;
            let seconds: i64 = row.try_get(4).ok()?;
            Some(format!(
                "connection {id} (user {user}, client {host}, database {db}, {command} for {seconds}s)"
            ))
        }
        Ok(None) => Some(format!("connection {id}")),
        Err(err) => {
            tracing::debug!(error = %err, "could not read the process list");
            Some(format!("connection {id}"))
        }
    }
}
