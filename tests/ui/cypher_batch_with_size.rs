// Cypher batch migrations: the size is the statement's OF N ROWS, not an argument.
use embedded_migrations::{embed_migrations, CypherMigrations};

static GRAPH: CypherMigrations = embed_migrations!("tests/ui/folders/cypher_batch_with_size");

fn main() {}
