//! Rust code migrations on the sqlx databases, written once for all three:
//! the function receives the migration's connection, inside the
//! transaction that writes its record where the database allows.
//!
//! - SQLite and PostgreSQL: the state check, the function and the tracking
//!   writes in one transaction; an error or a panic rolls all of it back.
//! - MySQL, whose DDL commits implicitly, and `migrate:no-transaction` on
//!   any of them: the dirty protocol. The mark is committed first; the
//!   function then runs (MySQL: in a transaction with the record's
//!   completion, so a function that only writes data commits with it or
//!   not at all, while a DDL statement commits what came before it and
//!   leaves what follows in autocommit; no-transaction: on the bare
//!   connection, committing as it goes), and a failure leaves the mark for
//!   `force` or `forget`, since what committed cannot be known.

use super::dirty_io::DirtyIo;
use super::io::TrackingIo;
use super::session::{Connection, SqlBackend, SqlSession};
use crate::backend::Change;
use crate::code::run as code;
use crate::code::{Code, On};
use crate::Error;
use std::time::Instant;

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    Connection<B>: 'static,
{
    /// Runs a code migration's change (see the module's docs for what each
    /// database guarantees).
    pub(crate) async fn apply_code(&mut self, change: &Change<'_>, code: Code) -> Result<(), Error> {
        let function = code::function::<Connection<B>>(change, code, B::NAME)?;
        let script = change.migration.script(change.direction);
        if B::TRANSACTIONAL_DDL && !script.no_transaction {
            self.code_in_transaction(change, function).await
        } else {
            self.code_marked(change, function, !script.no_transaction).await
        }
    }

    /// The state check, the function and the record in one transaction.
    /// On any failure the transaction is dropped, which rolls it back.
    async fn code_in_transaction(&mut self, change: &Change<'_>, function: On<Connection<B>>) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        Self::check_state(&mut tx, sql, &change.state_before).await?;
        B::enter_transaction(&mut tx, sql).await?;
        let started = Instant::now();
        code::run(change, function, &mut *tx, true).await?;
        let execution_ms = started.elapsed().as_millis() as i64;
        B::DB::record_change(&mut tx, sql, change, execution_ms, true)
            .await
            .map_err(Self::db_err("recording the migration"))?;
        tx.commit().await.map_err(Self::db_err("committing the migration"))
    }

    /// The dirty protocol around the function: the mark committed, the
    /// function run (in a transaction with the record's completion when
    /// `in_transaction`, else on the bare connection), the record made
    /// clean. A failure of the function leaves the mark.
    async fn code_marked(
        &mut self,
        change: &Change<'_>,
        function: On<Connection<B>>,
        in_transaction: bool,
    ) -> Result<(), Error> {
        self.mark(change).await?;
        let sql = &self.sql;
        let started = Instant::now();
        if in_transaction {
            let mut tx = B::begin(&mut self.conn).await?;
            code::run(change, function, &mut *tx, false).await?;
            let execution_ms = started.elapsed().as_millis() as i64;
            let finish = async {
                B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
                tx.commit().await
            };
            finish.await.map_err(Self::db_err("recording the migration"))
        } else {
            code::run(change, function, &mut *self.conn, false).await?;
            let execution_ms = started.elapsed().as_millis() as i64;
            let mut tx = B::begin(&mut self.conn).await?;
            let finish = async {
                B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
                tx.commit().await
            };
            finish.await.map_err(Self::db_err("recording the migration"))
        }
    }
}
