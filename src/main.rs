//! Demo: applies the example migrations to an embedded SQLite file (or the
//! database `DATABASE_URL` names) and prints their status.

use embedded_migrations::{Migrations, Status};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::str::FromStr;

static MIGRATIONS: Migrations = embedded_migrations::embed_migrations!("migrations/sqlite");

fn print_status(status: &Status) {
    println!(
        "{:<8} {:<32} {:<10} {:<25} {}",
        "version", "name", "state", "applied at", "description"
    );
    for entry in &status.entries {
        println!(
            "{:<8} {:<32} {:<10} {:<25} {}",
            entry.version,
            entry.name,
            entry.state.as_str(),
            entry.applied_at.as_deref().unwrap_or("-"),
            entry.description.as_deref().unwrap_or("")
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://demo.db".to_string());
    let options = SqliteConnectOptions::from_str(&url)?.create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await?;
    let report = MIGRATIONS.run(&pool).await?;
    for step in &report.steps {
        println!("applied {} {} in {:?}", step.version, step.name, step.duration);
    }
    print_status(&MIGRATIONS.status(&pool).await?);
    Ok(())
}
