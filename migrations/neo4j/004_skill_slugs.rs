// description: A URL slug on every skill, made by the application's own rule
//
// A Rust code migration: the slug rule (lower case, words joined by `-`,
// nothing but letters and digits) is the application's, and Cypher would
// spell it badly. It runs in the migration's transaction: the slugs and the
// tracking nodes commit together, or not at all.

use embedded_migrations::code::BoxError;
use embedded_migrations::neo4rs::{query, Error, Txn};

/// `"Risk  Management!"` → `"risk-management"`.
fn slug(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.join("-")
}

pub async fn up(tx: &mut Txn) -> Result<(), BoxError> {
    let mut names = Vec::new();
    let mut skills = tx.execute(query("MATCH (s:Skill) RETURN s.name AS name")).await?;
    while let Some(row) = skills.next(tx.handle()).await? {
        names.push(row.get::<String>("name")?);
    }
    for name in names {
        tx.run(query("MATCH (s:Skill {name: $name}) SET s.slug = $slug").param("slug", slug(&name)).param("name", name))
            .await?;
    }
    Ok(())
}

pub async fn down(tx: &mut Txn) -> Result<(), Error> {
    tx.run(query("MATCH (s:Skill) REMOVE s.slug")).await
}
