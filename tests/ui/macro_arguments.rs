// The call itself: one string literal, the folder.
use embedded_migrations::{embed_migrations, Migrations};

static NONE: Migrations = embed_migrations!();
static TWO: Migrations = embed_migrations!("tests/ui/folders/minimal", "more");
static NOT_A_STRING: Migrations = embed_migrations!(migrations);

fn main() {}
