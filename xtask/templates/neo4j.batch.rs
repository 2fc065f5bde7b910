// migrate:batch size=1000
// description: {{description}}
//
// {{file}}: a batch code migration. The runner calls `up` again and again,
// each call in a transaction of its own with the batch's checkpoint, until
// it returns 0: each call does the next `size` nodes not done yet and
// returns how many it did, so a run stopped midway resumes where it was.
// `down` reverts the whole change in one transaction. For a progress
// total, add `// migrate:total MATCH (n:{{label}}) WHERE <not done> RETURN count(n)`
// under the first line. Embed the folder with `database = neo4j`.
// See docs/rust-migrations.md and docs/batches.md.

use embedded_migrations::neo4rs::{query, Txn};

type Error = Box<dyn std::error::Error + Send + Sync>;

pub async fn up(tx: &mut Txn, size: u64) -> Result<u64, Error> {
    // let batch = query(
    //     "MATCH (n:{{label}}) WHERE <not done> WITH n LIMIT $size SET ... RETURN count(n) AS done",
    // )
    // .param("size", size as i64);
    // let mut rows = tx.execute(batch).await?;
    // let row = rows.next(tx.handle()).await?.ok_or("no row")?;
    // while rows.next(tx.handle()).await?.is_some() {}
    // Ok(row.get::<i64>("done")? as u64)
    let _ = (tx, size, query);
    Ok(0)
}

pub async fn down(tx: &mut Txn) -> Result<(), Error> {
    let _ = tx;
    Ok(())
}
