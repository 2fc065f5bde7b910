//! SQLite's write transaction: `BEGIN IMMEDIATE`, so that the wait for
//! another writer happens at the start (the busy timeout `lock` set) and a
//! busy database is told apart as a lock timeout.

use super::errors::begin_failed;
use super::exec::{self, TxFailure};
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::Connection;
use std::time::Instant;

/// sqlx's transaction, begun with `BEGIN IMMEDIATE`: SQLite's write lock.
/// The wait is SQLite's own busy handler, which `lock` set to the lock
/// timeout for this session.
pub(super) async fn begin_immediate(
    conn: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, Sqlite>, crate::Error> {
    let started = Instant::now();
    conn.begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|err| begin_failed(err, started))
}

/// `work` in a `BEGIN IMMEDIATE` transaction: in one borrow of the handle
/// when the write lock is free (the usual case), otherwise in sqlx's
/// transaction, whose wait for the lock (the busy timeout `lock` set) can
/// be cancelled, with the work in a borrow of its own.
pub(super) async fn in_write_transaction<W>(
    conn: &mut SqliteConnection,
    busy_timeout_ms: Option<i32>,
    work: W,
) -> Result<(), TxFailure>
where
    W: FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error>,
{
    let work = match busy_timeout_ms {
        Some(busy) => match exec::write_transaction_now(conn, busy, work).await {
            Ok(done) => return done,
            Err(busy_work) => busy_work,
        },
        None => work,
    };
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(TxFailure::Begin)?;
    match exec::borrowed(&mut tx, work).await {
        Ok(()) => tx.commit().await.map_err(TxFailure::Commit),
        Err(err) => {
            // A statement that ended the transaction leaves none for sqlx
            // to roll back, and sqlx would go on counting it as open: an
            // empty one is begun for its rollback.
            let reopened = exec::borrowed(&mut tx, |db| match exec::in_transaction(db) {
                true => Ok(()),
                false => exec::exec(db, c"BEGIN"),
            });
            if let Err(reopen) = reopened.await {
                tracing::debug!(error = %reopen, "beginning a transaction for sqlx to roll back");
            }
            if let Err(rollback) = tx.rollback().await {
                // SQLite rolls a transaction back by itself on some errors
                // (disk full, I/O); anything else leaves sqlx to roll back on drop.
                tracing::debug!(error = %rollback, "rolling back the failed batch");
            }
            Err(TxFailure::Work(err))
        }
    }
}
