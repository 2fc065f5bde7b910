// A ChromaDB down file must undo what its up file does: here it deletes
// another collection than the one the up file creates.
use embedded_migrations::{embed_migrations, Chroma, Migrations};

static COLLECTIONS: Migrations<Chroma> = embed_migrations!("tests/ui/folders/chroma_down_does_not_revert");

fn main() {}
