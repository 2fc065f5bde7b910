// Cypher batch migrations: exactly one statement, CALL { ... } IN TRANSACTIONS.
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_batch_two_statements");

fn main() {}
