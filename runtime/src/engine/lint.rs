//! `lint`: the lint's findings (core's `lint`) on the binary's migrations,
//! with the rules of the database the session says it is, and the versions
//! that database has applied, so that their findings can be shown apart
//! (and a table that a pending migration creates counts as new for the
//! pending ones after it).

use super::{Connect, Engine};
use crate::core::lint::lint_deploy;
use crate::{Error, LintReport};

impl Engine<'_> {
    pub(crate) async fn lint(&self, db: &dyn Connect) -> Result<LintReport, Error> {
        let mut session = self.open(db).await?;
        let dialect = session.dialect();
        let applied = self.read_only_rows(&mut *session).await?;
        let mut versions: Vec<i64> = applied.rows.iter().filter(|r| !r.dirty).map(|r| r.version).collect();
        versions.sort_unstable();
        Ok(LintReport {
            findings: lint_deploy(self.migrations, dialect, &versions),
            applied: versions,
        })
    }
}
