//! One application, two databases: PostgreSQL (`migrations/postgres`) and
//! Neo4j (`migrations/neo4j`), as one `Targets` value. At boot both are
//! applied in their declared order, and the first failure stops the boot
//! naming its set; `pg_and_neo4j migrate ...` is the ops command line over
//! both.
//!
//! ```text
//! export DATABASE_URL=postgres://postgres:postgres@127.0.0.1/app
//! export NEO4J_URI=127.0.0.1:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=secret
//! cargo run --example pg_and_neo4j --features postgres,neo4j                        # boot
//! cargo run --example pg_and_neo4j --features postgres,neo4j -- migrate status      # both sets, then a total
//! cargo run --example pg_and_neo4j --features postgres,neo4j -- migrate --only graph down
//! ```
//!
//! Each set only runs on its own kind of database: adding `GRAPH` with the
//! PostgreSQL pool does not compile.

use embedded_migrations::neo4rs::Graph;
use embedded_migrations::{cli, embed_migrations, CypherMigrations, Migrations, Targets};
use sqlx::PgPool;
use std::process::ExitCode;

static POSTGRES: Migrations = embed_migrations!("migrations/postgres", database = postgres);
static GRAPH: CypherMigrations = embed_migrations!("migrations/neo4j", database = neo4j);

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the comment at the top of examples/pg_and_neo4j.rs)"))
}

async fn connect() -> Result<(PgPool, Graph), String> {
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
    Ok((pool, graph))
}

async fn boot() -> Result<u8, String> {
    let (pool, graph) = connect().await?;
    let targets = Targets::new()
        .add("postgres", &POSTGRES, pool)
        .add("graph", &GRAPH, graph);

    // `pg_and_neo4j migrate [--only NAME] <command>`: operations, then exit.
    if let Some(code) = cli::dispatch_targets(&targets).await {
        return Ok(code.clamp(0, 255) as u8);
    }

    // Boot: PostgreSQL first, then the graph; a failure names its set.
    for applied in targets.run().await.map_err(|err| err.to_string())? {
        for step in &applied.report.steps {
            println!(
                "{}: applied {} {} in {} ms",
                applied.name,
                step.version,
                step.name,
                step.duration.as_millis()
            );
        }
    }
    for set in targets.readiness().await.targets {
        let r = &set.readiness;
        println!(
            "{}: {} at version {} of {}",
            set.name,
            r.state.as_str(),
            r.current_version.unwrap_or(0),
            r.latest_version
        );
    }
    Ok(0)
}

#[tokio::main]
async fn main() -> ExitCode {
    match boot().await {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
