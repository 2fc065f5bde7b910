//! SQLite through `sqlx::SqlitePool`.
//!
//! SQLite has no advisory lock, but its write lock is database-wide: each
//! migration runs in a `BEGIN IMMEDIATE` transaction that first re-reads the
//! state row. A second process booting at the same moment waits for the
//! write lock, sees that the state moved, and plans again; so each migration
//! is applied once without a lock row that a crash could leave behind. A
//! run of a database file also holds a file lock beside it (lock.rs).
//!
//! - backend.rs: the hooks of the shared sqlx session (sql/);
//! - lock.rs: the run's busy timeout and file lock;
//! - ddl.rs: the schema as statements, for a squashed folder's baseline;
//! - backup.rs: `VACUUM INTO` before a `down`;
//! - transaction.rs: `BEGIN IMMEDIATE`, in one borrow of the handle when it can;
//! - batch.rs: the batch, timed by the client;
//! - exec.rs: SQLite's C API on sqlx's handle (the crate's only `unsafe`);
//! - errors.rs: busy, missing tables, lock timeouts;
//! - snapshot.rs: the schema from `sqlite_master`.

mod backend;
mod backup;
mod batch;
mod ddl;
mod errors;
mod exec;
mod lock;
mod snapshot;
mod transaction;

use crate::backend::{BoxFuture, Database, Session, Snapshot};
use crate::sql::session::SqlSession;
use crate::{Error, Settings, Sql};
use backend::SqliteBackend;
use sqlx::sqlite::SqlitePool;

impl Database for SqlitePool {
    type Language = Sql;

    fn open<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        SqlSession::open(self, settings, SqliteBackend::default())
    }

    fn snapshots(&self) -> Option<&dyn Snapshot> {
        Some(self)
    }

    fn schema_ddl(&self) -> Option<&dyn crate::backend::SchemaDdl> {
        Some(self)
    }
}
