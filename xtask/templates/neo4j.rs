// description: {{description}}
//
// {{file}}: a Rust code migration. `up` applies the change and `down`
// reverts it exactly; embed the folder with `database = neo4j`.
// Both run in the migration's transaction: their writes and the tracking
// nodes commit together, or not at all.
// If it cannot be reverted, write `// migrate:irreversible` at the top of
// this file and remove `down`. See docs/rust-migrations.md.

use embedded_migrations::neo4rs::{query, Error, Txn};

pub async fn up(tx: &mut Txn) -> Result<(), Error> {
    // tx.run(query("MATCH (n:{{label}}) SET n.done = true")).await?;
    let _ = (tx, query);
    Ok(())
}

pub async fn down(tx: &mut Txn) -> Result<(), Error> {
    let _ = tx;
    Ok(())
}
