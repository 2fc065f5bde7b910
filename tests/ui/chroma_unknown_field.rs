// A misspelt key in a step is refused at build time, naming the step
// and the key, instead of being ignored.
use embedded_migrations::{embed_migrations, Chroma, Migrations};

static COLLECTIONS: Migrations<Chroma> = embed_migrations!("tests/ui/folders/chroma_unknown_field");

fn main() {}
