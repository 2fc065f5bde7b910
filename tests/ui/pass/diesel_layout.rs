// diesel's layout read as it is: versions as `__diesel_schema_migrations`
// holds them, names as diesel wrote the folders, `metadata.toml`'s
// `run_in_transaction = false` as no-transaction.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/diesel", layout = "diesel");

fn main() {
    let read: Vec<(i64, &str, &str, bool)> = MIGRATIONS
        .migrations()
        .iter()
        .map(|m| (m.version, m.name, m.up.file, m.up.no_transaction && m.down.no_transaction))
        .collect();
    assert_eq!(
        read,
        [
            (
                20240101000000,
                "2024-01-01-000000_create_users",
                "2024-01-01-000000_create_users/up.sql",
                false
            ),
            (
                20240102000000,
                "20240102000000_add_email_index",
                "20240102000000_add_email_index/up.sql",
                true
            ),
        ]
    );
    assert_eq!(MIGRATIONS.migrations()[0].down.file, "2024-01-01-000000_create_users/down.sql");
}
