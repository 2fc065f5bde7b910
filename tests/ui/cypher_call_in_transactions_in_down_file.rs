// Cypher: CALL { ... } IN TRANSACTIONS cannot be in a down file (it runs in one transaction).
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_call_in_transactions_in_down_file");

fn main() {}
