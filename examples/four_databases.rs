//! The user's layout: one application migrating four databases, each from
//! its own folder, declared as one `Targets` and applied in this order:
//! TimescaleDB (`migrations/timescaledb`, plain PostgreSQL to this crate),
//! PostgreSQL (`migrations/postgres`), Neo4j (`migrations/neo4j`) and
//! ChromaDB (`migrations/chroma`). At boot every set is applied and the
//! first failure stops the boot naming its set; `four_databases migrate
//! ...` is the ops command line over all four (`--only NAME` for one).
//!
//! ```text
//! export TIMESCALE_URL=postgres://postgres:any@127.0.0.1:5433/postgres?sslmode=disable
//! export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
//! export NEO4J_URI=127.0.0.1:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=unused
//! export CHROMA_URL=http://127.0.0.1:8011
//! cargo run --example four_databases --features postgres,neo4j,chroma -- migrate status
//! cargo run --example four_databases --features postgres,neo4j,chroma -- migrate up
//! cargo run --example four_databases --features postgres,neo4j,chroma -- migrate --only chroma history
//! cargo run --example four_databases --features postgres,neo4j,chroma                  # boot
//! ```

use embedded_migrations::chroma::ChromaClient;
use embedded_migrations::neo4rs::Graph;
use embedded_migrations::{cli, embed_migrations, Chroma, CypherMigrations, Migrations, Targets};
use sqlx::postgres::PgPoolOptions;
use std::process::ExitCode;

static TIMESCALE: Migrations = embed_migrations!("migrations/timescaledb");
static POSTGRES: Migrations = embed_migrations!("migrations/postgres", database = postgres);
static GRAPH: CypherMigrations = embed_migrations!("migrations/neo4j", database = neo4j);
static COLLECTIONS: Migrations<Chroma> = embed_migrations!("migrations/chroma", database = chroma);

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the comment at the top of examples/four_databases.rs)"))
}

async fn boot() -> Result<u8, String> {
    // The TimescaleDB test server (PGlite) serves one connection at a time.
    let timescale = PgPoolOptions::new()
        .max_connections(1)
        .connect(&env("TIMESCALE_URL")?)
        .await
        .map_err(|err| format!("connecting to TimescaleDB: {err}"))?;
    let postgres = sqlx::PgPool::connect(&env("DATABASE_URL")?)
        .await
        .map_err(|err| format!("connecting to PostgreSQL: {err}"))?;
    let graph = Graph::new(env("NEO4J_URI")?, env("NEO4J_USER")?, env("NEO4J_PASSWORD")?)
        .await
        .map_err(|err| format!("connecting to Neo4j: {err}"))?;
    let chroma = ChromaClient::new(env("CHROMA_URL")?);
    let targets = Targets::new()
        .add("timescaledb", &TIMESCALE, timescale)
        .add("postgres", &POSTGRES, postgres)
        .add("neo4j", &GRAPH, graph)
        .add("chroma", &COLLECTIONS, chroma);

    // `four_databases migrate [--only NAME] <command>`: operations, then exit.
    if let Some(code) = cli::dispatch_targets(&targets).await {
        return Ok(code.clamp(0, 255) as u8);
    }
    for applied in targets.run().await.map_err(|err| err.to_string())? {
        for step in &applied.report.steps {
            println!("{}: applied {} {}", applied.name, step.version, step.name);
        }
    }
    Ok(0)
}

#[tokio::main]
async fn main() -> ExitCode {
    match boot().await {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
