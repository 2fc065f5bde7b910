// description: Normalise every e-mail address and keep its SHA-256 beside it
//
// A Rust code migration: the normalisation is the application's own rule
// (trimmed, lower-cased) and SQLite has no SHA-256, so Rust does both, in the
// migration's transaction: the column, every row and the tracking record
// commit together or not at all.

use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection};

/// The rule the application applies to every address it stores.
fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE users ADD COLUMN email_hash TEXT").execute(&mut *tx).await?;
    let users = sqlx::query("SELECT id, email FROM users").fetch_all(&mut *tx).await?;
    for user in users {
        let email = normalise(user.get("email"));
        sqlx::query("UPDATE users SET email = ?, email_hash = ? WHERE id = ?")
            .bind(&email)
            .bind(sha256_hex(&email))
            .bind(user.get::<i64, _>("id"))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The hashes go; the addresses stay normalised (their old spelling is not
/// kept, and the application reads them the same either way).
pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE users DROP COLUMN email_hash").execute(&mut *tx).await?;
    Ok(())
}
