//! `force` and `forget`: repairs after a migration failed halfway and a
//! person finished or undid it by hand. They rewrite one tracking row and
//! the state row under the lock, and run no migration. `repair`: the state
//! row rebuilt from the tracking rows (they were edited by hand or restored
//! in part), and an intentional edit of an applied file accepted.

use super::applied::AppliedSet;
use super::{Connect, Engine};
use crate::backend::{RecordEdit, Session};
use crate::records::HistoryEntry;
use crate::report::{AcceptedEdit, Repair};
use crate::{Direction, Error, Migration};

impl Engine<'_> {
    /// Records `version` as applied and clean.
    pub(crate) async fn force(&self, db: &dyn Connect, version: i64) -> Result<(), Error> {
        self.settings.check()?;
        let migration = self.find(version).ok_or(Error::UnknownVersion {
            version,
            in_binary: false,
            in_database: None,
        })?;
        let mut session = self.open(db).await?;
        self.lock(&mut *session).await?;
        let result = self.force_locked(&mut *session, migration).await;
        self.release(&mut *session, result).await
    }

    async fn force_locked(&self, session: &mut dyn Session, migration: &Migration) -> Result<(), Error> {
        let mut applied = AppliedSet::new(session.read_applied().await?);
        let record = Self::record(migration);
        applied.upsert(record.clone());
        session.rewrite_record(RecordEdit::Put(&record), &applied.state()).await
    }

    /// Removes the record of `version`.
    pub(crate) async fn forget(&self, db: &dyn Connect, version: i64) -> Result<(), Error> {
        self.settings.check()?;
        let mut session = self.open(db).await?;
        self.lock(&mut *session).await?;
        let result = self.forget_locked(&mut *session, version).await;
        self.release(&mut *session, result).await
    }

    async fn forget_locked(&self, session: &mut dyn Session, version: i64) -> Result<(), Error> {
        let mut applied = AppliedSet::new(session.read_applied().await?);
        if applied.get(version).is_none() {
            return Err(Error::UnknownVersion {
                version,
                in_binary: self.find(version).is_some(),
                in_database: Some(false),
            });
        }
        applied.remove(version);
        session
            .rewrite_record(RecordEdit::Remove(version), &applied.state())
            .await
    }
}

impl Engine<'_> {
    /// `repair`: under the lock, rebuilds the state row from the tracking
    /// rows and, with `accept_edit`, records that applied migration's
    /// current checksum (its file was edited on purpose). Runs no migration.
    /// A change writes one history row with the old and new values and the
    /// reason; nothing to change writes nothing.
    pub(crate) async fn repair(&self, db: &dyn Connect, accept_edit: Option<i64>) -> Result<Repair, Error> {
        self.settings.check()?;
        let mut session = self.open(db).await?;
        self.lock(&mut *session).await?;
        let result = self.repair_locked(&mut *session, accept_edit).await;
        self.release(&mut *session, result).await
    }

    async fn repair_locked(&self, session: &mut dyn Session, accept_edit: Option<i64>) -> Result<Repair, Error> {
        let state_before = session.read_state().await?;
        let mut applied = AppliedSet::new(session.read_applied().await?);
        let accepted = match accept_edit {
            Some(version) => self.accept_edit(&mut applied, version)?,
            None => None,
        };
        let state_after = applied.state();
        let repair = Repair {
            state_before,
            state_after,
            accepted,
            reason: self.reason.map(str::to_string),
        };
        if !repair.changed() {
            return Ok(repair);
        }
        let edit = match &repair.accepted {
            Some(edit) => RecordEdit::Put(applied.get(edit.version).expect("an accepted edit is applied")),
            None => RecordEdit::StateOnly,
        };
        session.rewrite_record(edit, &state_after).await?;
        let mut entry = self.history_entry_named(&repair);
        entry.reason = Some(repair.describe());
        session.write_history(&entry).await?;
        Ok(repair)
    }

    /// Sets the recorded checksum of applied `version` to the binary's.
    fn accept_edit(&self, applied: &mut AppliedSet, version: i64) -> Result<Option<AcceptedEdit>, Error> {
        let migration = self.find(version).ok_or(Error::UnknownVersion {
            version,
            in_binary: false,
            in_database: Some(applied.get(version).is_some()),
        })?;
        // Another set's rows: accepting "the edit" would let this set's
        // down file run against the other set's migration.
        self.refuse_foreign(applied)?;
        let Some(row) = applied.get(version) else {
            return Err(Error::NotApplied {
                version,
                name: migration.name.to_string(),
            });
        };
        if row.checksum == migration.checksum() {
            return Ok(None);
        }
        let edit = AcceptedEdit {
            version,
            name: migration.name.to_string(),
            recorded: row.checksum,
            embedded: migration.checksum(),
        };
        let mut row = row.clone();
        row.checksum = edit.embedded;
        applied.upsert(row);
        Ok(Some(edit))
    }

    fn history_entry_named(&self, repair: &Repair) -> HistoryEntry {
        let (version, name) = match &repair.accepted {
            Some(edit) => (edit.version, edit.name.clone()),
            None => (repair.state_after.last_version, "repair".to_string()),
        };
        HistoryEntry {
            version,
            name,
            direction: Direction::Up,
            started_at: crate::core::time::now_iso8601(),
            duration_ms: 0,
            success: true,
            error: None,
            reason: None,
            placeholders: None,
        }
    }
}
