// Neo4j cannot change the schema and write data in one transaction, so a
// Cypher file holds one kind of statement or the other, unless it says
// `migrate:no-transaction` (each statement then commits on its own).
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_mixed_schema_and_data");

fn main() {}
