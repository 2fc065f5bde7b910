// A code migration with an `up` and no `down` (and no `migrate:irreversible`).
use sqlx::SqliteConnection;

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO items (id) VALUES (1)").execute(&mut *tx).await?;
    Ok(())
}
