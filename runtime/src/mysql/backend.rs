//! What MySQL and MariaDB do their own way behind `SqlSession`: `GET_LOCK`,
//! the catalog, their messages, and the dirty protocol for every migration
//! (DDL commits implicitly, so group mode is refused).

use super::errors::{self, db_err, NAME};
use super::lock::NamedLock;
use super::protocol::apply_marked;
use crate::backend::{Change, GroupApply, Provision};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::sql::compat::{self, assert_sql_safe};
use crate::sql::io::TrackingIo;
use crate::sql::session::{SqlBackend, SqlSession, TimeoutStatements};
use crate::sql::table_lock::TableLock;
use crate::{Error, LockMode, Settings, Timeout};
use sqlx::mysql::{MySql, MySqlPool};
use std::time::Duration;

/// A session's MySQL state: its lock (`GET_LOCK`, or the lock row of
/// `LockMode::Table`).
pub(crate) struct MySqlBackend {
    lock: NamedLock,
    table_lock: Option<TableLock<MySql>>,
    /// The server is MariaDB, whose statement timeout is its own; asked
    /// once, when a migration first has timeouts.
    mariadb: Option<bool>,
    /// A change of this session set its timeouts: the next one sets its own
    /// or puts the server's back.
    timeouts_set: bool,
}

impl MySqlBackend {
    pub(super) fn new(settings: &Settings, pool: &MySqlPool) -> Self {
        let table_lock = (settings.lock_mode_value() == LockMode::Table).then(|| {
            let options = (*pool.connect_options()).clone();
            TableLock::new(Dialect::MySql, settings, options, NAME, errors::message)
        });
        MySqlBackend {
            lock: NamedLock {
                schema: settings.schema_name().map(str::to_string),
                table: settings.table_name().to_string(),
                name: None,
            },
            table_lock,
            mariadb: None,
            timeouts_set: false,
        }
    }
}

/// The statements that give `timeouts` to the session's next statements,
/// or put the server's defaults back after a change that set its own.
/// MariaDB takes a statement timeout in seconds (`max_statement_time`),
/// MySQL in milliseconds for `SELECT` only (`max_execution_time`); both
/// take lock waits in whole seconds, for metadata locks
/// (`lock_wait_timeout`: an `ALTER TABLE` behind a reader) and row locks
/// (`innodb_lock_wait_timeout`).
async fn timeout_statements(session: &mut MySqlSession, timeouts: Timeouts) -> Result<Vec<String>, Error> {
    if timeouts == Timeouts::default() && !session.backend.timeouts_set {
        return Ok(Vec::new());
    }
    let mariadb = match session.backend.mariadb {
        Some(mariadb) => mariadb,
        None => {
            let version: String = compat::raw_sql("SELECT CAST(VERSION() AS CHAR)")
                .fetch_one(&mut *session.conn)
                .await
                .and_then(|row| sqlx::Row::try_get(&row, 0))
                .map_err(db_err("reading the server's version"))?;
            let mariadb = version.contains("MariaDB");
            session.backend.mariadb = Some(mariadb);
            mariadb
        }
    };
    let statement = match (mariadb, timeouts.statement) {
        (true, Some(limit)) => format!("SET SESSION max_statement_time = {:.3}", limit.as_secs_f64()),
        (true, None) => "SET SESSION max_statement_time = DEFAULT".to_string(),
        (false, Some(limit)) => format!("SET SESSION max_execution_time = {}", limit.as_millis()),
        (false, None) => "SET SESSION max_execution_time = DEFAULT".to_string(),
    };
    let lock = match timeouts.lock {
        Some(limit) => limit.as_secs_f64().ceil().max(1.0).to_string(),
        None => "DEFAULT".to_string(),
    };
    session.backend.timeouts_set = timeouts != Timeouts::default();
    Ok(vec![
        statement,
        format!("SET SESSION lock_wait_timeout = {lock}"),
        format!("SET SESSION innodb_lock_wait_timeout = {lock}"),
    ])
}

type MySqlSession = SqlSession<MySqlBackend>;

impl SqlBackend for MySqlBackend {
    type DB = MySql;
    const NAME: &'static str = NAME;
    const DIALECT: Dialect = Dialect::MySql;
    const TRANSACTIONAL_DDL: bool = false;

    fn message(err: &sqlx::Error) -> String {
        errors::message(err)
    }

    fn no_such_table(err: &sqlx::Error) -> bool {
        errors::no_such_table(err)
    }

    async fn state_table_exists(session: &mut MySqlSession) -> Result<bool, Error> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        )
        .bind(&session.backend.lock.schema)
        .bind(format!("{}_state", session.backend.lock.table))
        .fetch_one(&mut *session.conn)
        .await
        .map_err(db_err("reading the state"))?;
        Ok(exists > 0)
    }

    async fn create_tracking(session: &mut MySqlSession) -> Result<(), Error> {
        // Nothing to do once the state row exists: no DDL (which would commit
        // implicitly) and no need for CREATE privileges on every run.
        if let Ok(Some(_)) = MySql::fetch_state(&mut session.conn, session.sql.select_state()).await {
            // The history table too: one dropped by hand is created again
            // here, not met by the first change that writes to it.
            let history = format!("SELECT 1 FROM {} LIMIT 0", session.sql.history);
            if compat::raw_sql(assert_sql_safe!(history))
                .execute(&mut *session.conn)
                .await
                .is_ok()
            {
                return Ok(());
            }
        }
        let schema_missing = match &session.backend.lock.schema {
            Some(schema) => {
                let found: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?")
                        .bind(schema)
                        .fetch_one(&mut *session.conn)
                        .await
                        .map_err(db_err("looking for the database"))?;
                found == 0
            }
            None => false,
        };
        let schema = session.sql.create_schema().filter(|_| schema_missing);
        // Each statement commits on its own here; all are idempotent, so an
        // interrupted first run is completed by the next one.
        for statement in schema.into_iter().chain(session.sql.create()) {
            compat::raw_sql(assert_sql_safe!(statement))
                .execute(&mut *session.conn)
                .await
                .map_err(db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    async fn lock(session: &mut MySqlSession, timeout: Duration) -> Result<(), Error> {
        match &mut session.backend.table_lock {
            Some(table_lock) => table_lock.take(&mut session.conn, timeout).await,
            None => session.backend.lock.take(&mut session.conn, timeout).await,
        }
    }

    async fn unlock(session: &mut MySqlSession) -> Result<(), Error> {
        match &mut session.backend.table_lock {
            Some(table_lock) => table_lock.release(&mut session.conn).await,
            None => session.backend.lock.release(&mut session.conn).await,
        }
    }

    /// DDL commits implicitly here: every migration follows the dirty
    /// protocol, statement by statement in autocommit.
    async fn apply<'a>(session: &'a mut MySqlSession, change: &'a Change<'a>) -> Result<(), Error> {
        if let Some(table_lock) = &session.backend.table_lock {
            table_lock.guard()?;
        }
        let timeouts = session.sql.timeouts_of(change.migration.script(change.direction));
        let given = timeout_statements(session, timeouts).await?;
        apply_marked(session, change, (timeouts, &given)).await
    }

    /// Sent by `apply` itself (`timeout_statements`), which asks the
    /// server which it is first.
    fn timeout_statements(_timeouts: Timeouts, _in_transaction: bool) -> Result<TimeoutStatements, String> {
        Ok(TimeoutStatements::default())
    }

    /// MariaDB's `max_statement_time` (1969), MySQL's `max_execution_time`
    /// (3024), a lock wait of either kind (1205).
    fn timed_out(err: &sqlx::Error, timeouts: Timeouts) -> Option<Timeout> {
        match errors::number_of(err)? {
            1969 | 3024 => timeouts.statement.map(Timeout::Statement),
            1205 => timeouts.lock.map(Timeout::Lock),
            _ => None,
        }
    }

    /// DDL commits implicitly: no group can be one transaction.
    fn group(_session: &mut MySqlSession) -> Option<&mut dyn GroupApply> {
        None
    }

    /// Nor can a database be provisioned in one.
    fn provision(_session: &mut MySqlSession) -> Option<&mut dyn Provision> {
        None
    }

    async fn backup<'a>(session: &'a mut MySqlSession, backup: &'a crate::Backup) -> Result<(), Error> {
        let schema = session.backend.lock.schema.clone();
        super::backup::dump(&mut session.conn, &session.connect, schema.as_deref(), backup).await
    }

    /// Every file runs outside a transaction here, and may change any
    /// session variable (`FOREIGN_KEY_CHECKS`, `sql_mode`, ...) or leave a
    /// transaction open: which ones the pool set cannot be told apart, so
    /// the session is closed, and the pool opens a new one.
    async fn restore_session(_session: &mut MySqlSession) -> bool {
        false
    }

    fn must_close(&self) -> bool {
        self.lock.name.is_some()
    }
}
