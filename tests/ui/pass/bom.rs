// A file saved with a UTF-8 BOM: its directives are read, its statements
// split without the BOM, and its checksum is the one without the BOM.
use embedded_migrations::core::split::{split, Dialect};
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/bom");

fn main() {
    let m = &MIGRATIONS.migrations()[0];
    assert!(m.up.text.starts_with('\u{feff}'), "the premise: the file has a BOM");
    assert!(m.up.no_transaction);
    assert_eq!(m.description, Some("Saved by an editor that writes a BOM"));
    let statements: Vec<&str> = split(m.up.text, Dialect::Postgres).iter().map(|s| s.text).collect();
    assert_eq!(statements, ["CREATE TABLE notes (id INTEGER PRIMARY KEY)"]);
    assert_eq!(split(m.down.text, Dialect::MySql)[0].text, "DROP TABLE notes");
    let without_bom = m.up.text.trim_start_matches('\u{feff}');
    assert_eq!(m.up.checksum, embedded_migrations::core::checksum(without_bom));
}
