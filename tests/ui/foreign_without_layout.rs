// A diesel folder given to our own layout: the build names the layout it
// looks like and the option that reads it.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/diesel");

fn main() {}
