// The reverse of cypher_table_on_sql_pool.rs: a SQL table on a Cypher database.
// `neo4rs::Graph` is such a database (`Database<Language = Cypher>`, checked
// in tests/neo4j_contract.rs); this case names the bound instead of the type
// so that it fails the same way whether or not the `neo4j` feature is on.
use embedded_migrations::backend::Database;
use embedded_migrations::{embed_migrations, Cypher, Migrations};

static SQL: Migrations = embed_migrations!("tests/ui/folders/minimal");

#[allow(dead_code)]
async fn boot<G: Database<Language = Cypher>>(graph: &G) {
    let _ = SQL.run(graph).await;
}

fn main() {}
