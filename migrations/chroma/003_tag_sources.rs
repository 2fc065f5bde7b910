// description: every entity embedding tagged with the source it came from, in Rust
use embedded_migrations::chroma::{ChromaClient, ChromaError, Value};

async fn retag(client: &mut ChromaClient, source: Option<&str>) -> Result<(), ChromaError> {
    let Some(collection) = client.get_collection("entity_embeddings").await? else {
        return Ok(());
    };
    let mut records = client.get(&collection.id, None, None, 0).await?;
    if records.is_empty() {
        return Ok(());
    }
    for metadata in records.metadatas.get_or_insert_with(Vec::new).iter_mut() {
        let metadata = metadata.get_or_insert_with(Default::default);
        match source {
            Some(source) => metadata.insert("source".into(), Value::from(source)),
            None => metadata.remove("source"),
        };
    }
    client.upsert(&collection.id, &records).await
}

pub async fn up(client: &mut ChromaClient) -> Result<(), ChromaError> {
    retag(client, Some("neo4j")).await
}

pub async fn down(client: &mut ChromaClient) -> Result<(), ChromaError> {
    retag(client, None).await
}
