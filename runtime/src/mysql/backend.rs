//! What MySQL and MariaDB do their own way behind `SqlSession`: `GET_LOCK`,
//! the catalog, their messages, and the dirty protocol for every migration
//! (DDL commits implicitly, so group mode is refused).

use super::errors::{self, db_err, NAME};
use super::lock::NamedLock;
use super::protocol::apply_marked;
use crate::backend::{Change, GroupApply, Provision};
use crate::core::split::Dialect;
use crate::sql::io::TrackingIo;
use crate::sql::session::{SqlBackend, SqlSession};
use crate::{Error, Settings};
use sqlx::mysql::MySql;
use sqlx::AssertSqlSafe;
use std::time::Duration;

/// A session's MySQL state: its lock.
pub(crate) struct MySqlBackend {
    lock: NamedLock,
}

impl MySqlBackend {
    pub(super) fn new(settings: &Settings) -> Self {
        MySqlBackend {
            lock: NamedLock {
                schema: settings.schema_name().map(str::to_string),
                table: settings.table_name().to_string(),
                name: None,
            },
        }
    }
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
            if sqlx::raw_sql(AssertSqlSafe(history))
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
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut *session.conn)
                .await
                .map_err(db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    async fn lock(session: &mut MySqlSession, timeout: Duration) -> Result<(), Error> {
        session.backend.lock.take(&mut session.conn, timeout).await
    }

    async fn unlock(session: &mut MySqlSession) -> Result<(), Error> {
        session.backend.lock.release(&mut session.conn).await
    }

    /// DDL commits implicitly here: every migration follows the dirty
    /// protocol, statement by statement in autocommit.
    async fn apply<'a>(session: &'a mut MySqlSession, change: &'a Change<'a>) -> Result<(), Error> {
        apply_marked(session, change).await
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
