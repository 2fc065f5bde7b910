//! Two migration tables in one binary: PostgreSQL (`migrations/postgres`)
//! and Neo4j (`migrations/neo4j`), both applied at boot.
//!
//! ```text
//! DATABASE_URL=postgres://postgres:postgres@127.0.0.1/app \
//! NEO4J_URI=127.0.0.1:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=secret \
//!     cargo run --example pg_and_neo4j --features postgres,neo4j
//! ```
//!
//! Each table only runs on its own kind of database: `GRAPH.run(&pool)` or
//! `SQL.run(&graph)` does not compile.

use embedded_migrations::neo4rs::Graph;
use embedded_migrations::{embed_migrations, CypherMigrations, Error, Migrations, Report, Status};
use sqlx::PgPool;
use std::process::ExitCode;

static SQL: Migrations = embed_migrations!("migrations/postgres");
static GRAPH: CypherMigrations = embed_migrations!("migrations/neo4j");

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the comment at the top of examples/pg_and_neo4j.rs)"))
}

fn print(database: &str, report: &Report, status: &Status) {
    if report.is_empty() {
        println!("{database}: up to date");
    }
    for step in &report.steps {
        println!(
            "{database}: applied {} {} in {} ms",
            step.version,
            step.name,
            step.duration.as_millis()
        );
    }
    for entry in &status.entries {
        println!(
            "{database}:   {:>4}  {:<24} {}",
            entry.version,
            entry.name,
            entry.state.as_str()
        );
    }
}

async fn boot() -> Result<(), String> {
    let (database_url, uri, user, password) = (
        env("DATABASE_URL")?,
        env("NEO4J_URI")?,
        env("NEO4J_USER")?,
        env("NEO4J_PASSWORD")?,
    );
    let pool = PgPool::connect(&database_url)
        .await
        .map_err(|err| format!("connecting to PostgreSQL: {err}"))?;
    let graph = Graph::new(uri, user, password)
        .await
        .map_err(|err| format!("connecting to Neo4j: {err}"))?;
    let describe = |database: &'static str| move |err: Error| format!("{database}: {err}");

    // The two databases are independent: boot them side by side.
    let (sql, cypher) = tokio::join!(SQL.run(&pool), GRAPH.run(&graph));
    let sql = sql.map_err(describe("PostgreSQL"))?;
    let cypher = cypher.map_err(describe("Neo4j"))?;
    print(
        "PostgreSQL",
        &sql,
        &SQL.status(&pool).await.map_err(describe("PostgreSQL"))?,
    );
    print(
        "Neo4j",
        &cypher,
        &GRAPH.status(&graph).await.map_err(describe("Neo4j"))?,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match boot().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
