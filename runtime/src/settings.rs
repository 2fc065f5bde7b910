use crate::Error;
use std::time::Duration;

/// How the migration lock is held on PostgreSQL and MySQL/MariaDB.
///
/// ```
/// use embedded_migrations::{LockMode, Settings};
/// // Behind PgBouncer in transaction mode, or any pooler that hands each
/// // transaction its own server connection:
/// let settings = Settings::default().lock_mode(LockMode::Table);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LockMode {
    /// The database's session lock: a PostgreSQL session advisory lock,
    /// MySQL's `GET_LOCK`. It waits in the server's queue and is released
    /// by the server when the connection ends, but it belongs to a server
    /// connection: behind a pooler in transaction mode it is taken on one
    /// and released on another, or never. On PostgreSQL, such a pooler is
    /// detected (a second connection is handed the session's server
    /// connection, or the session's backend changes between two
    /// statements) and the run refused, naming [`LockMode::Table`].
    #[default]
    Session,
    /// A row in `<table>_lock` naming its holder and an expiry in the
    /// server's clock, taken, renewed and released each in a short
    /// transaction of its own: nothing depends on the server connection
    /// staying the same. A heartbeat on a connection of its own renews it
    /// every third of the lease (half the lock timeout, between 1 and
    /// 30 seconds); the row of a holder that died expires and is taken
    /// over. Waiting is polling, every 100 ms.
    Table,
}

/// How a table is applied. `Settings::default()` suits most applications.
///
/// ```
/// use std::time::Duration;
/// let settings = embedded_migrations::Settings::default()
///     .table("app_migrations")
///     .lock_timeout(Duration::from_secs(30))
///     .allow_out_of_order(true);
/// ```
#[derive(Clone, Debug)]
pub struct Settings {
    pub(crate) table: String,
    pub(crate) schema: Option<String>,
    pub(crate) allow_out_of_order: bool,
    pub(crate) allow_missing: bool,
    pub(crate) allow_ahead: bool,
    pub(crate) lock_timeout: Duration,
    pub(crate) lock_mode: LockMode,
    pub(crate) timeouts: crate::core::timeout::Timeouts,
    pub(crate) group: bool,
    pub(crate) provision: Option<bool>,
    /// The values of `${name}` in the files (runtime/src/placeholders.rs).
    pub(crate) placeholders: crate::placeholders::Placeholders,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            table: "_embedded_migrations".to_string(),
            schema: None,
            allow_out_of_order: false,
            allow_missing: false,
            allow_ahead: false,
            lock_timeout: Duration::from_secs(120),
            lock_mode: LockMode::Session,
            timeouts: crate::core::timeout::Timeouts::default(),
            group: false,
            provision: None,
            placeholders: Default::default(),
        }
    }
}

impl Settings {
    /// Name of the tracking table; history and state tables take it as a
    /// prefix (`<table>_history`, `<table>_state`). Default `_embedded_migrations`.
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// Where the tracking tables live, created if missing; it also keys the
    /// migration lock. PostgreSQL: a schema, and the migrations run with it
    /// first on their `search_path`, so their unqualified names land there
    /// too. MySQL/MariaDB: a database for the tracking tables only; the
    /// migrations run in the connection's database.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Apply a pending migration whose version is below the highest applied
    /// one instead of refusing (a branch merged late).
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow_out_of_order = allow;
        self
    }

    /// Accept migrations recorded in the database that this binary does not
    /// have, wherever they are (files deleted, or a newer release's
    /// migrations), instead of refusing. Implies `allow_ahead`.
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow_missing = allow;
        self
    }

    /// Accept a database **ahead** of this binary: migrations recorded
    /// above the binary's highest version, applied by a newer release (an
    /// old pod restarting during a rolling deploy, or a rollback of the
    /// code). Default false: `run` refuses with [`Error::Ahead`] naming
    /// them, because the old code may not work on the newer schema, and
    /// that is the operator's call, not a silent default. A version missing
    /// *inside* the binary's range stays [`Error::MissingInBinary`].
    pub fn allow_ahead(mut self, allow: bool) -> Self {
        self.allow_ahead = allow;
        self
    }

    /// How long to wait for another process's migration lock before failing.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How PostgreSQL and MySQL/MariaDB hold the migration lock (see
    /// [`LockMode`]); elsewhere ignored. Default [`LockMode::Session`].
    pub fn lock_mode(mut self, mode: LockMode) -> Self {
        self.lock_mode = mode;
        self
    }

    /// How long any one statement of a migration may run before the
    /// database stops it, for every migration whose file sets no
    /// `migrate:timeout statement=`. PostgreSQL: `statement_timeout`;
    /// MariaDB: `max_statement_time`; MySQL: `max_execution_time` (which the
    /// server applies to `SELECT` only). SQLite and Neo4j have none to
    /// set: a run with one is refused there. The migration fails with
    /// [`Error::TimedOut`] naming it, and is not recorded. Default: none
    /// (the server's own setting).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.statement = Some(timeout);
        self
    }

    /// How long a statement of a migration may wait for a lock another
    /// session holds (a table an `ALTER TABLE` needs), for every migration
    /// whose file sets no `migrate:timeout lock=`; not the wait for the
    /// migration lock, which is [`Settings::lock_timeout`]. PostgreSQL:
    /// `lock_timeout`; MySQL and MariaDB: `lock_wait_timeout` and
    /// `innodb_lock_wait_timeout`, in whole seconds (rounded up). SQLite
    /// (whose one lock, the write lock, is waited for as long as
    /// `lock_timeout` says) and Neo4j have none to set: a run with one is
    /// refused there. Default: none.
    pub fn statement_lock_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.lock = Some(timeout);
        self
    }

    /// Apply all pending migrations in one transaction: all or nothing, and
    /// much faster for many small migrations. Only for backends whose DDL is
    /// transactional (SQLite, PostgreSQL); refused elsewhere.
    pub fn group(mut self, group: bool) -> Self {
        self.group = group;
        self
    }

    /// A database with nothing applied yet (no tracking tables) gets its
    /// tracking tables and every pending migration in one transaction, up
    /// to the first `migrate:no-transaction` or batch migration (from which
    /// on they run one by one): one round trip on PostgreSQL instead of one
    /// per migration, and a failure at any migration leaves the database as
    /// it was, no table and nothing recorded. The records are those a
    /// one-by-one run writes. PostgreSQL, and SQLite in group mode;
    /// elsewhere ignored. Default: on for a tenant added with
    /// [`Tenants::tenant`](crate::Tenants::tenant), off otherwise.
    pub fn provision_in_one_transaction(mut self, provision: bool) -> Self {
        self.provision = Some(provision);
        self
    }

    /// The tracking table's name, as set by [`Settings::table`].
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The schema set by [`Settings::schema`]; `None` when none was set.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The lock timeout, as set by [`Settings::lock_timeout`] (120 seconds
    /// by default).
    pub fn lock_timeout_value(&self) -> Duration {
        self.lock_timeout
    }

    /// The lock mode, as set by [`Settings::lock_mode`].
    pub fn lock_mode_value(&self) -> LockMode {
        self.lock_mode
    }

    /// Names go into SQL text, so only plain identifiers are accepted.
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_identifier("table", &self.table)?;
        if let Some(schema) = &self.schema {
            check_identifier("schema", schema)?;
        }
        let timeouts = [
            ("statement_timeout", self.timeouts.statement),
            ("statement_lock_timeout", self.timeouts.lock),
        ];
        for (setting, timeout) in timeouts {
            if let Some(timeout) = timeout {
                if timeout.is_zero() || timeout.as_millis() > i32::MAX as u128 {
                    return Err(Error::InvalidSettings {
                        message: format!(
                            "Settings::{setting}({timeout:?}): a timeout is at least a millisecond and at most \
                             2^31 - 1 ms (PostgreSQL's limit); leave it unset for none"
                        ),
                    });
                }
            }
        }
        self.check_placeholders()
    }
}

fn check_identifier(what: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 48
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidSettings {
            message: format!(
                "the {what} name `{name}` is not a plain identifier (letters, digits and underscores, not starting with a digit, at most 48 characters)"
            ),
        })
    }
}

/// The placeholder values, an `impl` of their own beside the other settings.
impl Settings {
    /// The value of `${name}` in the migration files. Only values given
    /// here are substituted, never the environment's: read one from it
    /// yourself when you mean to (`std::env::var`). The history row of each
    /// migration that uses placeholders records their values.
    ///
    /// ```
    /// let settings = embedded_migrations::Settings::default()
    ///     .placeholder("schema", "app")
    ///     .placeholder("reader", "app_reader");
    /// assert_eq!(settings.placeholder_value("schema"), Some("app"));
    /// ```
    pub fn placeholder(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.placeholders.insert(name.into(), value.into(), false);
        self
    }

    /// [`Settings::placeholder`] for a value that must not be stored (a
    /// password): substituted like any other, but recorded in the history
    /// as `***`, and shown so by `Debug`.
    pub fn secret_placeholder(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.placeholders.insert(name.into(), value.into(), true);
        self
    }

    /// `--placeholder NAME=VALUE`: the value, secret if the settings
    /// already made it so.
    #[cfg(feature = "cli")]
    pub(crate) fn placeholder_from_command_line(mut self, name: &str, value: &str) -> Self {
        self.placeholders.set_keeping_secret(name, value);
        self
    }

    /// The value given for `${name}`, if any.
    pub fn placeholder_value(&self, name: &str) -> Option<&str> {
        self.placeholders.get(name)
    }

    /// `name` gets `value` unless a value is given for it already: a value
    /// the runtime knows by itself (a tenant's name), which the settings
    /// may override.
    pub(crate) fn placeholder_default(self, name: &str, value: &str) -> Self {
        if self.placeholders.has(name) {
            self
        } else {
            self.placeholder(name, value)
        }
    }

    /// Every placeholder name is one a file could use.
    pub(crate) fn check_placeholders(&self) -> Result<(), Error> {
        match self
            .placeholders
            .names()
            .find(|name| !crate::core::placeholder::is_name(name))
        {
            None => Ok(()),
            Some(name) => Err(Error::InvalidSettings {
                message: format!(
                    "the placeholder name `{name}` cannot appear in a file: {}",
                    crate::core::placeholder::NAME_RULE
                ),
            }),
        }
    }
}
