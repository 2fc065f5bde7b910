//! The `Session` of every plain driver, written once over [`Driver`]: the
//! tracking statements of sql/tracking.rs bound as literals (text.rs), a
//! change and its record in one transaction with the state guard, the
//! replay that names a failed statement, a file that ends its transaction,
//! and the dirty protocol for `no-transaction` files. The rows it writes
//! are those the sqlx sessions write (sql/io.rs, sql/dirty_io.rs), from
//! the same statements.

use super::io::{Driver, Row, Transaction, TxFailure};
use super::text::{self, Statements};
use crate::backend::{
    BoxFuture, Change, ForeignColumn, ForeignHistory, GroupApply, Provision, RecordEdit, Session, State,
};
use crate::core::split::{split, Dialect};
use crate::records::{AppliedMigration, HistoryEntry};
use crate::sql::script::{join_statements, locate_end, rolls_back, statements};
use crate::sql::tracking::TrackingSql;
use crate::{Error, Script, Settings};
use std::time::{Duration, Instant};

/// One connection of a plain driver, for one operation.
pub(crate) struct DriverSession<D: Driver> {
    pub driver: D,
    sql: TrackingSql,
    /// The bare name of the state table (for the driver's catalog query).
    state_table: String,
    /// The bare schema of the tracking tables, when set.
    schema: Option<String>,
    /// The next transaction creates the tracking tables (and their schema)
    /// before anything else: a database provisioned from nothing in one
    /// transaction (`Provision`).
    create_first: bool,
}

impl<D: Driver> DriverSession<D> {
    pub(crate) fn new(driver: D, settings: &Settings) -> Self {
        DriverSession {
            driver,
            sql: TrackingSql::new(D::DIALECT, settings),
            state_table: format!("{}_state", settings.table_name()),
            schema: settings.schema_name().map(str::to_string),
            create_first: false,
        }
    }

    /// The statements that create the tracking tables (and their schema),
    /// the schema only when missing: PostgreSQL checks the CREATE privilege
    /// before `IF NOT EXISTS`.
    fn creation(&self) -> Vec<String> {
        let mut create: Vec<String> = self.sql.create_schema_if_missing().into_iter().collect();
        create.extend(self.sql.create());
        create
    }

    /// [`Self::creation`] when this transaction provisions the database.
    fn creation_first(&self) -> Vec<String> {
        match self.create_first {
            true => self.creation(),
            false => Vec::new(),
        }
    }

    fn statements(&self) -> Statements<'_> {
        Statements { sql: &self.sql }
    }

    /// A driver error as ours, in the database's own words.
    fn err(operation: &str) -> impl FnOnce(D::Error) -> Error + '_ {
        move |err| Error::database(D::NAME, operation, D::message(&err)).with_source(err)
    }

    /// Runs `statements` (tracking writes) in a transaction of their own,
    /// after checking the state is `expected` when given. A wait for the
    /// write lock that runs out is the lock timeout.
    async fn write(&mut self, expected: Option<&State>, statements: Vec<String>, operation: &str) -> Result<(), Error> {
        let started = Instant::now();
        if let Err(err) = self.driver.execute(D::BEGIN).await {
            return Err(self.lock_or(err, started, "beginning a transaction"));
        }
        let written = async {
            if let Some(expected) = expected {
                self.check_state(expected).await?;
            }
            if !statements.is_empty() {
                let script = join_statements(statements);
                if let Err(err) = self.driver.execute(&script).await {
                    return Err(self.lock_or(err, started, operation));
                }
            }
            if let Err(err) = self.driver.execute("COMMIT").await {
                return Err(self.lock_or(err, started, operation));
            }
            Ok(())
        }
        .await;
        if written.is_err() {
            self.rollback().await;
        }
        written
    }

    /// `err`, or the lock timeout when it is a wait for a lock that ran out.
    fn lock_or(&self, err: D::Error, started: Instant, operation: &str) -> Error {
        match D::busy(&err) {
            true => Error::LockTimeout {
                backend: D::NAME,
                waited: started.elapsed(),
                holder: Some("another connection writing to the database".to_string()),
            },
            false => Self::err(operation)(err),
        }
    }

    /// Rolls back whatever transaction is open; a failure is only logged
    /// (there may be none).
    async fn rollback(&mut self) {
        if let Ok(true) = self.driver.in_transaction().await {
            if let Err(err) = self.driver.execute("ROLLBACK").await {
                tracing::debug!(error = %err, "rolling back");
            }
        }
    }

    /// `Conflict` unless the state row is `expected`.
    async fn check_state(&mut self, expected: &State) -> Result<(), Error> {
        let rows = self
            .driver
            .query(&self.sql.select_state())
            .await
            .map_err(Self::err("reading the state"))?;
        let state = rows.first().map(|row| text::state(D::NAME, row)).transpose()?;
        match state == Some(*expected) {
            true => Ok(()),
            false => Err(Error::Conflict),
        }
    }

    /// The rows of `query`, or of `legacy` (a table of an older release,
    /// which only a run upgrades) when the first fails.
    async fn rows_or_legacy(
        &mut self,
        query: String,
        legacy: String,
        operation: &str,
    ) -> Result<(Vec<Row>, bool), Error> {
        match self.driver.query(&query).await {
            Ok(rows) => Ok((rows, true)),
            Err(err) => match self.driver.query(&legacy).await {
                Ok(rows) => Ok((rows, false)),
                Err(_) => Err(Self::err(operation)(err)),
            },
        }
    }

    async fn applied_rows(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        let (rows, with_run) = self
            .rows_or_legacy(
                self.sql.select_applied(),
                self.sql.select_applied_legacy(),
                "reading the tracking table",
            )
            .await?;
        rows.iter().map(|row| text::applied(D::NAME, row, with_run)).collect()
    }

    /// Refused before anything runs: a Rust code migration (its function is
    /// written for a sqlx connection), and timeouts the database lacks.
    /// The timeouts' statements to set before the change's and to reset
    /// after them (outside a transaction).
    fn refuse(&self, change: &Change<'_>, in_transaction: bool) -> Result<(Vec<String>, Vec<String>), Error> {
        let script = change.migration.script(change.direction);
        if change.code.is_some() {
            return Err(Error::Unsupported {
                backend: D::NAME,
                what: format!("the Rust code migration `{}`", script.file),
            });
        }
        self.driver
            .around(self.sql.timeouts_of(script), in_transaction)
            .map_err(|why| Error::Unsupported {
                backend: D::NAME,
                what: format!(
                    "the timeouts of `{}` (`migrate:timeout`, or Settings::statement_timeout and \
                 Settings::statement_lock_timeout): {why}",
                    script.file
                ),
            })
    }

    /// Transactional changes (one, or a group) in one transaction with
    /// their records: the driver sends them as it can; a failure is named
    /// by the statement that failed.
    async fn apply_in_transaction(&mut self, changes: &[Change<'_>]) -> Result<(), Error> {
        let Some(first) = changes.first() else { return Ok(()) };
        let mut scripts = Vec::with_capacity(changes.len());
        for change in changes {
            let (mut script, _) = self.refuse(change, true)?;
            script.extend(statements(change, D::DIALECT));
            scripts.push(script);
        }
        let tx = Transaction {
            creation: self.creation_first(),
            guard: self.statements().guard_state(&first.state_before),
            changes: scripts,
        };
        // The records of every change in four statements however many
        // (the sqlx SQLite batch's, sql/tracking.rs).
        let sql = &self.sql;
        let finish = |durations: &[String]| -> Vec<String> { sql.batch_writes(changes, durations) };
        match self.driver.run_transaction(&tx, &finish).await {
            Ok(()) => Ok(()),
            Err(TxFailure::RolledBack {
                err,
                at: Some((index, at)),
            }) => {
                let skipped = tx.changes[index].len() - split(changes[index].text(), D::DIALECT).len();
                match at.checked_sub(skipped) {
                    Some(at) => Err(self.failed(&changes[index], at, err, true)),
                    None => Err(Self::err("setting the migration's timeouts")(err)),
                }
            }
            Err(TxFailure::RolledBack { err, at: None }) => Err(self.replay(changes, err).await),
            Err(TxFailure::Ended { change, statement }) => {
                Err(self.transaction_ended(changes, change, statement).await)
            }
            Err(TxFailure::Other(err)) => Err(err),
        }
    }

    /// The error of `change`'s statement number `at` (from 0).
    fn failed(&self, change: &Change<'_>, at: usize, err: D::Error, rolled_back: bool) -> Error {
        let statements = split(change.text(), D::DIALECT);
        let (text, line) = statements.get(at).map_or(("", 1), |s| (s.text, s.line));
        let line = D::error_line(&err, text, line);
        let failed = change.failed(text, line, D::message(&err), rolled_back);
        self.timed_out(change, failed, err)
    }

    /// `failed`, a statement's failure from `err`, as `TimedOut` when one of
    /// the change's timeouts stopped it.
    fn timed_out(&self, change: &Change<'_>, failed: Error, err: D::Error) -> Error {
        let timeouts = self.sql.timeouts_of(change.migration.script(change.direction));
        match D::timed_out(&err, timeouts) {
            Some(timeout) => Error::TimedOut {
                timeout,
                error: Box::new(failed.with_source(err)),
            },
            None => failed.with_source(err),
        }
    }

    /// Finds what made a transaction fail: the same changes, one statement
    /// at a time, in a transaction that is always rolled back. The first
    /// statement refused is the error; a state that moved is `Conflict`.
    async fn replay(&mut self, changes: &[Change<'_>], failure: D::Error) -> Error {
        let started = Instant::now();
        if let Err(err) = self.driver.execute(D::BEGIN).await {
            return self.lock_or(err, started, "beginning a transaction");
        }
        let located = async {
            let creation = self.creation_first();
            if !creation.is_empty() {
                self.driver
                    .execute(&join_statements(creation))
                    .await
                    .map_err(Self::err("creating the tracking tables"))?;
            }
            self.check_state(&changes[0].state_before).await?;
            for change in changes {
                for statement in self.refuse(change, true)?.0 {
                    self.driver
                        .execute(&statement)
                        .await
                        .map_err(Self::err("setting the migration's timeouts"))?;
                }
                for (at, statement) in split(change.text(), D::DIALECT).iter().enumerate() {
                    if let Err(err) = self.driver.execute(statement.text).await {
                        return Err(self.failed(change, at, err, true));
                    }
                }
                let writes = join_statements(self.statements().record_change(change, "0", true));
                self.driver
                    .execute(&writes)
                    .await
                    .map_err(Self::err("recording the migration"))?;
            }
            Ok::<(), Error>(())
        }
        .await;
        self.rollback().await;
        match located {
            Err(err) => err,
            Ok(()) => Error::database(
                D::NAME,
                "applying the migrations (the transaction failed; replayed statement by statement, it did not)",
                D::message(&failure),
            )
            .with_source(failure),
        }
    }

    /// A statement of the file ended the transaction the migration ran in
    /// (as sql/transaction.rs tells it for the sqlx sessions): a ROLLBACK
    /// took everything back; a COMMIT committed the statements before it
    /// without their record, so the changes of a group before this one are
    /// recorded, and this one is marked dirty with the count that committed.
    async fn transaction_ended(
        &mut self,
        changes: &[Change<'_>],
        change: Option<usize>,
        statement: Option<usize>,
    ) -> Error {
        self.rollback().await;
        let (index, at) = locate_end(changes, change, statement, D::DIALECT);
        let change = &changes[index];
        let statements = split(change.text(), D::DIALECT);
        let Some(ender) = statements.get(at) else {
            return Error::database(D::NAME, "applying the migration", "the migration ended its transaction");
        };
        let mut message = String::from(
            "this statement ended the transaction the migration runs in (a migration's file must not end it: \
             the runtime opens it, and commits it with the migration's record)",
        );
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
            if let Err(err) = Session::record_applied(self, earlier).await {
                tracing::warn!(error = %err, "recording the migrations a file's COMMIT committed");
            }
        }
        if at > 0 {
            let mut marks = self.statements().mark_dirty(change);
            marks.push(self.statements().count_committed(change.migration.version, at as i64));
            if let Err(err) = self
                .write(Some(&change.state_before), marks, "marking the migration dirty")
                .await
            {
                tracing::warn!(error = %err, "marking dirty the migration whose file ended its transaction");
            }
        }
        change.failed_after(ender.text, ender.line, message, false, at as u32)
    }

    /// The dirty protocol, for `migrate:no-transaction` files (as
    /// sql/dirty.rs runs it for the sqlx sessions): the state checked and
    /// the change marked dirty in one transaction, the statements run
    /// outside any, each counted in the tracking row as it commits, then
    /// the change recorded clean.
    async fn apply_marked(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let (given, reset) = self.refuse(change, false)?;
        let marks = self.statements().mark_dirty(change);
        self.write(Some(&change.state_before), marks, "marking the migration dirty")
            .await?;
        let started = Instant::now();
        let version = change.migration.version;
        for statement in &given {
            self.driver
                .execute(statement)
                .await
                .map_err(Self::err("setting the migration's timeouts"))?;
        }
        let statements = split(change.text(), D::DIALECT);
        for (index, statement) in statements.iter().enumerate() {
            if let Err(err) = self.driver.execute(statement.text).await {
                let committed = self.settle_failure(change).await?;
                let line = D::error_line(&err, statement.text, statement.line);
                let failed = change
                    .failed_after(statement.text, line, D::message(&err), false, committed)
                    .at_statement(index as u32 + 1);
                return Err(self.timed_out(change, failed, err));
            }
            let count = self.statements().count_committed(version, index as i64 + 1);
            self.driver
                .execute(&count)
                .await
                .map_err(Self::err("counting the committed statements"))?;
        }
        for statement in &reset {
            self.driver
                .execute(statement)
                .await
                .map_err(Self::err("resetting the migration's timeouts"))?;
        }
        let execution_ms = started.elapsed().as_millis() as i64;
        let left_open = self
            .driver
            .in_transaction()
            .await
            .map_err(Self::err("checking for a transaction the file left open"))?;
        if left_open {
            // What ran in the file's own transaction is not committed, and
            // recording the change would commit it with the record.
            let committed = self.settle_failure(change).await?;
            let (text, line) = statements.last().map_or(("", 1), |s| (s.text, s.line));
            return Err(change
                .failed_after(
                    text,
                    line,
                    "the file left a transaction of its own open at its end (a BEGIN without its COMMIT): \
                     it was rolled back"
                        .to_string(),
                    false,
                    committed,
                )
                .at_statement(statements.len() as u32));
        }
        let finish = self.statements().finish_dirty(change, execution_ms);
        self.write(None, finish, "recording the migration").await
    }

    /// After a statement of a dirty run failed: a transaction the file
    /// opened is rolled back, and the count of committed statements read
    /// back from the tracking row; with none committed the mark is taken
    /// back.
    async fn settle_failure(&mut self, change: &Change<'_>) -> Result<u32, Error> {
        if self.driver.in_transaction().await.unwrap_or(true) {
            if let Err(err) = self.driver.execute("ROLLBACK").await {
                tracing::debug!(error = %err, "rolling back the file's own transaction after its failure");
            }
        }
        let version = change.migration.version;
        let committed = self
            .applied_rows()
            .await?
            .into_iter()
            .find(|row| row.version == version)
            .and_then(|row| row.dirty_run)
            .and_then(|run| run.committed)
            .unwrap_or(0);
        if committed == 0 {
            let undo = self.statements().unmark_dirty(change);
            self.write(None, undo, "taking back the dirty mark").await?;
        }
        Ok(committed as u32)
    }

    /// Adds the columns a tracking or history table of an older release
    /// lacks, each once: a table that has them costs two probes.
    async fn upgrade(&mut self) -> Result<(), Error> {
        if self
            .driver
            .execute(&self.sql.probe_history_placeholders())
            .await
            .is_err()
        {
            self.driver
                .execute(&self.sql.add_history_placeholders())
                .await
                .map_err(Self::err("upgrading the history table"))?;
        }
        let columns = self.sql.run_columns();
        let all = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        if self.driver.execute(&self.sql.probe_column(&all)).await.is_ok() {
            return Ok(());
        }
        for (name, ty) in columns {
            if self.driver.execute(&self.sql.probe_column(name)).await.is_err() {
                self.driver
                    .execute(&self.sql.add_column(name, ty))
                    .await
                    .map_err(Self::err("upgrading the tracking table"))?;
            }
        }
        Ok(())
    }
}

impl<D: Driver> Session for DriverSession<D> {
    fn backend(&self) -> &'static str {
        D::NAME
    }

    fn dialect(&self) -> Dialect {
        D::DIALECT
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(async move {
            match self.driver.query(&self.sql.select_state()).await {
                Ok(rows) => rows.first().map(|row| text::state(D::NAME, row)).transpose(),
                Err(err) if D::no_such_table(&err) => Ok(None),
                Err(err) => {
                    let exists = D::state_table_query(&self.state_table, self.schema.as_deref());
                    let found = self
                        .driver
                        .query(&exists)
                        .await
                        .map_err(Self::err("reading the state"))?;
                    match found.iter().any(|row| row.first().is_some_and(Option::is_some)) {
                        true => Err(Self::err("reading the state")(err)),
                        false => Ok(None),
                    }
                }
            }
        })
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(self.applied_rows())
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(async move {
            let (rows, _) = self
                .rows_or_legacy(
                    self.sql.select_history(),
                    self.sql.select_history_legacy(),
                    "reading the history table",
                )
                .await?;
            rows.iter().map(|row| text::history(D::NAME, row)).collect()
        })
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.driver.lock(timeout))
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.driver.unlock())
    }

    /// The tables in one transaction (one commit on a new database), then
    /// the columns an older release lacks.
    fn create_tracking(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let create = self.creation();
            self.write(None, create, "creating the tracking tables").await?;
            self.upgrade().await
        })
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            match change.migration.script(change.direction).no_transaction {
                true => self.apply_marked(change).await,
                false => self.apply_in_transaction(std::slice::from_ref(change)).await,
            }
        })
    }

    fn write_history<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let insert = self.statements().insert_history(entry, &entry.duration_ms.to_string());
            self.driver
                .execute(&insert)
                .await
                .map_err(Self::err("writing the history"))
        })
    }

    fn rewrite_record<'a>(&'a mut self, edit: RecordEdit<'a>, state: &'a State) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let statements = self.statements();
            let mut writes = Vec::with_capacity(3);
            match edit {
                RecordEdit::Put(row) => {
                    writes.push(statements.delete_record(row.version));
                    writes.push(statements.insert_record(row, &row.execution_ms.to_string(), false));
                }
                RecordEdit::Remove(version) => writes.push(statements.delete_record(version)),
                RecordEdit::StateOnly => {}
            }
            writes.push(statements.write_state(state));
            self.write(None, writes, "updating the tracking table").await
        })
    }

    fn runs_in_transaction(&self, script: &Script) -> bool {
        !script.no_transaction
    }

    /// Every row, its history row and the final state in one transaction,
    /// after checking the state.
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
                return Ok(());
            };
            let statements = self.statements();
            let mut writes = Vec::new();
            for change in changes {
                writes.extend(statements.record_change(change, "0", false));
            }
            writes.push(statements.write_state(&last.state_after));
            self.write(Some(&first.state_before), writes, "recording migrations as applied")
                .await
        })
    }

    fn group(&mut self) -> Option<&mut dyn GroupApply> {
        Some(self)
    }

    fn provision(&mut self) -> Option<&mut dyn Provision> {
        Some(self)
    }

    fn foreign_history(&mut self) -> Option<&mut dyn ForeignHistory> {
        Some(self)
    }
}

impl<D: Driver> GroupApply for DriverSession<D> {
    fn apply_group<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.apply_in_transaction(changes))
    }
}

impl<D: Driver> Provision for DriverSession<D> {
    fn by_default(&self) -> bool {
        D::PROVISION_BY_DEFAULT
    }

    /// A group whose transaction creates the tracking tables first: the
    /// transaction and its replay both begin with them.
    fn provision<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.create_first = true;
            let provisioned = self.apply_in_transaction(changes).await;
            self.create_first = false;
            provisioned
        })
    }
}

impl<D: Driver> ForeignHistory for DriverSession<D> {
    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>> {
        Box::pin(async move {
            let query = self.sql.select_foreign(table, columns);
            let operation = format!("reading `{table}`");
            self.driver
                .query(&query)
                .await
                .map_err(|err| Error::database(D::NAME, operation.as_str(), D::message(&err)))
        })
    }
}
