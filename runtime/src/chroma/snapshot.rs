//! The schema of a Chroma database, for `verify` and the schema record:
//! each collection with its metadata and its configuration, keys sorted,
//! the tracking collections left out.

use super::client::ChromaClient;
use super::errors::db_err;
use super::session::{record, Names};
use crate::backend::{Snapshot, SnapshotFuture};
use crate::snapshot::{SchemaRecord, SchemaSnapshot};
use crate::{Error, Settings};
use serde_json::Value;

/// `value` as JSON with its object keys sorted (serde_json's map is
/// ordered by key) and the `null`s left out: what the server reports as
/// absent in one release and `null` in another is no difference.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalised(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalised).collect()),
        other => other.clone(),
    }
}

async fn snapshot(client: &ChromaClient, settings: &Settings) -> Result<SchemaSnapshot, Error> {
    let names = Names::new(settings)?;
    let mut snapshot = SchemaSnapshot::new();
    for collection in client
        .list_collections()
        .await
        .map_err(db_err("listing the collections"))?
    {
        if names.is_tracking(&collection.name) {
            continue;
        }
        let metadata = Value::Object(collection.metadata.unwrap_or_default());
        let definition = format!(
            "metadata {} configuration {}",
            normalised(&metadata),
            normalised(&collection.configuration_json)
        );
        snapshot.insert("collection", &collection.name, &definition);
    }
    Ok(snapshot)
}

async fn save(client: &ChromaClient, settings: &Settings, saved: &SchemaRecord) -> Result<(), Error> {
    let names = Names::new(settings)?;
    let operation = "writing the schema record";
    let collection = match client.create_collection(&names.schema, None, None).await {
        Ok(collection) => collection,
        Err(err) if err.is_conflict() => client
            .get_collection(&names.schema)
            .await
            .map_err(db_err(operation))?
            .ok_or_else(|| Error::database(super::errors::NAME, operation, "its collection vanished"))?,
        Err(err) => return Err(db_err(operation)(err)),
    };
    let mut m = super::client::Metadata::new();
    m.insert("version".into(), saved.version.into());
    m.insert("hash".into(), saved.hash.to_hex().into());
    m.insert("recorded_at".into(), saved.recorded_at.clone().into());
    let mut records = record("schema".to_string(), m);
    records.documents = Some(vec![Some(saved.snapshot.text())]);
    client.upsert(&collection.id, &records).await.map_err(db_err(operation))
}

async fn load(client: &ChromaClient, settings: &Settings) -> Result<Option<SchemaRecord>, Error> {
    let names = Names::new(settings)?;
    let operation = "reading the schema record";
    let Some(collection) = client.get_collection(&names.schema).await.map_err(db_err(operation))? else {
        return Ok(None);
    };
    let found = client
        .get(&collection.id, Some(&["schema".to_string()]), None, 0)
        .await
        .map_err(db_err(operation))?;
    let metadata = found.metadatas.and_then(|m| m.into_iter().next().flatten());
    let document = found.documents.and_then(|d| d.into_iter().next().flatten());
    let (Some(m), Some(text)) = (metadata, document) else {
        return Ok(None);
    };
    let field = |key: &str| m.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Some(SchemaRecord::from_stored(
        m.get("version").and_then(Value::as_i64).unwrap_or(0),
        &field("hash"),
        &text,
        field("recorded_at"),
    )))
}

impl Snapshot for ChromaClient {
    fn snapshot<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, SchemaSnapshot> {
        Box::pin(snapshot(self, settings))
    }

    fn save_schema_record<'a>(&'a self, settings: &'a Settings, record: &'a SchemaRecord) -> SnapshotFuture<'a, ()> {
        Box::pin(save(self, settings, record))
    }

    fn load_schema_record<'a>(&'a self, settings: &'a Settings) -> SnapshotFuture<'a, Option<SchemaRecord>> {
        Box::pin(load(self, settings))
    }
}
