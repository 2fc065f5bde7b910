//! `readiness`: where a database stands, in one value that never fails,
//! from `validate` and `status` (reads only).

use super::{Connect, Engine};
use crate::readiness::{Readiness, ReadinessState};
use crate::Error;

impl Engine<'_> {
    pub(crate) async fn readiness(&self, db: &dyn Connect) -> Readiness {
        let latest = self.migrations.iter().map(|m| m.version).max().unwrap_or(0);
        match self.validate(db).await {
            Ok(status) => Readiness::of(&status),
            // Drift, dirty rows and the rest: the numbers still come from the
            // status, the problems' text goes along.
            Err(Error::Invalid { problems }) => match self.status(db).await {
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
            Err(err) => Readiness::failed(latest, &err),
        }
    }
}
