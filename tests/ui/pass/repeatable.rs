// A repeatable migration: no version, no down file, embedded beside the
// versioned ones under a negative key derived from its name.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/repeatable");

fn main() {
    assert_eq!(MIGRATIONS.migrations().len(), 1);
    let repeatables = MIGRATIONS.repeatables();
    assert_eq!(repeatables.len(), 1);
    let view = &repeatables[0];
    assert_eq!(view.name, "active_users_view");
    assert_eq!(view.version, embedded_migrations::core::repeatable_key("active_users_view"));
    assert!(view.version < 0);
    assert_eq!(view.up.file, "active_users_view.repeatable.sql");
    assert_eq!(view.description, Some("Users who are active"));
}
