//! PostgreSQL through a tokio-postgres `Client`, or a client of a
//! deadpool-postgres `Pool` per operation (feature `deadpool-postgres`).
//!
//! The lock is the session advisory lock the sqlx backend takes
//! (postgres/lock.rs), with the same key, so programs on either exclude
//! each other. A migration goes in one round trip: BEGIN, the state guard,
//! its statements, a check that the transaction is still the batch's own
//! (a file's `COMMIT` or `ROLLBACK` is seen), its tracking writes and
//! COMMIT, as one simple-protocol query (`batch_execute`), as
//! postgres/batch.rs sends it through sqlx. A failure is rolled back and
//! replayed statement by statement to name the statement (session.rs).
//!
//! The client is the program's own connection, or one a pool hands back to
//! its next user: a run dropped midway (its future cancelled) cannot close
//! it, so the drop queues a `ROLLBACK`, the settings the run found and the
//! lock's release on it, which the connection's task sends in order after
//! what is in flight.

use super::io::{Driver, Row, Transaction, TxFailure};
use super::session::DriverSession;
use crate::backend::{BoxFuture, Database, Session};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::sql::script::{ends_transaction, join_statements};
use crate::sql::text::SqlText;
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings, Sql, Timeout};
use futures_util::FutureExt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::error::{ErrorPosition, SqlState};
use tokio_postgres::{Client, SimpleQueryMessage};

const NAME: &str = "PostgreSQL (tokio-postgres)";

/// The setting that marks a batch's transaction as its own: set with
/// `SET LOCAL` semantics right after its BEGIN, so it is gone once that
/// transaction ends, however a statement of a file ended it.
const OURS: &str = "embedded_migrations.transaction";

/// What a check that finds the transaction no longer the batch's own makes
/// its error say, before the change's index.
const ENDED: &str = "embedded_migrations.ended:";

/// Where a `no-transaction` migration keeps the search path it found.
const SEARCH_PATH: &str = "embedded_migrations.search_path";

/// Names each batch's transaction.
static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

impl Database for Client {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move { Ok(PgDriver::session(self, settings)) })
    }
}

/// A client per operation, taken from the pool and handed back at its end
/// (a run dropped midway queues its rollback and release on the client
/// first, so the pool's next user finds it as it was).
#[cfg(feature = "deadpool-postgres")]
impl Database for deadpool_postgres::Pool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move {
            let client = self
                .get()
                .await
                .map_err(|e| Error::database(NAME, "taking a client from the pool", e.to_string()).with_source(e))?;
            Ok(PgDriver::session(client, settings))
        })
    }
}

/// What a session holds its client by: the program's `&Client`, or a
/// pool's object.
trait Holds: Send + Sync {
    fn client(&self) -> &Client;
}

impl Holds for &Client {
    fn client(&self) -> &Client {
        self
    }
}

#[cfg(feature = "deadpool-postgres")]
impl Holds for deadpool_postgres::Object {
    fn client(&self) -> &Client {
        self
    }
}

/// One session on a client.
struct PgDriver<C: Holds> {
    holder: C,
    /// The configured schema and table, unquoted, for the lock key.
    schema: Option<String>,
    table: String,
    /// The advisory lock key, while the lock is held (or its release was
    /// not confirmed).
    key: Option<i64>,
    /// The session's settings when the run took its lock: the client is the
    /// program's, so a setting a file changed (`SET`, outside the
    /// transaction's reach) is set back at the end, not dropped with it.
    settings: Option<Vec<Row>>,
    /// The session's `lock_timeout` while the wait for the lock changed it.
    lock_timeout: Option<String>,
    /// `Settings::lock_mode(LockMode::Table)` was asked for, which this
    /// backend does not have: its lock refuses rather than ignore it.
    table_lock: bool,
}

impl<'a, C: Holds + 'a> PgDriver<C> {
    fn session(holder: C, settings: &Settings) -> Box<dyn Session + 'a> {
        let driver = PgDriver {
            holder,
            schema: settings.schema_name().map(str::to_string),
            table: settings.table_name().to_string(),
            key: None,
            settings: None,
            lock_timeout: None,
            table_lock: settings.lock_mode_value() == crate::LockMode::Table,
        };
        Box::new(DriverSession::new(driver, settings))
    }
}

/// The settings a session can change, with their values.
const SETTINGS: &str = "SELECT name, setting FROM pg_catalog.pg_settings WHERE context IN ('user', 'superuser') \
                        AND name NOT LIKE 'transaction\\_%' ORDER BY name";

impl<C: Holds> PgDriver<C> {
    fn client(&self) -> &Client {
        self.holder.client()
    }

    /// Sets back each setting that differs from what the lock read.
    async fn restore_settings(&mut self) {
        let Some(before) = self.settings.take() else { return };
        let now = match self.rows(SETTINGS).await {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(error = %e, "reading the session's settings to restore them");
                return;
            }
        };
        let literal = |text: &Option<String>| Dialect::Postgres.literal(text.as_deref().unwrap_or_default());
        let restore: Vec<String> = before
            .iter()
            .filter(|row| !now.contains(row))
            .map(|row| {
                format!(
                    "SELECT pg_catalog.set_config({}, {}, false)",
                    literal(&row[0]),
                    literal(&row[1])
                )
            })
            .collect();
        if restore.is_empty() {
            return;
        }
        if let Err(e) = self.client().batch_execute(&join_statements(restore)).await {
            tracing::warn!(error = %e, "restoring a setting a migration changed");
        }
    }

    /// The lock key of the tables the session uses: a configured schema
    /// that is the connection's current one takes the key of none, as in
    /// postgres/lock.rs.
    async fn resolved_key(&self) -> Result<i64, Error> {
        let schema = match &self.schema {
            None => String::new(),
            Some(schema) => {
                let rows = self
                    .rows("SELECT current_schema()::text")
                    .await
                    .map_err(err("reading the current schema"))?;
                let current = rows.into_iter().next().and_then(|row| row.into_iter().next().flatten());
                match current.as_deref() == Some(schema.as_str()) {
                    true => String::new(),
                    false => schema.clone(),
                }
            }
        };
        Ok(TrackingSql::advisory_key(&schema, &self.table))
    }

    async fn rows(&self, sql: &str) -> Result<Vec<Row>, tokio_postgres::Error> {
        let messages = self.client().simple_query(sql).await?;
        Ok(messages
            .into_iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect()),
                _ => None,
            })
            .collect())
    }

    /// Waits for the advisory lock through the server's own `lock_timeout`
    /// (in queue order, no polling), the session's own value put back at
    /// once. False when the wait ran out.
    async fn wait(&mut self, key: i64, timeout: Duration) -> Result<bool, Error> {
        let millis = timeout.as_millis().min(i32::MAX as u128);
        if millis == 0 {
            // lock_timeout 0 would mean "wait forever": try once instead.
            let rows = self
                .rows(&format!("SELECT pg_try_advisory_lock({key})"))
                .await
                .map_err(err("taking the migration lock"))?;
            return Ok(rows.first().and_then(|row| row.first().cloned().flatten()).as_deref() == Some("t"));
        }
        let previous = self
            .rows("SELECT current_setting('lock_timeout')")
            .await
            .map_err(err("reading the lock timeout"))?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
            .unwrap_or_else(|| "0".to_string());
        // Held from the request on: a run dropped while it is in flight
        // releases it, and sets the timeout back, on drop.
        self.key = Some(key);
        self.lock_timeout = Some(previous.clone());
        let waited = self
            .client()
            .batch_execute(&format!(
                "SELECT set_config('lock_timeout', '{millis}ms', false); SELECT pg_advisory_lock({key})"
            ))
            .await;
        let acquired = match waited {
            Ok(()) => true,
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => false,
            Err(e) => return Err(err("taking the migration lock")(e)),
        };
        let restore = format!(
            "SELECT set_config('lock_timeout', {}, false)",
            Dialect::Postgres.literal(&previous)
        );
        self.client()
            .batch_execute(&restore)
            .await
            .map_err(err("restoring the lock timeout"))?;
        self.lock_timeout = None;
        if !acquired {
            self.key = None;
        }
        Ok(acquired)
    }

    /// Who holds the lock, for the timeout error.
    async fn holder(&self, key: i64) -> Option<String> {
        let key = key as u64;
        let query = format!(
            "SELECT a.pid::text, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local socket'), \
             COALESCE(a.usename::text, ''), COALESCE(a.state, '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = {} AND l.objid::bigint = {} LIMIT 1",
            key >> 32,
            key & 0xffff_ffff
        );
        let row = self.rows(&query).await.ok()?.into_iter().next()?;
        let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let application = match field(1) {
            name if name.is_empty() => "no application_name".to_string(),
            name => format!("application \"{name}\""),
        };
        Some(format!(
            "PostgreSQL backend pid {} ({application}, user {}, client {}, {})",
            field(0),
            field(3),
            field(2),
            field(4)
        ))
    }

    /// The transaction as one query; a failure is rolled back here.
    async fn transaction(
        &mut self,
        tx: &Transaction,
        finish: &(dyn Fn(&[String]) -> Vec<String> + Send + Sync),
    ) -> Result<(), TxFailure<tokio_postgres::Error>> {
        let mark = format!(
            "{}.{}",
            std::process::id(),
            TRANSACTIONS.fetch_add(1, Ordering::Relaxed)
        );
        let mut parts = tx.creation.clone();
        parts.extend([
            tx.guard.clone(),
            format!(
                "SELECT pg_catalog.set_config('{OURS}', '{mark}', true), \
                 pg_catalog.set_config('embedded_migrations.at_0', clock_timestamp()::text, true)"
            ),
        ]);
        let mut durations = Vec::with_capacity(tx.changes.len());
        for (index, statements) in tx.changes.iter().enumerate() {
            parts.extend(statements.iter().cloned());
            // Fails unless the transaction is still the batch's: a cast of
            // text naming the change, read at run time (never folded); the
            // same statement marks the change's end (one statement fewer
            // per migration).
            parts.push(format!(
                "SELECT CASE WHEN pg_catalog.current_setting('{OURS}', true) = '{mark}' THEN 0 \
                 ELSE ('{ENDED}{index}:' || COALESCE(pg_catalog.current_setting('{OURS}', true), ''))::int END, \
                 pg_catalog.set_config('embedded_migrations.at_{}', clock_timestamp()::text, true)",
                index + 1
            ));
            // Each change's duration, measured by the server between the
            // marks around its statements.
            durations.push(format!(
                "(EXTRACT(EPOCH FROM (current_setting('embedded_migrations.at_{}')::timestamptz - \
                 current_setting('embedded_migrations.at_{index}')::timestamptz)) * 1000)::bigint",
                index + 1
            ));
        }
        parts.extend(finish(&durations));
        let query = format!("BEGIN;\n{}\nCOMMIT;", join_statements(parts));
        let Err(failure) = self.client().batch_execute(&query).await else {
            return Ok(());
        };
        // A failure inside the transaction leaves it open and aborted,
        // where every query fails; one that succeeds shows it was gone
        // before (a file's statement ended it, or the COMMIT failed).
        let open = self.client().batch_execute("SELECT 1").await.is_err();
        if let Err(e) = self.client().batch_execute("ROLLBACK").await {
            tracing::debug!(error = %e, "rolling back the failed batch");
        }
        if let Some(change) = ended_in(&failure) {
            return Err(TxFailure::Ended {
                change: Some(change),
                statement: None,
            });
        }
        if !open && tx.changes.iter().flatten().any(|statement| ends_transaction(statement)) {
            return Err(TxFailure::Ended {
                change: None,
                statement: None,
            });
        }
        Err(TxFailure::RolledBack { err: failure, at: None })
    }
}

/// The change whose check failed, if `err` is a check's.
fn ended_in(err: &tokio_postgres::Error) -> Option<usize> {
    let message = err.as_db_error()?.message();
    let after = &message[message.find(ENDED)? + ENDED.len()..];
    after.split(':').next()?.parse().ok()
}

fn err(operation: &str) -> impl FnOnce(tokio_postgres::Error) -> Error + '_ {
    move |e| Error::database(NAME, operation, message(&e)).with_source(e)
}

/// The server's message with its SQLSTATE, detail, hint and context.
fn message(err: &tokio_postgres::Error) -> String {
    let Some(db) = err.as_db_error() else {
        return err.to_string();
    };
    let mut message = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        message.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = db.hint() {
        message.push_str(&format!("; hint: {hint}"));
    }
    if let Some(context) = db.where_() {
        message.push_str(&format!("; context: {}", context.replace('\n', " / ")));
    }
    if db.code() == &SqlState::ACTIVE_SQL_TRANSACTION {
        message.push_str(
            "; the statement cannot run inside a transaction: start its file with \
             `-- migrate:no-transaction` so that its statements run one by one, outside one",
        );
    }
    message
}

impl<C: Holds> Drop for PgDriver<C> {
    /// A run dropped while it held the lock, or while a query of it was in
    /// flight: the rollback, the settings the lock read, and the release
    /// are queued on the client (sent by its connection task after what is
    /// in flight, before anything the program sends next), not awaited.
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut queued = vec!["ROLLBACK".to_string()];
        if let Some(previous) = self.lock_timeout.take() {
            queued.push(format!(
                "SELECT pg_catalog.set_config('lock_timeout', {}, false)",
                Dialect::Postgres.literal(&previous)
            ));
        }
        if let Some(settings) = self.settings.take() {
            // Each setting set back on its own: one the session may not set
            // (a superuser's) is skipped, not the end of the others.
            let mut block = String::from("DO $embedded_migrations$ BEGIN ");
            for row in &settings {
                let literal = |text: &Option<String>| Dialect::Postgres.literal(text.as_deref().unwrap_or_default());
                block.push_str(&format!(
                    "BEGIN PERFORM pg_catalog.set_config({}, {}, false); EXCEPTION WHEN OTHERS THEN NULL; END; ",
                    literal(&row[0]),
                    literal(&row[1])
                ));
            }
            block.push_str("END $embedded_migrations$");
            queued.push(block);
        }
        queued.push(format!("SELECT pg_advisory_unlock({key})"));
        for statement in queued {
            if self.client().batch_execute(&statement).now_or_never().is_none() {
                tracing::debug!("queued on the client after a dropped run: {statement:.40}");
            }
        }
    }
}

impl<C: Holds> Driver for PgDriver<C> {
    type Error = tokio_postgres::Error;
    const NAME: &'static str = NAME;
    const DIALECT: Dialect = Dialect::Postgres;
    /// Every new database in one transaction: one round trip instead of one
    /// per migration, and nothing left behind when a migration fails.
    const PROVISION_BY_DEFAULT: bool = true;

    fn execute(&mut self, script: &str) -> impl Future<Output = Result<(), tokio_postgres::Error>> + Send {
        self.client().batch_execute(script)
    }

    fn query(&mut self, sql: &str) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        let this = &*self;
        async move { this.rows(sql).await }
    }

    /// A savepoint is refused outside a transaction block, and taken (or
    /// refused as in an aborted transaction) inside one.
    async fn in_transaction(&mut self) -> Result<bool, tokio_postgres::Error> {
        match self
            .client()
            .batch_execute("SAVEPOINT embedded_migrations_probe; RELEASE SAVEPOINT embedded_migrations_probe")
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.code() == Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION) => Ok(false),
            Err(e) if e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => Ok(true),
            Err(e) => Err(e),
        }
    }

    fn run_transaction<'a>(
        &'a mut self,
        tx: &'a Transaction,
        finish: &'a (dyn Fn(&[String]) -> Vec<String> + Send + Sync),
    ) -> impl Future<Output = Result<(), TxFailure<tokio_postgres::Error>>> + Send + 'a {
        self.transaction(tx, finish)
    }

    fn message(err: &tokio_postgres::Error) -> String {
        message(err)
    }

    fn no_such_table(err: &tokio_postgres::Error) -> bool {
        err.code() == Some(&SqlState::UNDEFINED_TABLE)
    }

    fn state_table_query(table: &str, schema: Option<&str>) -> String {
        let name = match schema {
            Some(schema) => format!("\"{schema}\".\"{table}\""),
            None => format!("\"{table}\""),
        };
        format!("SELECT to_regclass({})::text", Dialect::Postgres.literal(&name))
    }

    /// The timeouts with `SET LOCAL` in the migration's transaction (`SET`
    /// and back to the default outside one), and with `Settings::schema`
    /// the tracking schema first on the search path while the migration
    /// runs, as the sqlx backend does (postgres/search_path.rs): unqualified
    /// names in its files land there. Outside a transaction the search path
    /// before it is kept in a setting of our own and put back after.
    fn around(&self, timeouts: Timeouts, in_transaction: bool) -> Result<(Vec<String>, Vec<String>), String> {
        let scope = if in_transaction { "SET LOCAL" } else { "SET" };
        let (mut set, mut reset) = (Vec::new(), Vec::new());
        if let Some(schema) = &self.schema {
            let schema = Dialect::Postgres.literal(&Dialect::Postgres.quote(schema));
            if !in_transaction {
                set.push(format!(
                    "SELECT pg_catalog.set_config('{SEARCH_PATH}', current_setting('search_path'), false)"
                ));
                reset.push(format!(
                    "SELECT pg_catalog.set_config('search_path', current_setting('{SEARCH_PATH}'), false)"
                ));
            }
            set.push(format!(
                "SELECT pg_catalog.set_config('search_path', CASE WHEN current_setting('search_path') = '' \
                 THEN {schema} ELSE {schema} || ', ' || current_setting('search_path') END, {in_transaction})"
            ));
        }
        for (setting, limit) in [
            ("statement_timeout", timeouts.statement),
            ("lock_timeout", timeouts.lock),
        ] {
            if let Some(limit) = limit {
                set.push(format!("{scope} {setting} = '{}ms'", limit.as_millis()));
                reset.push(format!("{scope} {setting} TO DEFAULT"));
            }
        }
        Ok((set, if in_transaction { Vec::new() } else { reset }))
    }

    /// SQLSTATE 57014 for a statement timeout (also a cancel, told apart by
    /// its message), 55P03 for a lock timeout.
    fn timed_out(err: &tokio_postgres::Error, timeouts: Timeouts) -> Option<Timeout> {
        let db = err.as_db_error()?;
        match db.code() {
            code if code == &SqlState::QUERY_CANCELED && db.message().contains("statement timeout") => {
                timeouts.statement.map(Timeout::Statement)
            }
            code if code == &SqlState::LOCK_NOT_AVAILABLE && db.message().contains("lock timeout") => {
                timeouts.lock.map(Timeout::Lock)
            }
            _ => None,
        }
    }

    fn error_line(err: &tokio_postgres::Error, statement: &str, first_line: usize) -> usize {
        match err.as_db_error().and_then(|db| db.position()) {
            Some(ErrorPosition::Original(position)) => {
                let before: String = statement.chars().take((*position as usize).saturating_sub(1)).collect();
                first_line + before.matches('\n').count()
            }
            _ => first_line,
        }
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        if self.table_lock {
            return Err(Error::Unsupported {
                backend: NAME,
                what: "Settings::lock_mode(LockMode::Table): this backend holds the session advisory lock \
                       (LockMode::Session), so connect in session mode, not through a pooler in transaction mode"
                    .to_string(),
            });
        }
        let started = Instant::now();
        let key = self.resolved_key().await?;
        if self.wait(key, timeout).await? {
            self.settings = Some(
                self.rows(SETTINGS)
                    .await
                    .map_err(err("reading the session's settings"))?,
            );
            return Ok(());
        }
        Err(Error::LockTimeout {
            backend: NAME,
            waited: started.elapsed(),
            holder: self.holder(key).await,
        })
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        let Some(key) = self.key else { return Ok(()) };
        // A transaction a failed run left open would keep what follows
        // in it: rolled back first (a warning only when there is none).
        if let Err(e) = self.client().batch_execute("ROLLBACK").await {
            tracing::debug!(error = %e, "rolling back before the release");
        }
        self.restore_settings().await;
        let released = self
            .client()
            .batch_execute(&format!("SELECT pg_advisory_unlock({key})"))
            .await;
        match released {
            Ok(()) => self.key = None,
            // Left set: the drop queues the release again.
            Err(e) => tracing::warn!(error = %e, "releasing the migration lock failed"),
        }
        Ok(())
    }
}
