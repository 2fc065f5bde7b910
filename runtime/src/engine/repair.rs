//! `force` and `forget`: repairs after a migration failed halfway and a
//! person finished or undid it by hand. They rewrite one tracking row and
//! the state row under the lock, and run no migration.

use super::{AppliedSet, Connect, Engine};
use crate::backend::Session;
use crate::{Error, Migration};

impl Engine<'_> {
    /// Records `version` as applied and clean.
    pub async fn force(&self, db: &dyn Connect, version: i64) -> Result<(), Error> {
        self.settings.check()?;
        let migration = self.find(version).ok_or(Error::UnknownVersion { version })?;
        let mut session = self.open(db).await?;
        self.lock(&mut *session).await?;
        let result = self.force_locked(&mut *session, migration).await;
        self.release(&mut *session, result).await
    }

    async fn force_locked(&self, session: &mut dyn Session, migration: &Migration) -> Result<(), Error> {
        let mut applied = AppliedSet::new(session.read_applied().await?);
        let record = Self::record(migration);
        applied.upsert(record.clone());
        session
            .set_record(migration.version, Some(&record), &applied.state())
            .await
    }

    /// Removes the record of `version`.
    pub async fn forget(&self, db: &dyn Connect, version: i64) -> Result<(), Error> {
        let mut session = self.open(db).await?;
        self.lock(&mut *session).await?;
        let result = self.forget_locked(&mut *session, version).await;
        self.release(&mut *session, result).await
    }

    async fn forget_locked(&self, session: &mut dyn Session, version: i64) -> Result<(), Error> {
        let mut applied = AppliedSet::new(session.read_applied().await?);
        if applied.get(version).is_none() {
            return Err(Error::UnknownVersion { version });
        }
        applied.remove(version);
        session.set_record(version, None, &applied.state()).await
    }
}
