// description: Split each full name into a given name and a family name
//
// The rule is the application's own (the last word is the family name,
// blanks collapse), which SQL would spell badly: so it is Rust, run in the
// migration's transaction.

use sqlx::{Row, SqliteConnection};

/// `"  Ada   Lovelace "` → `("Ada", "Lovelace")`.
fn split(full_name: &str) -> (String, String) {
    let mut words: Vec<&str> = full_name.split_whitespace().collect();
    let family = words.pop().unwrap_or_default().to_string();
    (words.join(" "), family)
}

pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE people ADD COLUMN given_name TEXT").execute(&mut *tx).await?;
    sqlx::query("ALTER TABLE people ADD COLUMN family_name TEXT").execute(&mut *tx).await?;
    for person in sqlx::query("SELECT id, full_name FROM people").fetch_all(&mut *tx).await? {
        let (given, family) = split(person.get("full_name"));
        sqlx::query("UPDATE people SET given_name = ?, family_name = ? WHERE id = ?")
            .bind(given)
            .bind(family)
            .bind(person.get::<i64, _>("id"))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::query("ALTER TABLE people DROP COLUMN family_name").execute(&mut *tx).await?;
    sqlx::query("ALTER TABLE people DROP COLUMN given_name").execute(&mut *tx).await?;
    Ok(())
}
