// description: Normalise every e-mail address and keep its SHA-256 beside it
//
// A Rust code migration: the normalisation is the application's own rule
// (trimmed, lower-cased), so Rust does it and the hash. On MySQL the
// `ALTER TABLE` commits implicitly, so the migration is marked dirty while
// it runs: a failure leaves the mark for `force` or `forget`.

use sha2::{Digest, Sha256};
use sqlx::{MySqlConnection, Row};

/// The rule the application applies to every address it stores.
fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn up(tx: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE users ADD COLUMN email_hash CHAR(64)").execute(&mut *tx).await?;
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
pub async fn down(tx: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE users DROP COLUMN email_hash").execute(&mut *tx).await?;
    Ok(())
}
