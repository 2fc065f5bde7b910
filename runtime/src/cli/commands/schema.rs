//! `migrate verify --yes` and `migrate schema record|check`, on one set:
//! the reversibility check and the schema record, printed.

use crate::cli::command::SchemaAction;
use crate::cli::failure::Failure;
use crate::cli::ops::Ops;
use crate::cli::output::{print, println};
use crate::engine::{Connect, Engine};
use crate::snapshot::{check_schema, record_schema, verify_reversible};
use crate::{Error, MigrationState};

pub(super) async fn verify(ops: &Ops<'_, '_>, yes: bool) -> Result<(), Failure> {
    if !yes {
        return Err(Failure::Usage(
            "verify runs every down file; point the application at a scratch database and run `migrate verify --yes`"
                .to_string(),
        ));
    }
    let set = ops.one("verify")?;
    let target = set.target;
    // verify checks only the migrations it applies itself (up, down, up
    // again): on a database where every one is applied it would check
    // nothing and still report success.
    let status = target.status().await.map_err(|err| ops.blame(set, err))?;
    let pending = status
        .entries
        .iter()
        .filter(|e| !e.repeatable && e.state == MigrationState::Pending);
    if pending.count() == 0 && status.applied_count() > 0 {
        return Err(Failure::Usage(format!(
            "verify checked nothing: all {} migration(s) of this binary are applied on this database already, and \
             verify checks only the migrations it applies itself (up, down, up again); run `migrate verify --yes` \
             on an empty scratch database",
            status.applied_count()
        )));
    }
    print_verify(&target.engine(), target.db())
        .await
        .map_err(|err| ops.blame(set, err))?;
    Ok(())
}

pub(super) async fn schema(ops: &Ops<'_, '_>, action: SchemaAction) -> Result<(), Failure> {
    let set = ops.one("schema")?;
    let target = set.target;
    print_schema(&target.engine(), target.db(), action)
        .await
        .map_err(|err| ops.blame(set, err))?;
    Ok(())
}

/// Runs the reversibility check on `db` and prints its report.
async fn print_verify(engine: &Engine<'_>, db: &dyn Connect) -> Result<(), Error> {
    let report = verify_reversible(engine, db).await?;
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

/// Records or checks the schema on `db` and prints what it found.
async fn print_schema(engine: &Engine<'_>, db: &dyn Connect, action: SchemaAction) -> Result<(), Error> {
    match action {
        SchemaAction::Record => {
            let record = record_schema(engine, db).await?;
            println!(
                "recorded the schema at version {}: {} object(s), hash {}",
                record.version,
                record.snapshot.len(),
                record.hash
            );
            Ok(())
        }
        SchemaAction::Check => {
            let check = check_schema(engine, db).await?;
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
