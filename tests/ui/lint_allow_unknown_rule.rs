// `migrate:allow <rule> <reason>`: a rule the lint does not know is a build
// error (a typo would otherwise allow nothing), and so is a missing reason;
// both are checked whether or not the call asks for the lint.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/lint_allow_unknown_rule");

fn main() {}
