//! What PostgreSQL does its own way behind `SqlSession`: the advisory lock,
//! the search path, the catalog, its messages, and the one-query batch.

use super::batch::{self, BatchState};
use super::errors::{self, db_err, LOCK_NOT_AVAILABLE, NAME};
use super::lock::AdvisoryLock;
use super::search_path;
use crate::backend::{Change, GroupApply, Provision};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::sql::compat::{self, assert_sql_safe};
use crate::sql::dirty::TransactionProbe;
use crate::sql::session::{timeouts_for, SqlBackend, SqlSession, TimeoutStatements};
use crate::sql::table_lock::TableLock;
use crate::sql::text::SqlText;
use crate::sql::tracking::TrackingSql;
use crate::sql::transaction::{BatchFailure, TransactionalBatch};
use crate::{Error, LockMode, Settings, Timeout};
use sqlx::postgres::{PgConnection, PgPool, Postgres};
use sqlx::Connection;
use std::time::Duration;

/// A session's PostgreSQL state: the lock (advisory, or the lock row of
/// `LockMode::Table`), the batch's statement and transaction, a changed
/// search path.
pub(crate) struct PgBackend {
    lock: AdvisoryLock,
    table_lock: Option<TableLock<Postgres>>,
    batch: BatchState,
    /// The session's search path was changed and not yet restored.
    path_changed: bool,
}

impl PgBackend {
    pub(super) fn new(settings: &Settings, pool: &PgPool) -> Self {
        let options = (*pool.connect_options()).clone();
        let table_lock = (settings.lock_mode_value() == LockMode::Table)
            .then(|| TableLock::new(Dialect::Postgres, settings, options.clone(), NAME, errors::message));
        PgBackend {
            lock: AdvisoryLock::new(settings.schema_name(), settings.table_name(), options),
            // A statement prepared on one server connection is not there on
            // the next: the table lock's sessions prepare none of their own.
            batch: BatchState {
                never_prepare: table_lock.is_some(),
                ..BatchState::default()
            },
            table_lock,
            path_changed: false,
        }
    }
}

type PgSession = SqlSession<PgBackend>;

/// A catalog question answered yes or no, as plain text: nothing prepared
/// (see `LockMode::Table`, meant for poolers in transaction mode).
async fn catalog_check(session: &mut PgSession, query: String) -> Result<bool, sqlx::Error> {
    let row = compat::raw_sql(assert_sql_safe!(query))
        .fetch_one(&mut *session.conn)
        .await?;
    sqlx::Row::try_get(&row, 0)
}

/// A `migrate:no-transaction` file: the dirty protocol, with the tracking
/// schema first on the session's search path while its statements run (the
/// tracking writes name their tables in full).
async fn apply_without_transaction(session: &mut PgSession, change: &Change<'_>) -> Result<(), Error> {
    let previous_path = match &session.sql.schema {
        Some(_) => {
            let previous = search_path::current(&mut session.conn).await?;
            session.backend.path_changed = true;
            search_path::enter_schema(&mut session.conn, &session.sql, false).await?;
            Some(previous)
        }
        None => None,
    };
    let applied = session.apply_marked(change).await;
    if let Some(previous) = previous_path {
        if search_path::restore(&mut session.conn, previous).await {
            session.backend.path_changed = false;
        }
    }
    applied
}

impl SqlBackend for PgBackend {
    type DB = Postgres;
    const NAME: &'static str = NAME;
    const DIALECT: Dialect = Dialect::Postgres;
    const TRANSACTIONAL_DDL: bool = true;
    const ROLLBACK_RESTORES_SESSION: bool = true;

    fn message(err: &sqlx::Error) -> String {
        errors::message(err)
    }

    fn error_line(err: &sqlx::Error, statement: &str, first_line: usize) -> usize {
        errors::error_line(err, statement, first_line)
    }

    fn no_such_table(err: &sqlx::Error) -> bool {
        errors::no_such_table(err)
    }

    /// `SET LOCAL` in the change's transaction, `SET` outside one; each
    /// taken back to the session's default after the change's statements.
    fn timeout_statements(timeouts: Timeouts, in_transaction: bool) -> Result<TimeoutStatements, String> {
        let scope = if in_transaction { "SET LOCAL" } else { "SET" };
        let mut given = TimeoutStatements::default();
        let settings = [
            ("statement_timeout", timeouts.statement),
            ("lock_timeout", timeouts.lock),
        ];
        for (setting, limit) in settings {
            if let Some(limit) = limit {
                given.set.push(format!("{scope} {setting} = '{}ms'", limit.as_millis()));
                given.reset.push(format!("{scope} {setting} TO DEFAULT"));
            }
        }
        Ok(given)
    }

    /// SQLSTATE 57014 for a statement timeout (also a cancel, told apart
    /// by its message), 55P03 for a lock timeout.
    fn timed_out(err: &sqlx::Error, timeouts: Timeouts) -> Option<Timeout> {
        let message = err.as_database_error()?.message();
        match errors::code_of(err).as_deref()? {
            "57014" if message.contains("statement timeout") => timeouts.statement.map(Timeout::Statement),
            LOCK_NOT_AVAILABLE if message.contains("lock timeout") => timeouts.lock.map(Timeout::Lock),
            _ => None,
        }
    }

    async fn state_table_exists(session: &mut PgSession) -> Result<bool, Error> {
        let state = Dialect::Postgres.literal(&session.sql.state);
        catalog_check(session, format!("SELECT to_regclass({state}) IS NOT NULL"))
            .await
            .map_err(db_err("reading the state"))
    }

    async fn enter_transaction(conn: &mut PgConnection, sql: &TrackingSql) -> Result<(), Error> {
        search_path::enter_schema(conn, sql, true).await
    }

    async fn create_tracking(session: &mut PgSession) -> Result<(), Error> {
        // Nothing to do once the tables exist: no DDL, no notices, and no
        // need for CREATE privileges on every run. All three are looked
        // for: one dropped by hand (history) is created again here, not
        // met by the first change that writes to it.
        let [table, history, state] =
            [&session.sql.table, &session.sql.history, &session.sql.state].map(|name| Dialect::Postgres.literal(name));
        let ready = format!(
            "SELECT to_regclass({table}) IS NOT NULL AND to_regclass({history}) IS NOT NULL \
             AND to_regclass({state}) IS NOT NULL"
        );
        let ready = catalog_check(session, ready)
            .await
            .map_err(db_err("looking for the tracking tables"))?;
        if ready {
            return Ok(());
        }
        let schema_missing = match session
            .sql
            .schema
            .as_deref()
            .map(|schema| Dialect::Postgres.literal(schema))
        {
            Some(schema) => catalog_check(session, format!("SELECT to_regnamespace({schema}) IS NULL"))
                .await
                .map_err(db_err("looking for the schema"))?,
            None => false,
        };
        // One transaction, so that an interrupted first run never leaves a
        // state table without its row.
        let sql = &session.sql;
        let mut tx = Connection::begin(&mut *session.conn)
            .await
            .map_err(db_err("creating the tracking tables"))?;
        let create = async {
            let schema = sql.create_schema().filter(|_| schema_missing);
            for statement in schema.into_iter().chain(sql.create()) {
                compat::raw_sql(assert_sql_safe!(statement)).execute(&mut *tx).await?;
            }
            tx.commit().await
        };
        create.await.map_err(db_err("creating the tracking tables"))
    }

    async fn lock(session: &mut PgSession, timeout: Duration) -> Result<(), Error> {
        match &mut session.backend.table_lock {
            Some(table_lock) => table_lock.take(&mut session.conn, timeout).await,
            None => session.backend.lock.take(&mut session.conn, timeout).await,
        }
    }

    async fn unlock(session: &mut PgSession) -> Result<(), Error> {
        let prepared = session.backend.batch.prepared.take();
        match &mut session.backend.table_lock {
            Some(table_lock) => table_lock.release(&mut session.conn).await,
            None => session.backend.lock.release(&mut session.conn, prepared).await,
        }
    }

    async fn apply<'a>(session: &'a mut PgSession, change: &'a Change<'a>) -> Result<(), Error> {
        if let Some(table_lock) = &session.backend.table_lock {
            table_lock.guard()?;
        }
        if change.migration.script(change.direction).no_transaction {
            apply_without_transaction(session, change).await
        } else {
            session.apply_batched(std::slice::from_ref(change)).await
        }
    }

    fn group(session: &mut PgSession) -> Option<&mut dyn GroupApply> {
        Some(session)
    }

    fn provision(session: &mut PgSession) -> Option<&mut dyn Provision> {
        Some(session)
    }

    async fn backup<'a>(session: &'a mut PgSession, backup: &'a crate::Backup) -> Result<(), Error> {
        super::backup::pg_dump(&mut session.conn, &session.connect, backup).await
    }

    /// A file may have changed any session setting (`SET`,
    /// `session_replication_role`, a role): which ones the pool set cannot
    /// be told apart, so a session in doubt is closed, and the pool opens
    /// a new one.
    async fn restore_session(_session: &mut PgSession) -> bool {
        false
    }

    fn must_close(&self) -> bool {
        self.lock.held
            || self.lock.setting_changed
            || self.path_changed
            || self.batch.prepared.is_some()
            || self.batch.open_transaction
    }
}

impl TransactionalBatch for PgBackend {
    /// Every new tenant in one transaction: one round trip instead of one
    /// per migration, and nothing left behind when a migration fails.
    const PROVISION_BY_DEFAULT: bool = true;

    async fn run_in_transaction<'a>(session: &'a mut PgSession, changes: &'a [Change<'a>]) -> Result<(), BatchFailure> {
        let creation = session.creation();
        let PgSession { conn, sql, backend, .. } = session;
        let timeouts = changes
            .iter()
            .map(|change| timeouts_for::<PgBackend>(sql, change, true).map(|(_, given)| given))
            .collect::<Result<Vec<_>, Error>>()?;
        batch::run_in_transaction(conn, sql, &mut backend.batch, changes, &timeouts, &creation).await
    }
}

impl TransactionProbe for PgBackend {
    /// A savepoint is refused outside a transaction block (SQLSTATE
    /// 25P01), taken inside one (and released), and refused in an aborted
    /// one (25P02): the server's own answer, whoever began the block.
    async fn in_transaction(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
        match compat::raw_sql("SAVEPOINT embedded_migrations_probe")
            .execute(&mut *conn)
            .await
        {
            Ok(_) => {
                compat::raw_sql("RELEASE SAVEPOINT embedded_migrations_probe")
                    .execute(&mut *conn)
                    .await?;
                Ok(true)
            }
            Err(err) => match errors::code_of(&err).as_deref() {
                Some("25P01") => Ok(false),
                Some("25P02") => Ok(true),
                _ => Err(err),
            },
        }
    }
}
