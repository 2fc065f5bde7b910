//! `readiness`: where a database stands, in one value that never fails,
//! from `validate` and `status` (reads only): read through a session, or
//! judged on records a shared read of many tenants brought (the same rules
//! on the same rows, so the same answer).

use super::applied::AppliedSet;
use super::{Connect, Engine};
use crate::backend::TenantRecords;
use crate::core::split::Dialect;
use crate::readiness::{Readiness, ReadinessState};
use crate::report::Status;
use crate::Error;

impl Engine<'_> {
    pub(crate) async fn readiness(&self, db: &dyn Connect) -> Readiness {
        let validated = self.validate(db).await;
        // Drift, dirty rows and the rest: the numbers still come from the
        // status, the problems' text goes along.
        let status = match &validated {
            Err(Error::Invalid { .. }) => Some(self.status(db).await),
            _ => None,
        };
        self.judge_readiness(validated, status)
    }

    /// The readiness of records read for many tenants at once, judged as
    /// [`Engine::readiness`] judges those it reads itself.
    pub(crate) fn readiness_of_records(
        &self,
        backend: &'static str,
        dialect: Dialect,
        records: TenantRecords,
    ) -> Readiness {
        let Some((state, rows)) = records else {
            return Readiness::of(&self.status_of(&AppliedSet::new(Vec::new())));
        };
        let applied = AppliedSet::new(rows).in_dialect(dialect);
        let validated = self.validate_view(backend, state, &applied);
        let status = match &validated {
            Err(Error::Invalid { .. }) => Some(self.status_of_view(backend, state, &applied)),
            _ => None,
        };
        self.judge_readiness(validated, status)
    }

    /// One value from `validate`'s result and, when it found problems,
    /// `status`'s.
    fn judge_readiness(&self, validated: Result<Status, Error>, status: Option<Result<Status, Error>>) -> Readiness {
        let latest = self.migrations.iter().map(|m| m.version).max().unwrap_or(0);
        match (validated, status) {
            (Ok(status), _) => Readiness::of(&status),
            (Err(Error::Invalid { problems }), Some(status)) => match status {
                Ok(status) => {
                    let mut readiness = Readiness::of(&status);
                    if matches!(readiness.state, ReadinessState::Ready | ReadinessState::Pending) {
                        readiness.state = ReadinessState::Invalid;
                        readiness.up_to_date = false;
                    }
                    let text: Vec<String> = problems.iter().map(Error::to_string).collect();
                    readiness.error = Some(text.join("; "));
                    readiness
                }
                // Read, and refused (another set's table): not an
                // unreadable database.
                Err(err) if err.exit_code() == 2 => {
                    let mut readiness = Readiness::failed(latest, &err);
                    readiness.state = ReadinessState::Invalid;
                    readiness
                }
                Err(err) => Readiness::failed(latest, &err),
            },
            (Err(err), _) => Readiness::failed(latest, &err),
        }
    }
}
