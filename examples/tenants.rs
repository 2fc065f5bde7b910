//! One migration set, many databases: an SQLite file per tenant under
//! `./tenants/`, migrated 4 at a time, then the counts a dashboard shows.
//!
//! ```text
//! cargo run --example tenants                          # 20 tenants
//! cargo run --example tenants -- --break tenant_07     # one of them refuses migration 002
//! ```
//!
//! With PostgreSQL the tenants are schemas of one database: the same code with
//! `pool.clone()` and `Settings::default().schema(&name)` for each.

use embedded_migrations::{embed_migrations, Migrations, ReadinessState, Settings, Tenants};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::process::ExitCode;

static MIGRATIONS: Migrations = embed_migrations!("migrations/sqlite", database = sqlite);

async fn open(name: &str, broken: bool) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(format!("tenants/{name}.db"))
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await?;
    if broken {
        // Migration 002 creates this table; a tenant that has it already fails there.
        sqlx::query("CREATE TABLE IF NOT EXISTS portfolio_holdings (id INTEGER)")
            .execute(&pool)
            .await?;
    }
    Ok(pool)
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let broken = args.iter().position(|a| a == "--break").and_then(|i| args.get(i + 1));
    std::fs::create_dir_all("tenants")?;

    let mut tenants = Tenants::new(&MIGRATIONS).concurrency(4);
    for i in 1..=20 {
        let name = format!("tenant_{i:02}");
        let pool = open(&name, broken == Some(&name)).await?;
        tenants = tenants.tenant(name, pool, Settings::default());
    }

    let report = tenants.run().await;
    println!(
        "{} tenants, 4 at a time: {} migrated, {} failed, {} skipped",
        tenants.len(),
        report.applied_count(),
        report.failed_count(),
        report.skipped_count()
    );
    for (name, err) in report.failures() {
        println!("{name}: {err}");
    }

    let status = tenants.status().await;
    println!(
        "status: {} up to date, {} pending, {} failed, {} dirty",
        status.up_to_date, status.pending, status.failed, status.dirty
    );
    for name in status.in_state(ReadinessState::Pending) {
        let tenant = status.tenants.iter().find(|t| t.name == name).expect("listed");
        println!("{}", serde_json::to_string(tenant)?);
    }
    Ok(if status.all_ready() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
