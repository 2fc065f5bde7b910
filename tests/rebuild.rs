//! Editing, adding and deleting a migration file must reach the binary on the
//! next `cargo build`. Each test writes a scratch crate into a temp dir that
//! embeds `migrations/` and prints what it holds, changes the folder, and
//! builds and runs it again with `cargo run`.
//!
//! What cargo knows: rustc records every `include_str!`ed file in the crate's
//! dep-info, and the macro includes each migration file, so an edited or a
//! deleted file rebuilds the crate, which runs the macro again. Nothing records
//! that the macro listed the folder (`proc_macro::tracked_path` is unstable),
//! so a new file goes unseen. Hence the one line of a build script,
//! `println!("cargo:rerun-if-changed=migrations");`: cargo then watches the
//! folder and everything in it, reruns the build script when it changes, and
//! recompiles the crate, macro included.
//!
//! Measured on Rust 1.95 (and asserted by `without_build_script_a_new_file_is_missed`):
//! with no build script, an edit and a deletion are picked up, but after adding
//! `003_*.up.sql`/`.down.sql` the next `cargo build` finishes without compiling
//! anything and the binary still holds the old set, until an unrelated change
//! (a touched `.rs` file, an edited migration) or `cargo clean` forces a rebuild.
//! With the line, all three changes are picked up. A build script without any
//! `rerun-if` line also works, since cargo then reruns it on any change in the
//! package, but it reruns on every source edit too; the line keeps it to the
//! folder.
//!
//! The scratch crate depends on the runtime without default features (no
//! database driver: only core and the macro compile) and builds into
//! `target/rebuild-test`, so after the first run only the scratch crate itself
//! is compiled.

use std::path::{Path, PathBuf};
use std::process::Command;

const USERS_UP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY);\n";

#[test]
fn with_the_build_script_line_edits_additions_and_deletions_are_picked_up() {
    let krate = Scratch::new(
        "with-line",
        Some("fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n"),
    );
    let first = krate.run();
    assert!(first.starts_with("2 [1, 2] "), "{first}");

    krate.write(
        "001_create_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    let edited = krate.run();
    assert!(edited.starts_with("2 [1, 2] "), "{edited}");
    assert_ne!(edited, first, "an edited migration must change the embedded checksum");

    krate.add_pair(
        "003_add_index",
        "CREATE INDEX users_email ON users (email);\n",
        "DROP INDEX users_email;\n",
    );
    let added = krate.run();
    assert!(
        added.starts_with("3 [1, 2, 3] "),
        "a new migration must be embedded: {added}"
    );

    krate.remove_pair("002_create_posts");
    let deleted = krate.run();
    assert!(
        deleted.starts_with("2 [1, 3] "),
        "a deleted migration must leave the table: {deleted}"
    );
}

/// The reason for the build-script line. If this fails because the new file
/// *was* seen, cargo or rustc now track the folder on their own: the line may
/// no longer be needed, so update the README and the doc comment above.
#[test]
fn without_build_script_a_new_file_is_missed() {
    let krate = Scratch::new("without-line", None);
    let first = krate.run();
    assert!(first.starts_with("2 [1, 2] "), "{first}");

    krate.write(
        "001_create_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    let edited = krate.run();
    assert_ne!(edited, first, "include_str! tracks edits even without a build script");

    krate.add_pair(
        "003_add_index",
        "CREATE INDEX users_email ON users (email);\n",
        "DROP INDEX users_email;\n",
    );
    let added = krate.run();
    assert_eq!(
        added, edited,
        "without the build script the new migration is not embedded"
    );

    // The deleted files are in the dep-info, so cargo rebuilds, and the macro
    // then also finds the pair added above.
    krate.remove_pair("002_create_posts");
    let deleted = krate.run();
    assert!(deleted.starts_with("2 [1, 3] "), "{deleted}");
}

/// diesel's `metadata.toml` is read by the macro, not embedded: the macro
/// includes its bytes all the same, so that an edit reaches the next build
/// without a build script, as an edited migration does.
#[test]
fn an_edited_diesel_metadata_is_picked_up_without_a_build_script() {
    let krate = Scratch::new("diesel-metadata", None);
    std::fs::remove_dir_all(krate.dir.join("migrations")).unwrap();
    krate.write("2024-01-01-000000_create_users/up.sql", USERS_UP);
    krate.write("2024-01-01-000000_create_users/down.sql", "DROP TABLE users;\n");
    krate.write(
        "2024-01-01-000000_create_users/metadata.toml",
        "run_in_transaction = true\n",
    );
    std::fs::write(
        krate.dir.join("src/main.rs"),
        r#"static MIGRATIONS: embedded_migrations::Migrations =
    embedded_migrations::embed_migrations!("migrations", layout = "diesel");

fn main() {
    let m = &MIGRATIONS.migrations()[0];
    println!("{} {} no-transaction={}", m.version, m.name, m.up.no_transaction);
}
"#,
    )
    .unwrap();
    let first = krate.run();
    assert_eq!(
        first,
        "20240101000000 2024-01-01-000000_create_users no-transaction=false"
    );

    krate.write(
        "2024-01-01-000000_create_users/metadata.toml",
        "run_in_transaction = false\n",
    );
    let edited = krate.run();
    assert_eq!(
        edited,
        "20240101000000 2024-01-01-000000_create_users no-transaction=true"
    );
}

/// A throwaway crate embedding `migrations/` with two migrations.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str, build_script: Option<&str>) -> Scratch {
        let dir = std::env::temp_dir().join(format!("em-rebuild-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("migrations")).unwrap();
        let runtime = repo().join("runtime");
        // Its own [workspace] keeps cargo from looking for one above the temp dir.
        let manifest = format!(
            "[package]\nname = \"rebuild-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nembedded-migrations = {{ path = {runtime:?}, default-features = false }}\n\n[workspace]\n",
            runtime = runtime.to_string_lossy(),
        );
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        // The workspace's lock file pins the same dependency versions, so the
        // build needs no network and reuses what target/rebuild-test holds.
        std::fs::copy(repo().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        if let Some(build_script) = build_script {
            std::fs::write(dir.join("build.rs"), build_script).unwrap();
        }
        std::fs::write(
            dir.join("src/main.rs"),
            r#"static MIGRATIONS: embedded_migrations::Migrations = embedded_migrations::embed_migrations!("migrations");

fn main() {
    let migrations = MIGRATIONS.migrations();
    let versions: Vec<i64> = migrations.iter().map(|m| m.version).collect();
    println!("{} {:?} {}", migrations.len(), versions, migrations[0].checksum());
}
"#,
        )
        .unwrap();
        let krate = Scratch { dir };
        krate.add_pair("001_create_users", USERS_UP, "DROP TABLE users;\n");
        krate.add_pair(
            "002_create_posts",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n",
            "DROP TABLE posts;\n",
        );
        krate
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.dir.join("migrations").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn add_pair(&self, stem: &str, up: &str, down: &str) {
        self.write(&format!("{stem}.up.sql"), up);
        self.write(&format!("{stem}.down.sql"), down);
    }

    fn remove_pair(&self, stem: &str) {
        for direction in ["up", "down"] {
            std::fs::remove_file(self.dir.join(format!("migrations/{stem}.{direction}.sql"))).unwrap();
        }
    }

    /// `cargo run`: builds only what cargo thinks changed, then prints the table.
    fn run(&self) -> String {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["run", "--quiet", "--offline"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target_dir().join("rebuild-test"))
            .output()
            .expect("run cargo");
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(
            output.status.success(),
            "cargo run failed in {}:\n{stdout}\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Cargo gives integration tests `<target dir>/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies in the target dir")
        .to_path_buf()
}
