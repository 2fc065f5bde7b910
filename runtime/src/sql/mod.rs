//! What the three sqlx databases (SQLite, PostgreSQL, MySQL/MariaDB) share,
//! by layer, from the text of a statement to the contract:
//!
//! - text.rs: names and values as SQL text, per dialect;
//! - tracking.rs: the tracking tables' statements;
//! - io.rs: binding and decoding them through sqlx, generic over the database;
//! - checkpoint.rs: the batch checkpoint table, statements and I/O;
//! - session.rs: [`SqlSession`] on one pooled connection, and [`SqlBackend`],
//!   the hooks through which each database says what differs;
//! - apply.rs: running a change (statement by statement, as a batch with its
//!   replay, or under the dirty protocol);
//! - batches.rs: batch migrations, one batch per transaction;
//! - contract.rs: the `Session` contract, once for all three;
//! - schema_record.rs: the schema record table beside the tracking tables.
//!
//! Each database's folder (sqlite/, postgres/, mysql/) holds what only it
//! does: its lock, its transactions, its batch, its messages, its schema.

mod apply;
mod batches;
mod checkpoint;
mod contract;
mod io;
mod schema_record;
mod session;
mod text;
mod tracking;

pub(crate) use apply::statements;
pub(crate) use io::TrackingIo;
pub(crate) use schema_record::{sqlx_snapshot_impl, RecordSql};
pub(crate) use session::{
    database_message, driver_error, lock_released, BatchFailure, SqlBackend, SqlSession, TransactionalBatch,
};
pub(crate) use text::SqlText;
pub(crate) use tracking::{join_statements, TrackingSql};
