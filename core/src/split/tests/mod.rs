//! The splitter's tests: SQL and Cypher files with known statements, and
//! generated files for the properties that hold on any input.

mod cypher;
mod generated;
mod sql;

use crate::split::{split, Dialect};

/// The statements' texts.
fn texts(src: &str, dialect: Dialect) -> Vec<&str> {
    split(src, dialect).into_iter().map(|s| s.text).collect()
}
