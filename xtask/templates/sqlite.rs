// description: {{description}}
//
// {{file}}: a Rust code migration. `up` applies the change and `down`
// reverts it exactly; embed the folder with `database = sqlite`.
// Both run in the migration's transaction: their writes and the tracking
// row commit together, or not at all.
// If it cannot be reverted, write `// migrate:irreversible` at the top of
// this file and remove `down`. See docs/rust-migrations.md.

use sqlx::SqliteConnection;

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    // sqlx::query("UPDATE {{name}} SET ...").execute(&mut *tx).await?;
    let _ = tx;
    Ok(())
}

pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let _ = tx;
    Ok(())
}
