// Placeholders: the build records the names each file uses, sorted and each
// once; an escaped `$${schema}` and a JSON body in a dollar quote are text.
use embedded_migrations::{embed_migrations, Migrations};

static MIGRATIONS: Migrations = embed_migrations!("tests/ui/folders/placeholders");

fn main() {
    let names: Vec<(&str, &[&str])> = MIGRATIONS
        .migrations()
        .iter()
        .flat_map(|m| [(m.up.file, m.up.placeholders), (m.down.file, m.down.placeholders)])
        .collect();
    assert_eq!(
        names,
        [
            ("001_t.up.sql", &["role", "schema"][..]),
            ("001_t.down.sql", &["schema"][..]),
            ("002_plain.up.sql", &[][..]),
            ("002_plain.down.sql", &[][..]),
        ]
    );
}
