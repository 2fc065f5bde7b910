//! diesel's and refinery's layouts written to a temporary directory and
//! scanned, as the macro scans them under `layout = "..."`.

use super::refinery::{parse, RefineryName};
use crate::{scan_as, scan_layout, Folder, Layout, Problem, Rule};
use std::path::PathBuf;

/// A fresh folder holding `files` (paths may name subfolders).
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("em-core-foreign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn scanned(name: &str, layout: Layout, files: &[(&str, &str)]) -> Result<Folder, Vec<Problem>> {
    scan_layout(&folder(name, files), name, layout)
}

fn refused(name: &str, layout: Layout, files: &[(&str, &str)]) -> Vec<(Rule, String)> {
    scanned(name, layout, files)
        .expect_err("refused")
        .into_iter()
        .map(|p| (p.rule, p.message))
        .collect()
}

// diesel

#[test]
fn diesel_folders_keep_their_names_and_map_versions_as_import_does() {
    let folder = scanned(
        "diesel-ok",
        Layout::Diesel,
        &[
            (
                "2024-01-01-000000_create_users/up.sql",
                "CREATE TABLE users (id INTEGER);\n",
            ),
            ("2024-01-01-000000_create_users/down.sql", "DROP TABLE users;\n"),
            (
                "20240102000000_Add-Email/up.sql",
                "ALTER TABLE users ADD COLUMN email TEXT;\n",
            ),
            ("20240102000000_Add-Email/down.sql", "-- migrate:irreversible\n"),
            (
                "20240103000000_index/up.sql",
                "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
            ),
            (
                "20240103000000_index/down.sql",
                "DROP INDEX CONCURRENTLY users_email;\n",
            ),
            (
                "20240103000000_index/metadata.toml",
                "run_in_transaction = false\nother = \"kept for diesel\"\n",
            ),
        ],
    )
    .expect("a diesel folder passes");
    let read: Vec<(i64, &str, &str, &str)> = folder
        .migrations
        .iter()
        .map(|m| {
            (
                m.version,
                m.version_text.as_str(),
                m.name.as_str(),
                m.up.file_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                20240101000000,
                "20240101000000",
                "2024-01-01-000000_create_users",
                "2024-01-01-000000_create_users/up.sql"
            ),
            (
                20240102000000,
                "20240102000000",
                "20240102000000_Add-Email",
                "20240102000000_Add-Email/up.sql"
            ),
            (
                20240103000000,
                "20240103000000",
                "20240103000000_index",
                "20240103000000_index/up.sql"
            ),
        ]
    );
    assert_eq!(
        folder.migrations[0].down.file_name,
        "2024-01-01-000000_create_users/down.sql"
    );
    assert!(folder.migrations[1].down.header.irreversible);
    let no_transaction: Vec<(bool, bool)> = folder
        .migrations
        .iter()
        .map(|m| (m.up.header.no_transaction, m.down.header.no_transaction))
        .collect();
    assert_eq!(no_transaction, [(false, false), (false, false), (true, true)]);
    assert_eq!(
        folder.tracked,
        [folder.path.join("20240103000000_index/metadata.toml")],
        "the macro includes the metadata, so an edit rebuilds"
    );
}

#[test]
fn diesel_metadata_maps_to_no_transaction_as_diesel_reads_it() {
    let concurrently = "CREATE INDEX CONCURRENTLY i ON t (c);\n";
    let with = |metadata: Option<&str>| {
        let mut files = vec![
            ("20240101000000_index/up.sql", concurrently),
            ("20240101000000_index/down.sql", "DROP INDEX i;\n"),
        ];
        if let Some(text) = metadata {
            files.push(("20240101000000_index/metadata.toml", text));
        }
        scanned("diesel-metadata", Layout::Diesel, &files)
    };
    let refused = with(None).expect_err("in a transaction, CONCURRENTLY is refused");
    assert_eq!(refused[0].rule, Rule::NotInTransaction, "{refused:?}");
    assert!(with(Some("run_in_transaction = true\n")).is_err());
    assert!(with(Some("run_in_transaction = false\n")).is_ok());
    // diesel's TomlMetadata defaults a field the file leaves out to false.
    assert!(with(Some("# nothing else\n")).is_ok());
    let refused = with(Some("run_in_transaction = no\n")).expect_err("not TOML");
    assert_eq!(refused[0].rule, Rule::UnknownDirective);
    assert!(
        refused[0].message.contains("20240101000000_index/metadata.toml"),
        "{}",
        refused[0].message
    );
    let refused = with(Some("run_in_transaction = \"false\"\n")).expect_err("a string");
    assert!(
        refused[0].message.contains("not `true` or `false`"),
        "{}",
        refused[0].message
    );
}

#[test]
fn a_diesel_folder_without_down_sql_is_named() {
    let refused = refused(
        "diesel-no-down",
        Layout::Diesel,
        &[
            (
                "2024-01-01-000000_create_users/up.sql",
                "CREATE TABLE users (id INTEGER);\n",
            ),
            ("2024-01-02-000000_seed/up.sql", "INSERT INTO users VALUES (1);\n"),
            (
                "2024-01-02-000000_seed/down.sql",
                "-- This file should undo anything in `up.sql`\n",
            ),
        ],
    );
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].0, Rule::MissingDown);
    assert!(
        refused[0]
            .1
            .contains("`2024-01-01-000000_create_users` has no `down.sql`")
            && refused[0].1.contains("-- migrate:irreversible"),
        "{}",
        refused[0].1
    );
    // diesel's generated placeholder holds no statement: the same rule as ours.
    assert_eq!(refused[1].0, Rule::EmptyFile);
    assert!(
        refused[1].1.contains("2024-01-02-000000_seed/down.sql"),
        "{}",
        refused[1].1
    );
}

#[test]
fn bad_diesel_folders_are_refused_with_the_rule() {
    let up = "CREATE TABLE t (id INTEGER);\n";
    let refused = refused(
        "diesel-bad",
        Layout::Diesel,
        &[
            ("create_users/up.sql", up),
            ("README.md", "notes\n"),
            ("99999999999999999999_huge/up.sql", up),
            ("2024-01-01-000000_a/up.sql", up),
            ("2024-01-01-000000_a/down.sql", "DROP TABLE t;\n"),
            ("2024-01-01-000000_a/notes.txt", "x\n"),
            ("2024-01-02-000000_b/down.sql", "DROP TABLE t;\n"),
            ("2024-01-03-000000_c/up.sql", up),
            ("2024-01-03-000000_c/down.sql", "DROP TABLE t;\n"),
            ("20240103000000_d/up.sql", up),
            ("20240103000000_d/down.sql", "DROP TABLE t;\n"),
        ],
    );
    let has = |rule: Rule, text: &str| refused.iter().any(|(r, m)| *r == rule && m.contains(text));
    assert!(
        has(
            Rule::BadFileName,
            "`create_users` is not a diesel migration folder name"
        ),
        "{refused:?}"
    );
    assert!(
        has(Rule::BadFileName, "`README.md` in `diesel-bad` is a file"),
        "{refused:?}"
    );
    assert!(has(Rule::VersionTooLarge, "99999999999999999999"), "{refused:?}");
    assert!(has(Rule::BadFileName, "`2024-01-01-000000_a/notes.txt`"), "{refused:?}");
    assert!(
        has(Rule::MissingUp, "`2024-01-02-000000_b` has no `up.sql`"),
        "{refused:?}"
    );
    assert!(
        has(
            Rule::DuplicateVersion,
            "`2024-01-03-000000_c` and `20240103000000_d` share the version 20240103000000"
        ),
        "{refused:?}"
    );
    assert_eq!(refused.len(), 6, "{refused:?}");
}

#[test]
fn diesel_setup_folder_is_version_1_as_import_reads_its_row() {
    let folder = scanned(
        "diesel-setup",
        Layout::Diesel,
        &[
            (
                "00000000000000_diesel_initial_setup/up.sql",
                "CREATE TABLE t (id INTEGER);\n",
            ),
            ("00000000000000_diesel_initial_setup/down.sql", "DROP TABLE t;\n"),
            ("2024-01-01-000000_a/up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("2024-01-01-000000_a/down.sql", "DROP TABLE a;\n"),
        ],
    )
    .expect("diesel's setup folder passes");
    let read: Vec<(i64, &str)> = folder.migrations.iter().map(|m| (m.version, m.name.as_str())).collect();
    assert_eq!(
        read,
        [
            (crate::DIESEL_SETUP_VERSION, "00000000000000_diesel_initial_setup"),
            (20240101000000, "2024-01-01-000000_a")
        ]
    );
    // The rows of __diesel_schema_migrations are the folder names' digits.
    assert_eq!(crate::diesel_version("00000000000000"), Some(1));
    assert_eq!(crate::diesel_version("20240101000000"), Some(20240101000000));
    assert_eq!(crate::diesel_version("2024-01-01-000000_a"), Some(20240101000000));
    assert_eq!(crate::diesel_version("latest"), None);

    let refused = refused(
        "diesel-setup-clash",
        Layout::Diesel,
        &[
            (
                "00000000000000_diesel_initial_setup/up.sql",
                "CREATE TABLE t (id INTEGER);\n",
            ),
            ("00000000000000_diesel_initial_setup/down.sql", "DROP TABLE t;\n"),
            ("1_first/up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("1_first/down.sql", "DROP TABLE a;\n"),
        ],
    );
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].0 == Rule::DuplicateVersion && refused[0].1.contains("diesel's setup folder"),
        "{refused:?}"
    );
}

// refinery

#[test]
fn refinery_names_follow_refinery_core_s_pattern() {
    assert_eq!(
        parse("V1__create_users.sql"),
        Some(RefineryName {
            prefix: 'V',
            version: "1",
            name: "create_users",
            down: false
        })
    );
    assert_eq!(
        parse("U20240101__Seed.down.sql").map(|n| (n.prefix, n.down)),
        Some(('U', true))
    );
    assert_eq!(parse("V1.1__x.sql").map(|n| n.version), Some("1.1"));
    for not_refinery in [
        "V1_create.sql",
        "v1__create.sql",
        "V__create.sql",
        "V1__.sql",
        "V1__a-b.sql",
        "V1__a.rs",
        "001_a.up.sql",
    ] {
        assert_eq!(parse(not_refinery), None, "{not_refinery}");
    }
}

#[test]
fn refinery_files_pair_with_our_down_files_in_every_subfolder() {
    let folder = scanned(
        "refinery-ok",
        Layout::Refinery,
        &[
            ("V1__create_users.sql", "CREATE TABLE users (id INTEGER);\n"),
            ("V1__create_users.down.sql", "DROP TABLE users;\n"),
            (
                "2024/V2__index.sql",
                "-- refinery:noTransaction\nCREATE INDEX CONCURRENTLY i ON users (id);\n",
            ),
            ("2024/V2__index.down.sql", "DROP INDEX i;\n"),
            ("U3__seed.sql", "INSERT INTO users VALUES (1);\n"),
            ("U3__seed.down.sql", "-- migrate:irreversible\n"),
        ],
    )
    .expect("a refinery folder with downs passes");
    let read: Vec<(i64, &str, &str, bool)> = folder
        .migrations
        .iter()
        .map(|m| {
            (
                m.version,
                m.name.as_str(),
                m.up.file_name.as_str(),
                m.up.header.no_transaction,
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (1, "create_users", "V1__create_users.sql", false),
            (2, "index", "2024/V2__index.sql", true),
            (3, "seed", "U3__seed.sql", false),
        ]
    );
    assert!(folder.migrations[2].down.header.irreversible);
}

#[test]
fn a_refinery_file_without_down_says_how_to_add_one() {
    let refused = refused(
        "refinery-no-down",
        Layout::Refinery,
        &[
            ("V1__create_users.sql", "CREATE TABLE users (id INTEGER);\n"),
            ("V2__old.down.sql", "DROP TABLE old;\n"),
            ("V3__seed.rs", "fn migration() -> String { String::new() }\n"),
            ("V4.1__dotted.sql", "SELECT 1;\n"),
            ("V0__zero.sql", "SELECT 1;\n"),
            ("notes.txt", "x\n"),
        ],
    );
    let has = |rule: Rule, text: &str| refused.iter().any(|(r, m)| *r == rule && m.contains(text));
    assert!(
        has(Rule::MissingDown, "add `V1__create_users.down.sql`") && has(Rule::MissingDown, "-- migrate:irreversible"),
        "{refused:?}"
    );
    assert!(
        has(Rule::MissingUp, "`V2__old.down.sql` has no `V2__old.sql`"),
        "{refused:?}"
    );
    assert!(has(Rule::BadFileName, "refinery's Rust migrations"), "{refused:?}");
    assert!(has(Rule::BadFileName, "the version `4.1` has a dot"), "{refused:?}");
    assert!(
        has(
            Rule::BadFileName,
            "`V0__zero.sql`: the version must be a positive number"
        ),
        "{refused:?}"
    );
    assert!(has(Rule::BadFileName, "`notes.txt`"), "{refused:?}");
    assert_eq!(refused.len(), 6, "{refused:?}");
}

#[test]
fn refinery_versions_are_unique_across_v_and_u() {
    let refused = refused(
        "refinery-duplicate",
        Layout::Refinery,
        &[
            ("V1__a.sql", "SELECT 1;\n"),
            ("V1__a.down.sql", "SELECT 1;\n"),
            ("U1__b.sql", "SELECT 1;\n"),
            ("U1__b.down.sql", "SELECT 1;\n"),
        ],
    );
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, Rule::DuplicateVersion);
}

// Our layout, given another tool's folder, says which layout it looks like.

#[test]
fn a_foreign_folder_under_our_layout_is_told_its_layout() {
    let hint = |name: &str, files: &[(&str, &str)]| {
        let dir = folder(name, files);
        scan_as(&dir, name)
            .expect_err("not our layout")
            .into_iter()
            .find(|p| p.message.contains("looks like"))
            .map(|p| p.message)
    };
    let diesel = hint(
        "hint-diesel",
        &[
            ("2024-01-01-000000_a/up.sql", "SELECT 1;\n"),
            ("2024-01-01-000000_a/down.sql", "SELECT 1;\n"),
        ],
    );
    assert!(
        diesel.as_deref().is_some_and(|m| m.contains("layout = \"diesel\"")),
        "{diesel:?}"
    );
    let refinery = hint("hint-refinery", &[("V1__a.sql", "SELECT 1;\n")]);
    assert!(
        refinery.as_deref().is_some_and(|m| m.contains("layout = \"refinery\"")),
        "{refinery:?}"
    );
    let ours = hint("hint-none", &[("001_a.up.sql", "SELECT 1;\n")]);
    assert_eq!(ours, None);
}
