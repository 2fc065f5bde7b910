// migrate:batch size=500
// description: {{description}}
//
// {{file}}: a batch code migration. The runner calls `up` again and again,
// writing the batch's checkpoint after each call, until it returns 0: each
// call does the next `size` records not done yet and returns how many it
// did, so a run stopped midway resumes where it was. Chroma has no
// transactions: a batch cut short by a crash runs again, so write it to be
// run again (upsert rather than add). Embed the folder with
// `database = chroma`. See docs/chroma.md and docs/rust-migrations.md.

use embedded_migrations::chroma::ChromaClient;

type Error = Box<dyn std::error::Error + Send + Sync>;

pub async fn up(client: &mut ChromaClient, size: u64) -> Result<u64, Error> {
    // let collection = client.get_collection("{{name}}").await?.ok_or("no collection {{name}}")?;
    // ... read the next `size` records not done yet, change them, upsert them;
    // Ok(how_many)
    let _ = (client, size);
    Ok(0)
}

pub async fn down(client: &mut ChromaClient) -> Result<(), Error> {
    let _ = client;
    Ok(())
}
