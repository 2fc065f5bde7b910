// refinery's layout read as it is: `V<n>__<name>.sql` in the folder and its
// subfolders, each with a `.down.sql` of ours; `-- refinery:noTransaction`
// as no-transaction.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/refinery", layout = "refinery");

fn main() {
    let read: Vec<(i64, &str, &str, bool, bool)> = MIGRATIONS
        .migrations()
        .iter()
        .map(|m| (m.version, m.name, m.up.file, m.up.no_transaction, m.irreversible))
        .collect();
    assert_eq!(
        read,
        [
            (1, "create_users", "V1__create_users.sql", false, false),
            (2, "index_users", "sql/V2__index_users.sql", true, true),
        ]
    );
}
