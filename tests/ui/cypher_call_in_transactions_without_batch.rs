// Cypher: CALL { ... } IN TRANSACTIONS runs only auto-commit, so it needs migrate:batch.
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_call_in_transactions_without_batch");

fn main() {}
