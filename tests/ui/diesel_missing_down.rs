// diesel's layout: a migration folder without `down.sql` fails the build,
// named, with how to declare it irreversible.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/diesel_missing_down", layout = "diesel");

fn main() {}
