// Written for PostgreSQL, in a folder embedded for SQLite.
use sqlx::PgConnection;

pub async fn up(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO items (id) VALUES (1)").execute(&mut *tx).await?;
    Ok(())
}

pub async fn down(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM items").execute(&mut *tx).await?;
    Ok(())
}
