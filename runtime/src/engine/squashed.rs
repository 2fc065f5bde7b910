//! A squashed folder: its first migration is a baseline
//! (`-- migrate:baseline <first>..<last> migrations=N chain=H`, written by
//! `cargo xtask squash`) standing for the versions it replaced.
//!
//! A fresh database runs the baseline like any migration, recorded under
//! its version. A database migrated before the squash has the rows of the
//! replaced versions instead: when they are exactly the squashed history
//! (their count and running hash are the directive's), they count as the
//! baseline applied. The rules then accept them (no drift, nothing
//! missing), `status` shows them applied, and nothing runs again; the
//! boot check knows the state such a database is in when up to date.

use super::applied::AppliedSet;
use super::Engine;
use crate::backend::State;
use crate::core::chain_step;
use crate::{Error, Migration};

impl Engine<'_> {
    /// How many of `applied`'s first rows are the squashed history the
    /// baseline replaced (0 when there is no baseline, or the rows are
    /// another history: a fresh database's baseline row, a database
    /// stopped inside the squashed range, a squashed file edited).
    pub(super) fn squashed_rows(&self, applied: &AppliedSet) -> usize {
        let Some(squashed) = &self.squashed else {
            return 0;
        };
        let rows = applied.versioned();
        let end = rows.partition_point(|row| row.version <= squashed.last);
        let exact = end as u64 == squashed.migrations
            && end > 0
            && rows[0].version >= squashed.first
            && applied.chain_after(end) == Some(squashed.chain);
        if exact {
            end
        } else {
            0
        }
    }

    /// The state row of a database migrated before the squash with
    /// everything of the binary applied: the squashed rows, then the
    /// migrations after the baseline, then the repeatable ones.
    pub(super) fn up_to_date_unsquashed(&self, state: &State) -> bool {
        let Some(squashed) = &self.squashed else {
            return false;
        };
        let after = &self.migrations[1.min(self.migrations.len())..];
        let expected_count = squashed.migrations as i64 + (after.len() + self.repeatables.len()) as i64;
        if state.applied_count != expected_count || state.dirty {
            return false;
        }
        let mut chain = squashed.chain;
        for m in after {
            chain = chain_step(&chain, m.version, &m.checksum());
        }
        let mut repeatables: Vec<&Migration> = self.repeatables.iter().collect();
        repeatables.sort_by_key(|m| m.version);
        for m in repeatables {
            chain = chain_step(&chain, m.version, &m.checksum());
        }
        state.chain == chain && state.last_version == self.migrations.last().map_or(0, |m| m.version)
    }

    /// A `down` that reaches the squashed rows would have to revert the
    /// baseline, which stands for all of them: refused as irreversible.
    pub(super) fn refuse_reverting_squashed(&self, reverted: &[i64], squashed_rows: usize) -> Result<(), Error> {
        let (Some(squashed), Some(baseline)) = (&self.squashed, self.migrations.first()) else {
            return Ok(());
        };
        if squashed_rows > 0 && reverted.iter().any(|version| *version <= squashed.last) {
            return Err(Error::Irreversible {
                version: baseline.version,
                name: baseline.name.to_string(),
                file: baseline.down.file.to_string(),
            });
        }
        Ok(())
    }
}
