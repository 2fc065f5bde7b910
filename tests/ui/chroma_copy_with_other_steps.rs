// A `copy` step runs as a batch migration with a checkpoint, so it is
// the only step of its up file.
use embedded_migrations::{embed_migrations, Chroma, Migrations};

static COLLECTIONS: Migrations<Chroma> = embed_migrations!("tests/ui/folders/chroma_copy_with_other_steps");

fn main() {}
