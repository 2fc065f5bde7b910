//! The migration lock on PostgreSQL: a session advisory lock whose key is
//! derived from the tracking table's schema and name.
//!
//! A session lock outlives any transaction but not the connection, and the
//! connection comes from the user's pool: handed back with the lock still
//! held, it would block every later run. So whenever the release cannot be
//! confirmed (it failed, or the operation was cancelled halfway) the
//! connection is closed instead of being returned, and the server drops the
//! lock with it.
//!
//! Behind a pooler in transaction mode (PgBouncer's `pool_mode =
//! transaction`) the lock would be taken on one server connection and
//! released on another, or never: `take` looks for one first
//! (`transaction_pooling`) and refuses, naming `LockMode::Table`.

use super::errors::{code_of, db_err, LOCK_NOT_AVAILABLE, NAME};
use crate::sql::compat::{self, assert_sql_safe};
use crate::sql::session::lock_released;
use crate::sql::tracking::TrackingSql;
use crate::Error;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::time::{Duration, Instant};

/// The lock of one session's run.
pub(super) struct AdvisoryLock {
    /// The configured schema and table, unquoted.
    schema: Option<String>,
    table: String,
    /// Set by `take`, from the schema the tables resolve to.
    key: i64,
    /// The lock is held (or its release was not confirmed).
    pub held: bool,
    /// The session's `lock_timeout` was changed for the wait and not yet restored.
    pub setting_changed: bool,
    /// The pool's options, for the second connection of the pooler check.
    options: PgConnectOptions,
}

impl AdvisoryLock {
    pub(super) fn new(schema: Option<&str>, table: &str, options: PgConnectOptions) -> Self {
        AdvisoryLock {
            schema: schema.map(str::to_string),
            table: table.to_string(),
            key: 0,
            held: false,
            setting_changed: false,
            options,
        }
    }

    /// Takes the lock, waiting at most `timeout`; names the holder when the
    /// wait runs out.
    pub(super) async fn take(&mut self, conn: &mut PgConnection, timeout: Duration) -> Result<(), Error> {
        let started = Instant::now();
        if let Some(evidence) = self.transaction_pooling(conn).await? {
            return Err(Error::InvalidSettings {
                message: format!(
                    "the PostgreSQL connection is pooled per transaction ({evidence}): a session advisory lock \
                     would be taken on one server connection and released on another, or never. Use \
                     Settings::lock_mode(LockMode::Table), whose lock is a row taken and renewed in short \
                     transactions, or connect in session mode"
                ),
            });
        }
        self.key = self.resolved_key(conn).await?;
        let millis = timeout.as_millis().min(i32::MAX as u128);
        // Set before the wait: a run dropped while the lock request is in
        // flight (the server may still grant it) must close its
        // connection, not hand it back to the pool holding the lock.
        self.held = true;
        let acquired = if millis == 0 {
            // lock_timeout 0 would mean "wait forever": try once instead.
            sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(self.key)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err("taking the migration lock"))?
        } else {
            self.wait(conn, millis).await?
        };
        self.held = acquired;
        if acquired {
            return Ok(());
        }
        Err(Error::LockTimeout {
            backend: NAME,
            waited: started.elapsed(),
            holder: self.holder(conn).await,
        })
    }

    /// Whether the session's statements are handed to server connections
    /// one transaction at a time (a pooler in transaction mode), and the
    /// evidence. Only asked where a pooler can be: the server listens on
    /// another port than the one connected to. Then a second connection
    /// opens a transaction, which pins a server connection: a pooler hands
    /// it the session's own backend (idle between two statements), or the
    /// session's next statement lands on another backend. On a direct or
    /// session-pooled connection neither can happen. A second connection
    /// that cannot be had quickly leaves the question unanswered (`None`).
    async fn transaction_pooling(&self, conn: &mut PgConnection) -> Result<Option<String>, Error> {
        const PROBE: Duration = Duration::from_secs(2);
        const PID: &str = "SELECT pg_backend_pid()::text, COALESCE(inet_server_port()::text, '')";
        let read = |row: sqlx::postgres::PgRow| -> Result<(String, String), sqlx::Error> {
            Ok((row.try_get(0)?, row.try_get(1)?))
        };
        // Plain text, no prepared statement: behind such a pooler a
        // prepared statement may itself meet another server connection.
        let row = compat::raw_sql(PID).fetch_one(&mut *conn).await;
        let (first, port) = row.and_then(read).map_err(db_err("looking for a connection pooler"))?;
        if port.is_empty() || port == self.options.get_port().to_string() {
            return Ok(None);
        }
        let pin = async {
            let mut probe = self.options.connect().await?;
            let pinned = compat::raw_sql("BEGIN; SELECT pg_backend_pid()::text, ''")
                .fetch_one(&mut probe)
                .await
                .and_then(read)?;
            Ok::<_, sqlx::Error>((probe, pinned.0))
        };
        let (probe, pinned) = match tokio::time::timeout(PROBE, pin).await {
            Ok(Ok(pinned)) => pinned,
            _ => {
                tracing::debug!("no second connection to look for a connection pooler with; assuming none");
                return Ok(None);
            }
        };
        let second = compat::raw_sql(PID).fetch_one(&mut *conn).await.and_then(read);
        if let Err(err) = probe.close().await {
            tracing::debug!(error = %err, "closing the pooler probe");
        }
        let second = second.map_err(db_err("looking for a connection pooler"))?.0;
        Ok(if pinned == first {
            Some(format!(
                "another connection was handed this session's server backend, pid {first}; the server listens on \
                 port {port}, not {}",
                self.options.get_port()
            ))
        } else if second != first {
            Some(format!(
                "two statements of this session ran on server backends {first} and {second}; the server listens on \
                 port {port}, not {}",
                self.options.get_port()
            ))
        } else {
            None
        })
    }

    /// Releases the lock, after deallocating the run's prepared statement
    /// when it has one (one trip for both: a failed DEALLOCATE skips the
    /// unlock, and the connection is then closed rather than pooled).
    pub(super) async fn release(&mut self, conn: &mut PgConnection, prepared: Option<String>) -> Result<(), Error> {
        if !self.held {
            return Ok(());
        }
        let released = match prepared {
            Some(name) => compat::raw_sql(assert_sql_safe!(format!(
                "DEALLOCATE {name}; SELECT pg_advisory_unlock({})",
                self.key
            )))
            .fetch_one(&mut *conn)
            .await
            .and_then(|row| row.try_get::<bool, _>(0)),
            None => {
                sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
                    .bind(self.key)
                    .fetch_one(&mut *conn)
                    .await
            }
        };
        self.held = !lock_released(released);
        Ok(())
    }

    /// The lock key of the tables the session will use. Without a configured
    /// schema they are in the connection's current schema; a configured schema
    /// that is that same schema names the same tables, so it takes the same key
    /// (the key of no schema, as every release before this one took it for
    /// the default settings). Any other schema keeps a key of its own.
    async fn resolved_key(&self, conn: &mut PgConnection) -> Result<i64, Error> {
        let schema = match &self.schema {
            None => "",
            Some(schema) => {
                let current: Option<String> = sqlx::query_scalar("SELECT current_schema()::text")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err("reading the current schema"))?;
                if current.as_deref() == Some(schema.as_str()) {
                    ""
                } else {
                    schema.as_str()
                }
            }
        };
        Ok(TrackingSql::advisory_key(schema, &self.table))
    }

    /// Waits for the lock until `millis` through the server's own
    /// `lock_timeout` (in queue order, without polling); the session's own
    /// value is put back at once, so that the migrations run with the user's
    /// setting. False when the wait timed out.
    async fn wait(&mut self, conn: &mut PgConnection, millis: u128) -> Result<bool, Error> {
        let previous: String = sqlx::query_scalar("SELECT current_setting('lock_timeout')")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err("reading the lock timeout"))?;
        self.setting_changed = true;
        sqlx::query("SELECT set_config('lock_timeout', $1, false)")
            .bind(format!("{millis}ms"))
            .execute(&mut *conn)
            .await
            .map_err(db_err("setting the lock timeout"))?;
        let waited = sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(self.key)
            .execute(&mut *conn)
            .await;
        let acquired = match waited {
            Ok(_) => {
                self.held = true;
                true
            }
            Err(err) if code_of(&err).as_deref() == Some(LOCK_NOT_AVAILABLE) => false,
            Err(err) => return Err(db_err("taking the migration lock")(err)),
        };
        sqlx::query("SELECT set_config('lock_timeout', $1, false)")
            .bind(previous)
            .execute(&mut *conn)
            .await
            .map_err(db_err("restoring the lock timeout"))?;
        self.setting_changed = false;
        Ok(acquired)
    }

    /// Who holds the lock, for the timeout error.
    async fn holder(&self, conn: &mut PgConnection) -> Option<String> {
        let key = self.key as u64;
        let row = sqlx::query(
            "SELECT a.pid, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local socket'), \
             COALESCE(a.usename::text, ''), COALESCE(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), \
             COALESCE(a.state, '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2 LIMIT 1",
        )
        .bind((key >> 32) as i64)
        .bind((key & 0xffff_ffff) as i64)
        .fetch_optional(&mut *conn)
        .await;
        match row {
            Ok(Some(row)) => Some(describe_holder(&row)?),
            Ok(None) => None,
            Err(err) => {
                tracing::debug!(error = %err, "could not find the holder of the migration lock");
                None
            }
        }
    }
}

/// A row of the holder query as a sentence.
fn describe_holder(row: &sqlx::postgres::PgRow) -> Option<String> {
    let pid: i32 = row.try_get(0).ok()?;
    let application: String = row.try_get(1).ok()?;
    let client: String = row.try_get(2).ok()?;
    let user: String = row.try_get(3).ok()?;
    let since: String = row.try_get(4).ok()?;
    let state: String = row.try_get(5).ok()?;
    let application = if application.is_empty() {
        "no application_name".to_string()
    } else {
        format!("application \"{application}\"")
    };
    Some(format!(
        "PostgreSQL backend pid {pid} ({application}, user {user}, client {client}, connected since {since}, {state})"
    ))
}
