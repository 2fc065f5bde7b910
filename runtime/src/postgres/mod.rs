//! PostgreSQL through `sqlx::PgPool`.
//!
//! PostgreSQL DDL is transactional, so each migration runs in one
//! transaction together with its tracking row, the state row and its history
//! row: after a crash it is either applied and recorded, or neither. A run
//! is serialised by a session advisory lock.
//!
//! - backend.rs: the hooks of the shared sqlx session (sql/);
//! - lock.rs: the advisory lock, its key and its holder;
//! - ddl.rs: the schema as statements, for a squashed folder's baseline;
//! - backup.rs: `pg_dump` before a `down`;
//! - batch.rs: a migration and its tracking writes in one query;
//! - tracking.rs: the tracking statements only that batch sends;
//! - search_path.rs: `Settings::schema` on the search path;
//! - errors.rs: messages with SQLSTATE, detail, hint and line;
//! - snapshot.rs: the schema from the catalog;
//! - timescaledb.rs: what TimescaleDB adds to it, when installed.

mod backend;
mod backup;
mod batch;
mod ddl;
mod errors;
mod lock;
mod search_path;
mod snapshot;
mod timescaledb;
mod tracking;

use crate::backend::{BoxFuture, Database, Placement, Session, SharedReads, Snapshot, State, TenantRecords};
use crate::core::split::Dialect;
use crate::sql::session::SqlSession;
use crate::{Error, Settings, Sql};
use backend::PgBackend;
use sqlx::postgres::PgPool;

impl Database for PgPool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        SqlSession::open(self, settings, PgBackend::new(settings, self))
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }

    fn schema_ddl(&self) -> Option<&dyn crate::backend::SchemaDdl> {
        Some(self)
    }

    fn shared_reads(&self) -> Option<&dyn SharedReads> {
        Some(self)
    }
}

/// Schemas of one database are read together; a tenant without
/// `Settings::schema` lives wherever its connection's search path says, so
/// it is read alone.
impl SharedReads for PgPool {
    fn placement(&self, settings: &Settings) -> Option<Placement> {
        settings.schema_name()?;
        let options = self.connect_options();
        let server = self.server();
        let key = format!(
            "{}@{server}/{}",
            options.get_username(),
            options.get_database().unwrap_or_default()
        );
        Some(Placement {
            key,
            settings: settings.clone(),
        })
    }

    fn read_states<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<State>>, Error>> {
        Box::pin(crate::sql::shared::read_states::<PgBackend>(self, tenants))
    }

    fn read_records<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<TenantRecords>>, Error>> {
        Box::pin(crate::sql::shared::read_records::<PgBackend>(self, tenants))
    }

    fn server(&self) -> String {
        let options = self.connect_options();
        format!("{}:{}", options.get_host(), options.get_port())
    }

    fn backend(&self) -> &'static str {
        <PgBackend as crate::sql::session::SqlBackend>::NAME
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
