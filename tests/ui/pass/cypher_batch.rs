// `// migrate:batch` on Cypher: one CALL { ... } IN TRANSACTIONS statement,
// its size read from OF N ROWS.
use embedded_migrations::core::batch::BatchSpec;
use embedded_migrations::core::Language;
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_batch");

fn main() {
    let backfill = &GRAPH.migrations()[1];
    let spec = BatchSpec::from_text(backfill.up.text, Language::Cypher)
        .expect("valid")
        .expect("a batch migration");
    assert_eq!(spec.size, 500);
    assert!(spec.total.is_some());
}
