//! How a sqlx session runs a change, for all three databases: its
//! statements one by one (so an error names its statement), the state check,
//! the batch of a transactional backend with its replay on failure, and the
//! dirty protocol for statements that cannot share a transaction.

use super::dirty_io::DirtyIo;
use super::io::TrackingIo;
use super::session::{Connection, SqlBackend, SqlSession};
use super::tracking::TrackingSql;
use crate::backend::{Change, State};
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Fails with `Conflict` unless the state row is the one the plan was
    /// made on; where the database can, the row stays locked until the
    /// transaction ends.
    pub(crate) async fn check_state(
        conn: &mut Connection<B>,
        sql: &TrackingSql,
        expected: &State,
    ) -> Result<(), Error> {
        let state = B::DB::fetch_state(conn, sql.select_state_for_update())
            .await
            .map_err(Self::db_err("reading the state"))?;
        if state == Some(*expected) {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    /// The dirty protocol's first step, in a transaction of its own: the
    /// state checked, the change marked dirty, committed. What runs after
    /// it is a file's statements (dirty.rs) or a code migration's function
    /// (code.rs).
    pub(crate) async fn mark(&mut self, change: &Change<'_>) -> Result<(), Error>
    where
        B::DB: DirtyIo,
    {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        Self::check_state(&mut tx, sql, &change.state_before).await?;
        let marked = async {
            B::DB::mark_dirty(&mut tx, sql, change).await?;
            tx.commit().await
        };
        marked.await.map_err(Self::db_err("marking the migration dirty"))
    }

    /// Takes back the dirty mark of a change whose first statement failed.
    pub(crate) async fn unmark(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let undo = async {
            B::DB::unmark_dirty(&mut tx, sql, change).await?;
            tx.commit().await
        };
        undo.await.map_err(Self::db_err("taking back the dirty mark"))
    }

    /// Adds the columns a tracking table of an older release lacks
    /// (`run_columns`), under the lock, each once: a table that has them
    /// costs one probe.
    pub(crate) async fn upgrade(&mut self) -> Result<(), Error> {
        self.upgrade_history().await?;
        let columns = self.sql.run_columns();
        let all = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        if compat::raw_sql(assert_sql_safe!(self.sql.probe_column(&all)))
            .execute(&mut *self.conn)
            .await
            .is_ok()
        {
            return Ok(());
        }
        for (name, ty) in columns {
            let present = compat::raw_sql(assert_sql_safe!(self.sql.probe_column(name)))
                .execute(&mut *self.conn)
                .await
                .is_ok();
            if !present {
                compat::raw_sql(assert_sql_safe!(self.sql.add_column(name, ty)))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(Self::db_err("upgrading the tracking table"))?;
            }
        }
        Ok(())
    }

    /// Adds the placeholders column a history table of an older release
    /// lacks; a table that has it costs one probe.
    async fn upgrade_history(&mut self) -> Result<(), Error> {
        let probe = compat::raw_sql(assert_sql_safe!(self.sql.probe_history_placeholders()))
            .execute(&mut *self.conn)
            .await;
        if probe.is_ok() {
            return Ok(());
        }
        compat::raw_sql(assert_sql_safe!(self.sql.add_history_placeholders()))
            .execute(&mut *self.conn)
            .await
            .map_err(Self::db_err("upgrading the history table"))?;
        Ok(())
    }
}
