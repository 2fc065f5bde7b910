// A Cypher folder makes a `Migrations<Cypher>`; a SQL pool runs SQL tables only.
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_graph");

async fn boot(pool: &sqlx::SqlitePool) {
    let _ = GRAPH.run(pool).await;
}

fn main() {
    let _ = boot;
}
