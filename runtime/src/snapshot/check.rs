//! Recording the schema and checking it against the record, through any
//! database whose backend reads its schema.

use super::record::{SchemaCheck, SchemaRecord};
use super::schema::SchemaDiff;
use crate::backend::Snapshot;
use crate::engine::{Connect, Engine};
use crate::Error;

/// The snapshots of `db`, or the error that says it has none.
pub(super) fn snapshots(db: &dyn Connect) -> Result<&dyn Snapshot, Error> {
    db.snapshots().ok_or_else(|| Error::Unsupported {
        backend: "this database",
        what: "schema snapshots (its `Database` gives no `Snapshot`)".to_string(),
    })
}

/// See [`Migrator::record_schema`](crate::Migrator::record_schema).
pub(crate) async fn record_schema(engine: &Engine<'_>, db: &dyn Connect) -> Result<SchemaRecord, Error> {
    let snapshots = snapshots(db)?;
    let version = engine.status(db).await?.current_version();
    let record = SchemaRecord::new(version, snapshots.snapshot(engine.settings).await?);
    snapshots.save_schema_record(engine.settings, &record).await?;
    Ok(record)
}

/// See [`Migrator::check_schema`](crate::Migrator::check_schema).
pub(crate) async fn check_schema(engine: &Engine<'_>, db: &dyn Connect) -> Result<SchemaCheck, Error> {
    let snapshots = snapshots(db)?;
    let current_version = engine.status(db).await?.current_version();
    let record = snapshots.load_schema_record(engine.settings).await?;
    let live = snapshots.snapshot(engine.settings).await?;
    let diff = match &record {
        Some(record) => record.snapshot.diff(&live),
        None => SchemaDiff::default(),
    };
    Ok(SchemaCheck {
        current_version,
        record,
        diff,
        live_hash: live.hash(),
    })
}
