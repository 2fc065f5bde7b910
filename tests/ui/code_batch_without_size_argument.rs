// A file that says `// migrate:batch size=N` has an `up` that takes the
// batch size and returns the rows it processed; the plain signature does
// not compile.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/code_batch_without_size_argument", database = sqlite);

fn main() {}
