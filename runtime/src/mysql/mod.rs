//! MySQL and MariaDB through `sqlx::MySqlPool`.
//!
//! DDL commits implicitly there, so a migration that fails (or whose process
//! dies) halfway cannot be rolled back: every migration follows the dirty
//! protocol (protocol.rs). A later run that finds a dirty row stops before
//! changing anything and names it; a person repairs the schema and then
//! calls `force` (it is applied now) or `forget` (it is undone now).
//!
//! `Settings::schema` names the database that holds the tracking tables
//! (created if missing); migrations run in the connection's own database.
//!
//! - backend.rs: the hooks of the shared sqlx session (sql/);
//! - lock.rs: `GET_LOCK` and its holder;
//! - protocol.rs: the dirty protocol in two round trips;
//! - errors.rs: messages with error numbers;
//! - snapshot.rs: the schema from `information_schema`.

mod backend;
mod errors;
mod lock;
mod protocol;
mod snapshot;

use crate::backend::{BoxFuture, Database, Session, Snapshot};
use crate::sql::session::SqlSession;
use crate::{Error, Settings, Sql};
use backend::MySqlBackend;
use sqlx::mysql::MySqlPool;

impl Database for MySqlPool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        SqlSession::open(self, settings, MySqlBackend::new(settings))
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }
}
