// Rule 4: a file name with an extension other than `.sql`/`.cypher`/`.cql`.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/name_with_unknown_extension");

fn main() {}
