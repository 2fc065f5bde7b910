// Files saved with Windows line endings: the text is embedded as it is, and
// the checksum is the one of the same text with LF endings, so a checkout on
// Windows never looks like drift.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/crlf");

fn main() {
    let [users] = MIGRATIONS.migrations() else {
        panic!("expected one migration");
    };
    assert!(users.up.text.contains("\r\n"), "the file is embedded verbatim");
    let lf = users.up.text.replace("\r\n", "\n");
    assert_eq!(users.up.checksum, embedded_migrations::core::checksum(&lf));
    assert_eq!(users.down.checksum, embedded_migrations::core::checksum("DROP TABLE users;\n"));
}
