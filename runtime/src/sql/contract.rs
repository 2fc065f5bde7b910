//! The contract of `backend.rs` for every sqlx database, written once: what
//! the engine calls, each method a step of apply.rs, io.rs or the
//! backend's own hooks.

use super::io::TrackingIo;
use super::session::{Connection, SqlBackend, SqlSession};
use crate::backend::{
    Backups, BatchSupport, BoxFuture, Change, ForeignColumn, ForeignHistory, GroupApply, Provision, RecordEdit,
    Session, State,
};
use crate::core::split::Dialect;
use crate::records::{AppliedMigration, HistoryEntry};
use crate::{Error, Script};
use std::time::Duration;

impl<B: SqlBackend> Session for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    Connection<B>: 'static,
{
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn dialect(&self) -> Dialect {
        B::DIALECT
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(async move {
            match B::DB::fetch_state(&mut self.conn, self.sql.select_state()).await {
                Ok(state) => Ok(state),
                Err(err) if B::no_such_table(&err) => Ok(None),
                Err(err) => match B::state_table_exists(self).await? {
                    true => Err(Self::db_err("reading the state")(err)),
                    false => Ok(None),
                },
            }
        })
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(async move {
            B::DB::fetch_applied(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the tracking table"))
        })
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(async move {
            B::DB::fetch_history(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the history table"))
        })
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::lock(self, timeout))
    }

    /// Also puts a session in doubt back as the pool handed it out, or
    /// leaves it to be closed.
    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            if self.doubtful {
                self.doubtful = !B::restore_session(self).await;
            }
            B::unlock(self).await
        })
    }

    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            B::create_tracking(self).await?;
            self.upgrade().await
        })
    }

    /// The session is in doubt while the change runs (a cancelled one
    /// stays so), and after it when it ran outside a transaction or failed
    /// (see [`settled`]). A Rust code migration runs its function (code.rs);
    /// one that failed leaves the session in doubt, whatever the user's code
    /// did to it.
    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let before = self.doubtful;
            self.doubtful = true;
            let applied = match change.code {
                Some(code) => self.apply_code(change, code).await,
                None => B::apply(self, change).await,
            };
            if self.runs_in_transaction(change.migration.script(change.direction)) && settled::<B, _>(&applied) {
                self.doubtful = before;
            }
            applied
        })
    }

    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            B::DB::insert_history(&mut self.conn, &self.sql, entry)
                .await
                .map_err(Self::db_err("writing the history"))
        })
    }

    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            let write = async {
                B::DB::rewrite_record(&mut tx, sql, edit, state).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("updating the tracking table"))
        })
    }

    /// Never on MySQL, whose DDL commits implicitly.
    fn runs_in_transaction(&self, script: &Script) -> bool {
        B::TRANSACTIONAL_DDL && !script.no_transaction
    }

    /// Every row, its history row and the final state in one transaction,
    /// after checking the state (MySQL too: these are data writes, no DDL).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
                return Ok(());
            };
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            Self::check_state(&mut tx, sql, &first.state_before).await?;
            let write = async {
                for change in changes {
                    B::DB::record_change(&mut tx, sql, change, 0, false).await?;
                }
                B::DB::write_state(&mut tx, sql, &last.state_after).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("recording migrations as applied"))
        })
    }

    fn group(&mut self) -> Option<&mut dyn GroupApply> {
        B::group(self)
    }

    fn provision(&mut self) -> Option<&mut dyn Provision> {
        B::provision(self)
    }

    /// Batch migrations run batch by batch (batches.rs).
    fn batches(&mut self) -> Option<BatchSupport<'_>> {
        Some(BatchSupport::Statement(self))
    }

    fn backups(&mut self) -> Option<&mut dyn Backups> {
        Some(self)
    }

    fn foreign_history(&mut self) -> Option<&mut dyn ForeignHistory> {
        Some(self)
    }
}

/// Whether a change that ran in a transaction left the session as it
/// found it: it committed, or its transaction was rolled back where that
/// takes back what its statements changed in the session.
pub(crate) fn settled<B: SqlBackend, T>(applied: &Result<T, Error>) -> bool {
    match applied {
        Ok(_) => true,
        Err(Error::MigrationFailed { rolled_back: true, .. }) => B::ROLLBACK_RESTORES_SESSION,
        Err(Error::TimedOut { error, .. }) => {
            matches!(**error, Error::MigrationFailed { rolled_back: true, .. }) && B::ROLLBACK_RESTORES_SESSION
        }
        Err(_) => false,
    }
}

impl<B: SqlBackend> ForeignHistory for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>> {
        Box::pin(async move {
            let query = self.sql.select_foreign(table, columns);
            let operation = format!("reading `{table}`");
            B::DB::fetch_text(&mut self.conn, query, columns.len())
                .await
                .map_err(|err| Error::database(B::NAME, operation.as_str(), B::message(&err)))
        })
    }
}

impl<B: SqlBackend> Backups for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    Connection<B>: 'static,
{
    fn write_backup<'a>(&'a mut self, backup: &'a crate::Backup) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(B::backup(self, backup))
    }
}
