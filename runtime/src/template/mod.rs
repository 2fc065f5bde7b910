//! A migrated database kept to be copied: the test kit's fresh databases and
//! new tenant databases in milliseconds instead of a full run.
//!
//! A [`Template`] names a migration set at a version: the name is derived
//! from the checksums of every migration up to that version, the repeatable
//! migrations and the tracking table's name and schema, so a changed file
//! gives another name and a stale template is never copied. The first
//! caller builds it (a full run into a database under a building name,
//! published under its final name only when the run succeeded), under a
//! lock every process on the server or machine shares; every caller then
//! copies it:
//!
//! - PostgreSQL: `CREATE DATABASE new TEMPLATE emtpl_… STRATEGY FILE_COPY`;
//! - SQLite: a copy of the template's file;
//! - MySQL/MariaDB: the tables (`SHOW CREATE TABLE`, then their rows), views,
//!   triggers and routines replayed into a new database.
//!
//! The copy holds the template's tracking rows, so `status`, `history` and
//! `run` on it say what a full run would (with the template's `applied_at`
//! and execution times).
//!
//! Templates are named `emtpl_<set>_<version>_<checksums>`, a build in
//! progress (or one killed) `embld_…`. When a build publishes a template, it
//! drops the set's templates whose checksums no longer match the set (a
//! PostgreSQL template still being copied from is left for the next time);
//! `drop_all_*` drops every template and leftover build on a server or in
//! the template folder.

mod build;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "mysql")]
pub use mysql::{drop_all_mysql, mysql_from_template};
#[cfg(feature = "postgres")]
pub use postgres::{drop_all_postgres, postgres_from_template, PostgresCopy};
#[cfg(feature = "sqlite")]
pub use sqlite::{drop_all_sqlite, sqlite_from_template, sqlite_template_dir};

pub use build::{Template, BUILDING_PREFIX, TEMPLATE_PREFIX};
