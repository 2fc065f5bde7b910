//! The applied rows as the engine plans on them: in tracking order, with
//! the running hash and the count of dirty rows after each.

use crate::backend::State;
use crate::core::chain_step;
use crate::records::AppliedMigration;
use crate::{Checksum, Direction};

/// Where a row sorts: versioned migrations by version, then the repeatable
/// ones (negative keys), so that the running hash over the versioned rows is
/// the one the macro precomputed, and the repeatables continue it.
fn order(version: i64) -> (bool, i64) {
    (version < 0, version)
}

/// The applied rows in that order, with the running hash and the running
/// count of dirty rows after each, so that applying the next migration,
/// reverting the last, or reading the state they call for costs O(1) (a
/// group of N migrations reads it twice per migration).
pub(super) struct AppliedSet {
    pub(super) rows: Vec<AppliedMigration>,
    chains: Vec<Checksum>,
    dirty_counts: Vec<usize>,
    /// How the session splits files: for a dirty row's committed
    /// statements (their lines and how many the file has).
    pub(super) dialect: Option<crate::core::split::Dialect>,
}

impl AppliedSet {
    pub(super) fn new(mut rows: Vec<AppliedMigration>) -> Self {
        rows.sort_by_key(|row| order(row.version));
        let mut set = AppliedSet {
            rows,
            chains: Vec::new(),
            dirty_counts: Vec::new(),
            dialect: None,
        };
        set.rechain(0);
        set
    }

    /// The same rows, read through a session that splits files as `dialect`.
    pub(super) fn in_dialect(mut self, dialect: crate::core::split::Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// The state row these rows call for while a dirty up run's row is not
    /// counted: the dirty protocol writes the row of an up run before its
    /// statements, and the state row only once they all ran, so a dirty up
    /// row beside the state before it is that protocol, not a hand edit.
    pub(super) fn state_without_dirty_up(&self) -> State {
        let rows: Vec<AppliedMigration> = self
            .rows
            .iter()
            .filter(|row| !(row.dirty && row.dirty_run.is_none_or(|run| run.direction == Direction::Up)))
            .cloned()
            .collect();
        let mut state = AppliedSet::new(rows).state();
        state.dirty = self.rows.iter().any(|row| row.dirty);
        state
    }

    fn rechain(&mut self, from: usize) {
        self.chains.truncate(from);
        self.dirty_counts.truncate(from);
        let (mut chain, mut dirty) = match from {
            0 => (Checksum::ZERO, 0),
            _ => (self.chains[from - 1], self.dirty_counts[from - 1]),
        };
        for row in &self.rows[from..] {
            chain = chain_step(&chain, row.version, &row.checksum);
            dirty += usize::from(row.dirty);
            self.chains.push(chain);
            self.dirty_counts.push(dirty);
        }
    }

    /// The state row these rows call for.
    pub(super) fn state(&self) -> State {
        State {
            applied_count: self.rows.len() as i64,
            last_version: self.highest(),
            chain: self.chains.last().copied().unwrap_or(Checksum::ZERO),
            dirty: self.dirty_counts.last().is_some_and(|&count| count > 0),
        }
    }

    pub(super) fn get(&self, version: i64) -> Option<&AppliedMigration> {
        self.position(version).ok().map(|i| &self.rows[i])
    }

    fn position(&self, version: i64) -> Result<usize, usize> {
        self.rows
            .binary_search_by_key(&order(version), |row| order(row.version))
    }

    pub(super) fn upsert(&mut self, row: AppliedMigration) {
        match self.position(row.version) {
            Ok(i) => {
                self.rows[i] = row;
                self.rechain(i);
            }
            Err(i) => {
                self.rows.insert(i, row);
                self.rechain(i);
            }
        }
    }

    pub(super) fn remove(&mut self, version: i64) {
        if let Ok(i) = self.position(version) {
            self.rows.remove(i);
            self.rechain(i);
        }
    }

    /// The running hash after the first `count` rows (`None` past the end).
    pub(super) fn chain_after(&self, count: usize) -> Option<Checksum> {
        count.checked_sub(1).and_then(|i| self.chains.get(i)).copied()
    }

    /// The highest applied version (repeatables aside), 0 when none.
    pub(super) fn highest(&self) -> i64 {
        self.versioned().last().map_or(0, |row| row.version)
    }

    /// The rows of versioned migrations, in version order.
    pub(super) fn versioned(&self) -> &[AppliedMigration] {
        let end = self.rows.partition_point(|row| row.version > 0);
        &self.rows[..end]
    }
}
