//! A migration on Neo4j. Neo4j refuses a transaction that both changes
//! the schema and writes data: a migration of data statements runs in one
//! explicit transaction with its tracking writes (all or nothing), while a
//! migration of schema statements, or a file that says
//! `migrate:no-transaction`, runs each statement in its own transaction
//! between a dirty marker and the tracking writes.

use super::books::{dirty_map, Bookkeeping, NodeWrite};
use super::errors::{has_code, message, INDEX_NAME_TAKEN};
use super::session::Neo4jSession;
use crate::backend::{Change, State};
use crate::core::split::{is_cypher_schema, split, Dialect, Statement};
use crate::{Direction, Error};
use neo4rs::query;
use std::time::Instant;

impl Neo4jSession {
    pub(super) async fn apply(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        if let Some(code) = change.code {
            return self.apply_code(change, code).await;
        }
        let statements = split(change.text(), Dialect::Cypher);
        // The folder rules refuse files mixing both kinds unless they say
        // `no-transaction`, so in a file without it the first statement
        // tells the kind of the whole file.
        let schema = statements.first().is_some_and(|s| is_cypher_schema(s.text));
        if schema || script.no_transaction {
            self.apply_step_by_step(change, &statements).await
        } else {
            self.apply_in_transaction(change, &statements).await
        }
    }

    /// A data migration: statements, guard and tracking writes in one
    /// transaction.
    pub(super) async fn apply_in_transaction(
        &self,
        change: &Change<'_>,
        statements: &[Statement<'_>],
    ) -> Result<(), Error> {
        self.in_transaction("applying the migration", async |txn| {
            let started = Instant::now();
            for statement in statements {
                if let Err(err) = txn.run(query(statement.text)).await {
                    return Err(failed(change, statement, err, true));
                }
            }
            let execution_ms = self.clock.millis_since(started);
            let books = self.books_for_record(change, execution_ms);
            self.keep_books_in(txn, &change.state_before, books).await
        })
        .await
    }

    /// A Rust code migration: its function receives the transaction that
    /// then checks the guard and writes the record, so its writes and the
    /// record commit together; an error or a panic rolls all of it back.
    /// (The build refuses `migrate:no-transaction` on a Neo4j code
    /// migration: its function takes a transaction.)
    async fn apply_code(&self, change: &Change<'_>, code: crate::code::Code) -> Result<(), Error> {
        let function = crate::code::run::function::<neo4rs::Txn>(change, code, super::errors::NAME)?;
        self.in_transaction("applying the migration", async |txn| {
            let started = Instant::now();
            crate::code::run::run(change, function, txn, true).await?;
            let execution_ms = self.clock.millis_since(started);
            let books = self.books_for_record(change, execution_ms);
            self.keep_books_in(txn, &change.state_before, books).await
        })
        .await
    }

    /// Schema statements (or a `no-transaction` file, which may mix schema
    /// and data statements): mark the migration dirty, run each statement
    /// in its own transaction, then record it. A
    /// failure after a statement committed leaves the mark for a person to
    /// resolve with `force` or `forget`; a failure of the first statement
    /// changed nothing, so the mark is taken back.
    pub(super) async fn apply_step_by_step(
        &self,
        change: &Change<'_>,
        statements: &[Statement<'_>],
    ) -> Result<(), Error> {
        let mut dirty_state = change.state_before;
        dirty_state.dirty = true;
        let direction = Some(change.direction);
        let mark = Bookkeeping {
            version: change.migration.version,
            node: NodeWrite::Put(match &change.record {
                Some(row) => self.record_map(row, 0, direction),
                None => dirty_map(direction),
            }),
            after: &dirty_state,
            history: None,
        };
        self.keep_books(&change.state_before, mark, "marking the migration dirty")
            .await?;

        let started = Instant::now();
        for (index, statement) in statements.iter().enumerate() {
            if let Err(err) = self.run_schema_statement(statement.text).await {
                let undone = index == 0
                    && match self.unmark(change, &dirty_state).await {
                        Ok(()) => true,
                        Err(unmark_err) => {
                            tracing::warn!(error = %unmark_err, "could not take back the dirty mark");
                            false
                        }
                    };
                let committed = index as u32;
                return Err(change
                    .failed_after(statement.text, statement.line, message(&err), undone, committed)
                    .with_source(err));
            }
        }
        let execution_ms = self.clock.millis_since(started);
        let books = self.books_for_record(change, execution_ms);
        self.keep_books(&dirty_state, books, "recording the migration").await
    }

    /// Takes back the dirty mark of a step whose first statement failed.
    pub(super) async fn unmark(&self, change: &Change<'_>, dirty_state: &State) -> Result<(), Error> {
        let undo = Bookkeeping {
            version: change.migration.version,
            node: match change.direction {
                Direction::Up => NodeWrite::Remove,
                Direction::Down => NodeWrite::Put(dirty_map(None)),
            },
            after: &change.state_before,
            history: None,
        };
        self.keep_books(dirty_state, undo, "taking back the dirty mark").await
    }
}

fn failed(change: &Change<'_>, statement: &Statement<'_>, err: neo4rs::Error, rolled_back: bool) -> Error {
    let mut message = message(&err);
    if has_code(&err, INDEX_NAME_TAKEN) {
        // What `run_schema_statement` waited for before giving up.
        message.push_str(
            " (still so after awaiting the indexes for the lock timeout: an index of that name exists \
             without its constraint; if no process is creating it, drop the index and run again)",
        );
    }
    change
        .failed(statement.text, statement.line, message, rolled_back)
        .with_source(err)
}
