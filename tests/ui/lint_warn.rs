// `lint = "warn"`: the same findings as warnings of the build (uses of a
// deprecated item whose note is the finding), and the table still builds.
// The lint applies one database's rules, so it needs `database = ...`, and
// its level is one of two words.
use embedded_migrations::{embed_migrations, Migrations};

static WARNED: Migrations =
    embed_migrations!("tests/ui/folders/lint_postgres", database = postgres, lint = "warn");
static NO_DATABASE: Migrations = embed_migrations!("tests/ui/folders/lint_postgres", lint = "deny");
static LOUD: Migrations = embed_migrations!("tests/ui/folders/lint_postgres", database = postgres, lint = "loud");

fn main() {}
