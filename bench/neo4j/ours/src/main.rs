//! `neo4j-bench-ours URI`: applies the corpus once, prints `apply_ms=N`
//! (the `run` call alone, from a connected graph to its return).

use embedded_migrations::neo4rs::Graph;
use embedded_migrations::{embed_migrations, CypherMigrations};
use std::time::Instant;

static CORPUS: CypherMigrations = embed_migrations!("../corpus/ours");

#[tokio::main]
async fn main() {
    let uri = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7687".to_string());
    let graph = Graph::new(uri, "neo4j", "unused").await.expect("connecting");
    let started = Instant::now();
    let report = CORPUS.run(&graph).await.expect("applying the corpus");
    let apply = started.elapsed();
    assert_eq!(report.steps.len(), 11, "the corpus applied whole");
    println!("apply_ms={:.1}", apply.as_secs_f64() * 1000.0);
}
