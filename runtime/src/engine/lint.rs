//! `lint`: the lint's findings (core's `lint`) on the binary's migrations,
//! with the rules of the database the session says it is, and the versions
//! that database has applied, so that their findings can be shown apart.

use super::{Connect, Engine};
use crate::core::lint::{lint_embedded, Finding};
use crate::Error;

/// What [`Migrator::lint`](crate::Migrator::lint) found.
#[derive(Clone, Debug)]
pub struct LintReport {
    /// Every finding of the binary's up files, in version order, the ones
    /// their `migrate:allow` lines permit left out.
    pub findings: Vec<Finding>,
    /// The versions the database has applied: a finding there is
    /// information (the statement has run; a change now is a new
    /// migration), not something to fix before the deploy.
    pub applied: Vec<i64>,
}

impl LintReport {
    /// Whether the database has applied this version.
    pub fn is_applied(&self, version: i64) -> bool {
        self.applied.binary_search(&version).is_ok()
    }

    /// The findings of migrations not applied yet: what a deploy would run.
    pub fn pending(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !self.is_applied(f.version))
    }
}

impl Engine<'_> {
    pub(crate) async fn lint(&self, db: &dyn Connect) -> Result<LintReport, Error> {
        let mut session = self.open(db).await?;
        let dialect = session.dialect();
        let applied = self.read_only_rows(&mut *session).await?;
        let mut versions: Vec<i64> = applied.rows.iter().filter(|r| !r.dirty).map(|r| r.version).collect();
        versions.sort_unstable();
        Ok(LintReport {
            findings: lint_embedded(self.migrations, dialect),
            applied: versions,
        })
    }
}
