//! The steps of a ChromaDB migration file (core's `chroma::Step`), each
//! one request the server applies whole or not at all.

use super::client::{ChromaClient, ChromaError, Metadata};
use crate::core::chroma::{self, MetadataValue, NewCollection, Step};
use serde_json::Value;

/// A step as an error names it: `create "documents"`.
pub(super) fn describe(step: &Step) -> String {
    match step {
        Step::Create { collection, .. } => format!("create \"{collection}\""),
        Step::Delete { collection } => format!("delete \"{collection}\""),
        Step::Modify { collection, rename, .. } => match rename {
            Some(new) => format!("modify \"{collection}\" (rename to \"{new}\")"),
            None => format!("modify \"{collection}\" (metadata)"),
        },
        Step::Copy { from, to, .. } => format!("copy \"{from}\" to \"{to}\""),
    }
}

/// The line of the `index`th `[[step]]` (0-based) in `text`, 1-based.
pub(super) fn line_of(text: &str, index: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with("[[step]]"))
        .nth(index)
        .map_or(1, |(n, _)| n + 1)
}

/// A step's metadata as Chroma's JSON.
pub(super) fn metadata(values: &chroma::Metadata) -> Metadata {
    values
        .iter()
        .map(|(key, value)| {
            let value = match value {
                MetadataValue::Bool(b) => Value::from(*b),
                MetadataValue::Int(i) => Value::from(*i),
                MetadataValue::Float(f) => Value::from(*f),
                MetadataValue::Str(s) => Value::from(s.clone()),
            };
            (key.clone(), value)
        })
        .collect()
}

/// A new collection's `configuration`: its HNSW settings and distance.
pub(super) fn configuration(config: &NewCollection) -> Option<Value> {
    if config.space.is_none() && config.hnsw.is_none() {
        return None;
    }
    let mut hnsw = serde_json::Map::new();
    if let Some(space) = config.space {
        hnsw.insert("space".into(), space.as_str().into());
    }
    if let Some(h) = &config.hnsw {
        for (key, value) in [
            ("ef_construction", h.ef_construction),
            ("ef_search", h.ef_search),
            ("max_neighbors", h.max_neighbors),
            ("num_threads", h.num_threads),
            ("batch_size", h.batch_size),
            ("sync_threshold", h.sync_threshold),
        ] {
            if let Some(value) = value {
                hnsw.insert(key.into(), value.into());
            }
        }
        if let Some(factor) = h.resize_factor {
            hnsw.insert("resize_factor".into(), factor.into());
        }
    }
    Some(serde_json::json!({ "hnsw": hnsw }))
}

/// Creates `name` with `config`.
pub(super) async fn create(client: &ChromaClient, name: &str, config: &NewCollection) -> Result<(), ChromaError> {
    let metadata = config.metadata.as_ref().map(metadata);
    client
        .create_collection(name, metadata.as_ref(), configuration(config).as_ref())
        .await
        .map(drop)
}

/// Runs one step: `Err` with the server's words.
pub(super) async fn run_step(client: &ChromaClient, step: &Step) -> Result<(), String> {
    let server = |err: ChromaError| match err {
        ChromaError::Status { message, status, .. } => format!("{message} (HTTP {status})"),
        other => other.to_string(),
    };
    match step {
        Step::Create { collection, config } => create(client, collection, config).await.map_err(server),
        Step::Delete { collection } => client.delete_collection(collection).await.map_err(server),
        Step::Modify {
            collection,
            rename,
            metadata: new,
        } => {
            let Some(found) = client.get_collection(collection).await.map_err(server)? else {
                return Err(format!("there is no collection `{collection}`"));
            };
            let new = new.as_ref().map(metadata);
            client
                .modify_collection(&found.id, rename.as_deref(), new.as_ref())
                .await
                .map_err(server)
        }
        Step::Copy { .. } => Err(
            "a `copy` step runs as a batch migration, alone in its up file; the build refuses it elsewhere".to_string(),
        ),
    }
}
