// migrate:batch size=100
// A batch code migration whose `up` takes no batch size and returns no
// row count: the plain signature, in a file that says migrate:batch.
use sqlx::SqliteConnection;

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO items (id) VALUES (1)").execute(&mut *tx).await?;
    Ok(())
}

pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM items").execute(&mut *tx).await?;
    Ok(())
}
