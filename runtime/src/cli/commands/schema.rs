//! `migrate verify --yes` and `migrate schema record|check`, on one set.
//! What they print is `snapshot/cli.rs`'s, reached through the set
//! (`Target::verify_cli`, `schema_cli`): only there is the set's database
//! type known.

use crate::cli::failure::Failure;
use crate::cli::ops::Ops;
use crate::snapshot::cli::SchemaAction;

pub(super) async fn verify(ops: &Ops<'_, '_>, yes: bool) -> Result<(), Failure> {
    if !yes {
        return Err(Failure::Usage(
            "verify runs every down file; point the application at a scratch database and run `migrate verify --yes`"
                .to_string(),
        ));
    }
    let set = ops.one("verify")?;
    set.target.verify_cli().await.map_err(|err| ops.blame(set, err))?;
    Ok(())
}

pub(super) async fn schema(ops: &Ops<'_, '_>, action: SchemaAction) -> Result<(), Failure> {
    let set = ops.one("schema")?;
    set.target.schema_cli(action).await.map_err(|err| ops.blame(set, err))?;
    Ok(())
}
