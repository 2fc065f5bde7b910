//! `migrate verify` and `migrate schema record|check`: what the command
//! lines print and return. `cli/commands/schema.rs` only routes the
//! subcommands here, through `Target::verify_cli` and `schema_cli`.

use crate::cli::output::{print, println};
use crate::engine::{Connect, Engine};
use crate::Error;

/// `migrate schema <action>`.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SchemaAction {
    /// Record the live schema as the one the current version leaves (after
    /// `migrate up`, or after reviewing a difference that `check` reported).
    Record,
    /// Compare the live schema with the recorded one: changes made by hand.
    Check,
}

/// Runs the reversibility check on `db` and prints its report.
pub(crate) async fn verify(engine: &Engine<'_>, db: &dyn Connect) -> Result<(), Error> {
    let report = super::verify_reversible(engine, db).await?;
    print!("{report}");
    match report.failure {
        None => Ok(()),
        Some(failure) => Err(Error::NotReversible {
            version: failure.version,
            name: failure.name,
            file: failure.down_file,
            objects: failure.diff.objects().iter().map(|o| o.to_string()).collect(),
        }),
    }
}

pub(crate) async fn schema(engine: &Engine<'_>, db: &dyn Connect, action: SchemaAction) -> Result<(), Error> {
    match action {
        SchemaAction::Record => {
            let record = super::record_schema(engine, db).await?;
            println!(
                "recorded the schema at version {}: {} object(s), hash {}",
                record.version,
                record.snapshot.len(),
                record.hash
            );
            Ok(())
        }
        SchemaAction::Check => {
            let check = super::check_schema(engine, db).await?;
            print!("{check}");
            if check.is_unchanged() {
                Ok(())
            } else {
                Err(Error::SchemaChanged {
                    recorded_version: check.record.as_ref().map(|r| r.version),
                    current_version: check.current_version,
                    objects: check.diff.objects().iter().map(|o| o.to_string()).collect(),
                })
            }
        }
    }
}
