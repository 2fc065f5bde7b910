// refinery's layout: its files are up only; one without a down file (or an
// irreversible declaration in one) fails the build, saying how to add it.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/refinery_missing_down", layout = "refinery");

fn main() {}
