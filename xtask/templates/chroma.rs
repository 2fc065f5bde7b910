// description: {{description}}
//
// {{file}}: a Rust code migration. `up` applies the change and `down`
// reverts it exactly; embed the folder with `database = chroma`.
// Chroma has no transactions: the migration runs under its dirty mark, and
// what a function wrote stays when it fails, so write it to be run again
// (upsert rather than add).
// If it cannot be reverted, write `// migrate:irreversible` at the top of
// this file and remove `down`. See docs/chroma.md.

use embedded_migrations::chroma::{ChromaClient, ChromaError};

pub async fn up(client: &mut ChromaClient) -> Result<(), ChromaError> {
    // let Some(collection) = client.get_collection("{{name}}").await? else {
    //     return Ok(());
    // };
    // let records = client.get(&collection.id, None, None, 0).await?;
    // ... change the records, then client.upsert(&collection.id, &records).await?;
    let _ = client;
    Ok(())
}

pub async fn down(client: &mut ChromaClient) -> Result<(), ChromaError> {
    let _ = client;
    Ok(())
}
