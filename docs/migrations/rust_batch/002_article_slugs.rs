// migrate:batch size=100
// migrate:total SELECT count(*) FROM articles WHERE slug IS NULL
// description: Give every article a slug, 100 articles per transaction
use sqlx::{Row, SqliteConnection};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One batch: the next `size` articles without a slug get one. Returns how
/// many it did; 0 ends the migration.
pub async fn up(tx: &mut SqliteConnection, size: u64) -> Result<u64, Error> {
    let rows = sqlx::query("SELECT id, title FROM articles WHERE slug IS NULL ORDER BY id LIMIT ?")
        .bind(size as i64)
        .fetch_all(&mut *tx)
        .await?;
    for row in &rows {
        let (id, title): (i64, String) = (row.get(0), row.get(1));
        sqlx::query("UPDATE articles SET slug = ? WHERE id = ?")
            .bind(slug(&title))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(rows.len() as u64)
}

pub async fn down(tx: &mut SqliteConnection) -> Result<(), Error> {
    sqlx::query("UPDATE articles SET slug = NULL").execute(&mut *tx).await?;
    Ok(())
}

/// Lower case, letters and digits kept (accented ones too), every other
/// run of characters one `-`: Unicode rules that SQLite's `lower()` does
/// not know.
fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}
