//! The tracking writes of one guarded statement, as its parameters: what
//! `Neo4jSession::keep_books` sends (session.rs) and the session's tracking
//! code fills in (tracking.rs).

use crate::backend::State;
use crate::records::HistoryEntry;
use crate::Direction;
use neo4rs::BoltType;
use std::collections::HashMap;

/// What a bookkeeping statement does to the migration node.
pub(super) enum NodeWrite {
    /// Creates it if missing and sets these properties (a null removes one).
    Put(HashMap<&'static str, BoltType>),
    /// Deletes it.
    Remove,
    /// Leaves it alone.
    Keep,
}

/// The tracking writes of one guarded statement (`Neo4jSession::keep_books`):
/// the migration node, the state node as it is to be, and for a finished
/// step its history node.
pub(super) struct Bookkeeping<'a> {
    pub(super) version: i64,
    pub(super) node: NodeWrite,
    pub(super) after: &'a State,
    pub(super) history: Option<HistoryEntry>,
}

impl Bookkeeping<'_> {
    /// No write but the state as it is: the guard alone.
    pub(super) fn guard_only(state: &State) -> Bookkeeping<'_> {
        Bookkeeping {
            version: 0,
            node: NodeWrite::Keep,
            after: state,
            history: None,
        }
    }
}

/// The state node's properties, as the guard compares and writes them.
pub(super) fn state_map(state: &State) -> HashMap<&'static str, BoltType> {
    HashMap::from([
        ("applied_count", state.applied_count.into()),
        ("last_version", state.last_version.into()),
        ("chain", state.chain.to_hex().into()),
        ("dirty", state.dirty.into()),
    ])
}

/// A migration node's dirty mark alone: `Some` direction for a run under
/// way, `None` for clean.
pub(super) fn dirty_map(dirty: Option<Direction>) -> HashMap<&'static str, BoltType> {
    HashMap::from([
        ("dirty", dirty.is_some().into()),
        ("dirty_direction", dirty.map(Direction::as_str).into()),
    ])
}
