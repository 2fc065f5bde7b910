//! Splits a migration file into statements.
//!
//! Each statement is sent on its own, so that an error names the statement
//! that failed, and so that a `no-transaction` file is not turned back into
//! one implicit transaction by PostgreSQL's multi-statement simple query.
//! The splitter only needs to know where a `;` ends a statement: it skips
//! strings, quoted identifiers, comments, PostgreSQL `$tag$` bodies, the
//! parenthesised actions of a PostgreSQL `CREATE RULE`, and the compound
//! bodies of triggers, procedures, functions and events (`BEGIN ... END`,
//! `IF ... END IF`, `CASE ... END [CASE]`, loops, labels). It never panics and
//! never drops text: every byte outside comments belongs to some statement.
//!
//! It reads the file once, front to back: every byte is looked at a bounded
//! number of times and line numbers are counted as it goes, so a seed file of
//! 50,000 statements splits in milliseconds.
//!
//! - `scanner`: the bytes as a dialect reads them (comments, quotes, words,
//!   lines);
//! - `compound`: whether a `;` is inside a compound body;
//! - `statements`: the pass that cuts a file into statements;
//! - `tokens`: the first tokens of one statement, to tell what it is.

mod compound;
mod scanner;
mod statements;
#[cfg(test)]
mod tests;
mod tokens;

pub use scanner::Dialect;
pub(crate) use statements::{scan, Scan};
pub use statements::{split, strip_bom, Statement};
pub use tokens::is_cypher_schema;
pub(crate) use tokens::{tokens, Token};
