//! A migration on Neo4j. Neo4j refuses a transaction that both changes
//! the schema and writes data (a write after a schema command, even one
//! matching nothing, is `ForbiddenDueToTransactionType`): a migration of
//! data statements runs in one explicit transaction with its tracking
//! writes (all or nothing); a migration of schema statements runs in one
//! transaction of its own (all or nothing too) between a dirty mark and
//! the tracking writes; a file that says `migrate:no-transaction` runs
//! each statement in its own transaction between the same two.

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
        let header = crate::core::parse_header(script.text, crate::core::Language::Cypher).unwrap_or_default();
        if header.timeout.is_some() {
            return Err(super::errors::no_timeouts(&format!(
                "`migrate:timeout` in `{}`",
                script.file
            )));
        }
        if let Some(code) = change.code {
            return self.apply_code(change, code).await;
        }
        let statements = split(change.text(), Dialect::Cypher);
        // The folder rules refuse files mixing both kinds unless they say
        // `no-transaction`, so in a file without it the first statement
        // tells the kind of the whole file.
        let schema = statements.first().is_some_and(|s| is_cypher_schema(s.text));
        if script.no_transaction {
            self.apply_under_mark(change, &statements, Commit::EachStatement).await
        } else if schema {
            self.apply_under_mark(change, &statements, Commit::Together).await
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
            let caught = txn
                .lend(function)
                .await
                .map_err(super::errors::db_err("applying the migration"))?;
            crate::code::run::outcome(change, true, caught)?;
            let execution_ms = self.clock.millis_since(started);
            let books = self.books_for_record(change, execution_ms);
            self.keep_books_in(txn, &change.state_before, books).await
        })
        .await
    }

    /// Schema statements (together) or a `no-transaction` file (each
    /// statement apart; it may mix schema and data): mark the migration
    /// dirty, run the statements, then record it. Neo4j refuses the
    /// tracking writes in a transaction that changed the schema, so the mark
    /// covers the time between the statements' commit and the record. A
    /// failure after a statement committed leaves the mark for a person to
    /// resolve with `force` or `forget`; a failure before any committed
    /// changed nothing, so the mark is taken back.
    pub(super) async fn apply_under_mark(
        &self,
        change: &Change<'_>,
        statements: &[Statement<'_>],
        commit: Commit,
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
        if let Err((index, committed, err)) = self.run_statements(statements, commit).await {
            let undone = committed == 0
                && match self.unmark(change, &dirty_state).await {
                    Ok(()) => true,
                    Err(unmark_err) => {
                        tracing::warn!(error = %unmark_err, "could not take back the dirty mark");
                        false
                    }
                };
            let statement = &statements[index];
            return Err(change
                .failed_after(statement.text, statement.line, message(&err), undone, committed)
                .with_source(err));
        }
        let execution_ms = self.clock.millis_since(started);
        let books = self.books_for_record(change, execution_ms);
        self.keep_books(&dirty_state, books, "recording the migration").await
    }

    /// The statements under the dirty mark; on a failure, the index of the
    /// statement that failed and how many statements committed before it.
    async fn run_statements(
        &self,
        statements: &[Statement<'_>],
        commit: Commit,
    ) -> Result<(), (usize, u32, neo4rs::Error)> {
        match commit {
            Commit::Together => {
                let texts: Vec<&str> = statements.iter().map(|s| s.text).collect();
                self.run_schema_statements(&texts)
                    .await
                    .map_err(|(index, err)| (index, 0, err))
            }
            Commit::EachStatement => {
                for (index, statement) in statements.iter().enumerate() {
                    if let Err(err) = self.run_schema_statement(statement.text).await {
                        return Err((index, index as u32, err));
                    }
                }
                Ok(())
            }
        }
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

/// How the statements of a migration run under the dirty mark.
pub(super) enum Commit {
    /// In one transaction: a schema migration.
    Together,
    /// Each in a transaction of its own: a `no-transaction` file.
    EachStatement,
}

fn failed(change: &Change<'_>, statement: &Statement<'_>, err: neo4rs::Error, rolled_back: bool) -> Error {
    let mut message = message(&err);
    if has_code(&err, INDEX_NAME_TAKEN) {
        // What `run_schema_statements` waited for before giving up.
        message.push_str(
            " (still so after awaiting the indexes for the lock timeout: an index of that name exists \
             without its constraint; if no process is creating it, drop the index and run again)",
        );
    }
    change
        .failed(statement.text, statement.line, message, rolled_back)
        .with_source(err)
}
