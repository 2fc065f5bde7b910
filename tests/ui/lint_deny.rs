// `lint = "deny"`: every finding of the database's rules is a build error
// naming the file, the line, the rule, why and the fix. 001 indexes a table
// it created itself, and 003 allows its drop with a reason: neither fails.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations =
    embed_migrations!("tests/ui/folders/lint_postgres", database = postgres, lint = "deny");

fn main() {}
