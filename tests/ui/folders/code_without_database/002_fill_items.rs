use sqlx::SqliteConnection;

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO items (id) VALUES (1)").execute(&mut *tx).await?;
    Ok(())
}

pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM items").execute(&mut *tx).await?;
    Ok(())
}
