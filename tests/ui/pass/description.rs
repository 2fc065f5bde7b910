// `-- description:` in the up file's header is embedded for status.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/description");

fn main() {
    let [users] = MIGRATIONS.migrations() else {
        panic!("expected one migration");
    };
    assert_eq!(users.description, Some("Users and their login e-mail"));
}
