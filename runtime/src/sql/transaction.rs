//! Transactional DDL (SQLite, PostgreSQL): a change, or a group of them,
//! in one transaction with its record, sent as one batch; a batch that
//! fails is rolled back and replayed statement by statement, so that the
//! error names the statement exactly as if it had been sent alone.

use super::dirty_io::DirtyIo;
use super::io::TrackingIo;
use super::script::{locate_end, rolls_back};
use super::session::{mark_timeout, timeouts_for, Connection, SqlBackend, SqlSession};
use super::tracking::TrackingSql;
use crate::backend::{BoxFuture, Change, GroupApply, Provision, Session};
use crate::code::run as code;
use crate::core::split::split;
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use std::future::Future;
use std::time::Instant;

/// A backend whose DDL is transactional: transactional changes (one, or a
/// group) run as one batch in one transaction ([`SqlSession::apply_batched`]).
pub(crate) trait TransactionalBatch: SqlBackend {
    /// Whether a database with nothing applied is provisioned in one
    /// transaction without group mode ([`Provision::by_default`]).
    const PROVISION_BY_DEFAULT: bool;

    /// Runs `changes` in one transaction, their statements and tracking
    /// writes as a batch. PostgreSQL sends BEGIN, the batch and COMMIT in
    /// one query; SQLite hands the batch to the library in its own
    /// `BEGIN IMMEDIATE`, timed by the client.
    fn run_in_transaction<'a>(
        session: &'a mut SqlSession<Self>,
        changes: &'a [Change<'a>],
    ) -> impl Future<Output = Result<(), BatchFailure>> + Send + 'a;
}

/// How a batch failed.
pub(crate) enum BatchFailure {
    /// The batch failed and was rolled back: replayed statement by
    /// statement, it names the statement that failed.
    RolledBack(sqlx::Error),
    /// A statement of the migrations ended the transaction the batch
    /// opened (`COMMIT`, `END`, `ROLLBACK`, ...), as the database itself
    /// showed: what ran before it may have committed without its record.
    /// `change` and `statement` index the changes and the change's
    /// statements where the backend saw it happen (SQLite checks after each
    /// statement; PostgreSQL after each change); what is not known is found
    /// by the statements' words.
    Ended {
        change: Option<usize>,
        statement: Option<usize>,
        /// The error of a statement that ran after the end, outside the
        /// transaction, and stopped the batch.
        after: Option<sqlx::Error>,
    },
    /// A failure no replay explains (the write lock, the commit).
    Other(Error),
}

impl From<Error> for BatchFailure {
    fn from(err: Error) -> Self {
        BatchFailure::Other(err)
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// The statements that create the tracking tables (and their schema)
    /// at the start of the next transaction, when it provisions a database
    /// from nothing; none otherwise.
    pub(crate) fn creation(&self) -> Vec<String> {
        if !self.create_first {
            return Vec::new();
        }
        self.sql
            .create_schema_if_missing()
            .into_iter()
            .chain(self.sql.create())
            .collect()
    }

    /// Runs `creation` ([`Self::creation`]) in the caller's transaction.
    async fn create_in(conn: &mut Connection<B>, creation: &[String]) -> Result<(), Error> {
        for statement in creation {
            compat::raw_sql(assert_sql_safe!(statement.clone()))
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err("creating the tracking tables"))?;
        }
        Ok(())
    }

    /// Runs the statements of a change one by one, so that an error names
    /// its statement (and so that a file is never turned into one implicit
    /// transaction by a multi-statement query).
    pub(crate) async fn run_statements(
        conn: &mut Connection<B>,
        sql: &TrackingSql,
        change: &Change<'_>,
        in_transaction: bool,
    ) -> Result<(), Error> {
        let (timeouts, given) = timeouts_for::<B>(sql, change, in_transaction)?;
        for statement in &given.set {
            compat::raw_sql(assert_sql_safe!(statement.clone()))
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err("setting the migration's timeouts"))?;
        }
        for statement in split(change.text(), B::DIALECT) {
            if let Err(err) = compat::raw_sql(assert_sql_safe!(statement.text))
                .execute(&mut *conn)
                .await
            {
                let line = B::error_line(&err, statement.text, statement.line);
                let failed = change.failed(statement.text, line, B::message(&err), in_transaction);
                return Err(mark_timeout::<B>(failed, err, timeouts));
            }
        }
        for statement in &given.reset {
            compat::raw_sql(assert_sql_safe!(statement.clone()))
                .execute(&mut *conn)
                .await
                .map_err(Self::db_err("resetting the migration's timeouts"))?;
        }
        Ok(())
    }

    /// Finds what made a batch fail: the same changes, one statement at a
    /// time, in a transaction that is always rolled back. The first
    /// statement refused is the error, exactly as precise as running it
    /// alone; a state that moved is `Conflict`. If the replay meets no
    /// failure (the cause was transient), the batch's own error is returned.
    async fn replay(&mut self, changes: &[Change<'_>], batch_error: sqlx::Error) -> Error {
        let creation = self.creation();
        let sql = &self.sql;
        let mut tx = match B::begin(&mut self.conn).await {
            Ok(tx) => tx,
            Err(err) => return err,
        };
        let located = async {
            Self::create_in(&mut tx, &creation).await?;
            Self::check_state(&mut tx, sql, &changes[0].state_before).await?;
            B::enter_transaction(&mut tx, sql).await?;
            for change in changes {
                Self::run_statements(&mut tx, sql, change, true).await?;
                B::DB::record_change(&mut tx, sql, change, 0, false)
                    .await
                    .map_err(Self::db_err("recording the migration"))?;
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(err) = tx.rollback().await {
            tracing::debug!(error = %err, "rolling back the replay of a failed batch");
        }
        match located {
            Err(err) => err,
            Ok(()) => Error::database(
                B::NAME,
                "applying the migrations (the batch failed; replayed statement by statement, it did not)",
                B::message(&batch_error),
            ),
        }
    }
}

impl<B: TransactionalBatch> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    B::DB: DirtyIo,
{
    /// Transactional changes (one, or a group) in one transaction, their
    /// statements and tracking writes in batches rather than one by one
    /// ([`TransactionalBatch::run_in_transaction`]: on PostgreSQL one query
    /// per migration, BEGIN and COMMIT included; on SQLite one hop to
    /// sqlx's worker, however many statements and migrations).
    ///
    /// A batch that fails is rolled back and then replayed one statement at
    /// a time in a transaction that is rolled back too ([`Self::replay`]),
    /// so the error names the statement, its line and the database's own
    /// message exactly as if the statements had been sent one by one.
    pub(crate) async fn apply_batched(&mut self, changes: &[Change<'_>]) -> Result<(), Error> {
        if changes.is_empty() {
            return Ok(());
        }
        match B::run_in_transaction(self, changes).await {
            Ok(()) => Ok(()),
            Err(BatchFailure::RolledBack(failure)) => Err(self.replay(changes, failure).await),
            Err(BatchFailure::Ended {
                change,
                statement,
                after,
            }) => Err(self.transaction_ended(changes, change, statement, after).await),
            Err(BatchFailure::Other(err)) => Err(err),
        }
    }

    /// A statement of the file ended the batch's transaction. Nothing after
    /// it committed (SQLite stops there; on PostgreSQL what ran after it,
    /// outside the transaction, was rolled back by the check that found
    /// it). A `ROLLBACK` took everything before it back: nothing is
    /// recorded. A `COMMIT` or `END` committed the statements before it
    /// without their record: the changes of the group before this one are
    /// recorded as applied, and this one is marked dirty with the count of
    /// its statements that committed, as a `no-transaction` file's would be.
    /// The error names the statement and says so; a statement that failed
    /// after it is named too.
    async fn transaction_ended(
        &mut self,
        changes: &[Change<'_>],
        change: Option<usize>,
        statement: Option<usize>,
        after: Option<sqlx::Error>,
    ) -> Error {
        let (index, at) = locate_end(changes, change, statement, B::DIALECT);
        let change = &changes[index];
        let statements = split(change.text(), B::DIALECT);
        let Some(ender) = statements.get(at) else {
            return Error::database(B::NAME, "applying the migration", "the migration ended its transaction");
        };
        let mut message = String::from(
            "this statement ended the transaction the migration runs in (a migration's file must not end it: \
             the runtime opens it, and commits it with the migration's record)",
        );
        if let Some(err) = &after {
            message.push_str(&format!(
                "; a statement after it, outside the transaction, then failed: {}",
                B::message(err)
            ));
        }
        if rolls_back(ender.text) {
            message.push_str("; it rolled back every statement before it, and nothing after it committed");
            return change.failed(ender.text, ender.line, message, true);
        }
        message.push_str("; the statements before it committed, nothing after it did");
        let earlier = &changes[..index];
        if !earlier.is_empty() {
            let versions: Vec<String> = earlier.iter().map(|c| c.migration.version.to_string()).collect();
            message.push_str(&format!(
                "; migration(s) {} of the group, before it, committed with it and are recorded as applied",
                versions.join(", ")
            ));
            if let Err(err) = <Self as Session>::record_applied(self, earlier).await {
                tracing::warn!(error = %err, "recording the migrations a file's COMMIT committed");
            }
        }
        if at > 0 {
            if let Err(err) = self.mark_committed(change, at).await {
                tracing::warn!(error = %err, "marking dirty the migration whose file ended its transaction");
            }
        }
        change.failed_after(ender.text, ender.line, message, false, at as u32)
    }

    /// A group that holds a Rust code migration: one transaction still,
    /// the state checked once, each SQL change's statements sent one by
    /// one and each code migration's function called in its place (a
    /// function is not text a batch can carry), every record written
    /// beside its change. Any failure drops the transaction, which rolls
    /// all of it back: the error names the statement or the function.
    async fn apply_with_code(&mut self, changes: &[Change<'_>]) -> Result<(), Error>
    where
        Connection<B>: 'static,
    {
        let creation = self.creation();
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        Self::create_in(&mut tx, &creation).await?;
        Self::check_state(&mut tx, sql, &changes[0].state_before).await?;
        B::enter_transaction(&mut tx, sql).await?;
        for (index, change) in changes.iter().enumerate() {
            let started = Instant::now();
            match change.code {
                Some(code) => {
                    let function = code::function::<Connection<B>>(change, code, B::NAME)?;
                    code::run(change, function, &mut *tx, true).await?;
                }
                None => Self::run_statements(&mut tx, sql, change, true).await?,
            }
            let execution_ms = started.elapsed().as_millis() as i64;
            let last = index + 1 == changes.len();
            B::DB::record_change(&mut tx, sql, change, execution_ms, last)
                .await
                .map_err(Self::db_err("recording the migration"))?;
        }
        tx.commit().await.map_err(Self::db_err("committing the migrations"))
    }

    /// Marks `change` dirty with `committed` of its statements committed,
    /// in one transaction, after checking the state.
    async fn mark_committed(&mut self, change: &Change<'_>, committed: usize) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        Self::check_state(&mut tx, sql, &change.state_before).await?;
        let marked = async {
            B::DB::mark_dirty(&mut tx, sql, change).await?;
            B::DB::count_committed(&mut tx, sql, change.migration.version, committed as i64).await?;
            tx.commit().await
        };
        marked.await.map_err(Self::db_err("marking the migration dirty"))
    }
}

impl<B: TransactionalBatch> GroupApply for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    B::DB: DirtyIo,
{
    /// In doubt while it runs, and after it as a single change would be.
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let before = self.doubtful;
            self.doubtful = true;
            let applied = if changes.iter().any(|change| change.code.is_some()) {
                self.apply_with_code(changes).await
            } else {
                self.apply_batched(changes).await
            };
            if super::contract::settled::<B, _>(&applied) {
                self.doubtful = before;
            }
            applied
        })
    }
}

impl<B: TransactionalBatch> Provision for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    B::DB: DirtyIo,
{
    fn by_default(&self) -> bool {
        B::PROVISION_BY_DEFAULT
    }

    /// A group whose transaction creates the tracking tables first: the
    /// group's batch, its replay and its code path all begin with them.
    fn provision<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.create_first = true;
            let provisioned = GroupApply::apply_group(self, changes).await;
            self.create_first = false;
            provisioned
        })
    }
}
