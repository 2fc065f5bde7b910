// Names another tool's layout does not have, and a layout that does not exist.
use embedded_migrations::{embed_migrations, Migrations};

static DIESEL: Migrations = embed_migrations!("tests/ui/folders/foreign_bad_name_diesel", layout = "diesel");
static REFINERY: Migrations = embed_migrations!("tests/ui/folders/foreign_bad_name_refinery", layout = "refinery");
static UNKNOWN: Migrations = embed_migrations!("tests/ui/folders/diesel", layout = "flyway");

fn main() {}
