// Timestamp versions: ordered by number, kept as i64.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/timestamps");

fn main() {
    let versions: Vec<(i64, &str)> = MIGRATIONS.migrations().iter().map(|m| (m.version, m.name)).collect();
    assert_eq!(
        versions,
        [(20261123093000, "create_users"), (20261124171500, "add_email")]
    );
}
