//! What the three sqlx databases (SQLite, PostgreSQL, MySQL/MariaDB) share,
//! by layer (text.rs, tracking.rs and script.rs, which need no sqlx, with
//! the plain drivers of driver/ too), from the text of a statement to the contract:
//!
//! - text.rs: names and values as SQL text, per dialect;
//! - script.rs: a file as the statements a transaction sends, and the
//!   statements that end a transaction (also the plain drivers', driver/);
//! - tracking.rs: the tracking tables' statements;
//! - io.rs: binding and decoding them through sqlx, generic over the database;
//! - checkpoint.rs: the batch checkpoint table, statements and I/O;
//! - session.rs: [`SqlSession`](session::SqlSession) on one pooled
//!   connection, and [`SqlBackend`](session::SqlBackend), the hooks through
//!   which each database says what differs;
//! - apply.rs: a change's statements one by one, the state check, the
//!   upgrade of an older tracking table;
//! - transaction.rs (SQLite, PostgreSQL): a change or a group in one
//!   transaction as one batch, replayed on failure;
//! - dirty_io.rs: the dirty protocol's tracking writes (mark, count, clean
//!   record), for all three;
//! - dirty.rs (SQLite, PostgreSQL): the dirty protocol for statements that
//!   cannot share a transaction;
//! - batches.rs: batch migrations, one batch per transaction;
//! - contract.rs: the `Session` contract, once for all three;
//! - schema_record.rs: the schema record table beside the tracking tables;
//! - shared.rs (PostgreSQL, MySQL): many tenants' records in one query;
//! - table_lock.rs (PostgreSQL, MySQL): `LockMode::Table`, the lock as a
//!   leased row.
//!
//! Each database's folder (sqlite/, postgres/, mysql/) holds what only it
//! does: its lock, its transactions, its batch, its messages, its schema.

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod apply;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod batches;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod checkpoint;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod code;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod compat;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod contract;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod dirty;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod dirty_io;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod io;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod schema_record;
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "rusqlite",
    feature = "tokio-postgres"
))]
pub(crate) mod script;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod session;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) mod shared;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) mod table_lock;
pub(crate) mod text;
pub(crate) mod tracking;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod transaction;
