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
//! - ddl.rs: the schema as statements, for a squashed folder's baseline;
//! - backup.rs: `mariadb-dump` or `mysqldump` before a `down`;
//! - errors.rs: messages with error numbers;
//! - snapshot.rs: the schema from `information_schema`.

mod backend;
mod backup;
mod ddl;
mod errors;
mod lock;
mod protocol;
mod snapshot;

use crate::backend::{BoxFuture, Database, Placement, Session, SharedReads, Snapshot, State, TenantRecords};
use crate::core::split::Dialect;
use crate::sql::session::SqlSession;
use crate::{Error, Settings, Sql};
use backend::MySqlBackend;
use sqlx::mysql::MySqlPool;

impl Database for MySqlPool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        SqlSession::open(self, settings, MySqlBackend::new(settings, self))
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

/// Databases of one server are read together: a tenant's tracking tables
/// are in the database `Settings::schema` names, or else in its
/// connection's own, which a query on another tenant's connection names.
impl SharedReads for MySqlPool {
    fn placement(&self, settings: &Settings) -> Option<Placement> {
        let options = self.connect_options();
        let database = match settings.schema_name() {
            Some(schema) => schema.to_string(),
            None => options.get_database()?.to_string(),
        };
        let server = self.server();
        let key = format!("{}@{server}", options.get_username());
        Some(Placement {
            key,
            settings: settings.clone().schema(database),
        })
    }

    fn read_states<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<State>>, Error>> {
        Box::pin(crate::sql::shared::read_states::<MySqlBackend>(self, tenants))
    }

    fn read_records<'a>(&'a self, tenants: &'a [Settings]) -> BoxFuture<'a, Result<Vec<Option<TenantRecords>>, Error>> {
        Box::pin(crate::sql::shared::read_records::<MySqlBackend>(self, tenants))
    }

    fn server(&self) -> String {
        let options = self.connect_options();
        format!("{}:{}", options.get_host(), options.get_port())
    }

    fn backend(&self) -> &'static str {
        <MySqlBackend as crate::sql::session::SqlBackend>::NAME
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }
}
