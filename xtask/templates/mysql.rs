// description: {{description}}
//
// {{file}}: a Rust code migration. `up` applies the change and `down`
// reverts it exactly; embed the folder with `database = mysql`.
// On MySQL the migration is marked dirty while it runs (DDL commits
// implicitly); its data writes commit with the record, or not at all.
// If it cannot be reverted, write `// migrate:irreversible` at the top of
// this file and remove `down`. See docs/rust-migrations.md.

use sqlx::MySqlConnection;

pub async fn up(tx: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    // sqlx::query("UPDATE {{name}} SET ...").execute(&mut *tx).await?;
    let _ = tx;
    Ok(())
}

pub async fn down(tx: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    let _ = tx;
    Ok(())
}
