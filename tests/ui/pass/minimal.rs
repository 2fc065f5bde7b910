// The smallest valid folder: one pair, version written without padding.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/minimal");

fn main() {
    let [only] = MIGRATIONS.migrations() else {
        panic!("expected one migration");
    };
    assert_eq!((only.version, only.name), (1, "create_users"));
    assert_eq!(only.up.file, "1_create_users.up.sql");
    assert_eq!(only.down.text, "DROP TABLE users;\n");
    assert!(!only.irreversible && !only.up.no_transaction && only.description.is_none());
}
