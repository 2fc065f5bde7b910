//! `cargo xtask` end to end: the built binary against scratch folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch folder removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("xtask-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A folder holding `files` (name, content).
    fn folder(&self, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, content) in files {
            std::fs::write(dir.join(file), content).unwrap();
        }
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file of a folder with its content, to prove a refusal wrote nothing.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let content = std::fs::read(entry.path()).unwrap_or_default();
            files.insert(entry.file_name().to_string_lossy().into_owned(), content);
        }
    }
    files
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_keys().collect()
}

const PAIR: [(&str, &[u8]); 2] = [
    (
        "001_create_users.up.sql",
        b"CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    ),
    ("001_create_users.down.sql", b"DROP TABLE users;\n"),
];

fn padded_folder(scratch: &Scratch, name: &str) -> PathBuf {
    scratch.folder(
        name,
        &[
            PAIR[0],
            PAIR[1],
            ("002_add_email.up.sql", b"ALTER TABLE users ADD COLUMN email TEXT;\n"),
            ("002_add_email.down.sql", b"ALTER TABLE users DROP COLUMN email;\n"),
        ],
    )
}

fn assert_refused(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(2), "stderr: {}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(needle), "expected `{needle}` in stderr:\n{stderr}");
    assert!(
        stderr.contains("nothing was written") || stderr.contains("Usage"),
        "{stderr}"
    );
}

#[test]
fn numbering_keeps_the_folders_zero_padding() {
    let scratch = Scratch::new("padded");
    let dir = padded_folder(&scratch, "sqlite");
    let out = xtask(&["new-migration", "add_index", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("003_add_index.up.sql"), "{stdout}");
    assert!(stdout.contains("003_add_index.down.sql"), "{stdout}");
    let up = std::fs::read_to_string(dir.join("003_add_index.up.sql")).unwrap();
    assert!(up.contains("-- description: add index"), "{up}");
    assert!(
        up.contains("CREATE INDEX IF NOT EXISTS"),
        "the sqlite template shows an index: {up}"
    );
    let down = std::fs::read_to_string(dir.join("003_add_index.down.sql")).unwrap();
    assert!(down.contains("DROP TABLE IF EXISTS add_index"), "{down}");
}

#[test]
fn numbering_without_padding_stays_unpadded() {
    let scratch = Scratch::new("unpadded");
    let dir = scratch.folder(
        "postgres",
        &[
            ("1_a.up.sql", b"SELECT 1;"),
            ("1_a.down.sql", b"SELECT 1;"),
            ("9_b.up.sql", b"SELECT 1;"),
            ("9_b.down.sql", b"SELECT 1;"),
        ],
    );
    let out = xtask(&["new-migration", "c", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.join("10_c.up.sql").is_file());
    assert!(dir.join("10_c.down.sql").is_file());
    let up = std::fs::read_to_string(dir.join("10_c.up.sql")).unwrap();
    assert!(
        up.contains("TIMESTAMPTZ"),
        "the folder name picks the postgres template: {up}"
    );
}

#[test]
fn padding_grows_past_its_width() {
    let scratch = Scratch::new("grows");
    let dir = scratch.folder(
        "mysql",
        &[("099_a.up.sql", b"SELECT 1;"), ("099_a.down.sql", b"SELECT 1;")],
    );
    let out = xtask(&["new-migration", "b", "--dir", dir.to_str().unwrap(), "--db", "mysql"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.join("100_b.up.sql").is_file(), "{:?}", names(&dir));
    let up = std::fs::read_to_string(dir.join("100_b.up.sql")).unwrap();
    assert!(up.contains("InnoDB"), "{up}");
}

#[test]
fn a_new_folder_starts_at_001() {
    let scratch = Scratch::new("fresh");
    let dir = scratch.path("migrations/sqlite");
    let out = xtask(&["new-migration", "create_users", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(names(&dir), ["001_create_users.down.sql", "001_create_users.up.sql"]);
}

/// Appends a statement to every file still holding only template comments,
/// as a user does before generating the next migration.
fn fill_in(dir: &Path, statement: &str) {
    for (name, content) in snapshot(dir) {
        let content = String::from_utf8(content).unwrap();
        let commented = content
            .lines()
            .all(|l| l.trim().is_empty() || l.starts_with("--") || l.starts_with("//"));
        if commented {
            std::fs::write(dir.join(name), format!("{content}{statement}\n")).unwrap();
        }
    }
}

fn is_timestamp(version: &str) -> bool {
    version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()) && version.starts_with("20")
}

#[test]
fn timestamp_mode_uses_the_utc_time() {
    let scratch = Scratch::new("timestamp");
    let dir = padded_folder(&scratch, "sqlite");
    let out = xtask(&[
        "new-migration",
        "add_index",
        "--dir",
        dir.to_str().unwrap(),
        "--timestamp",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let created: Vec<String> = names(&dir)
        .into_iter()
        .filter(|n| n.ends_with("_add_index.up.sql"))
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let version = created[0].split('_').next().unwrap();
    assert!(is_timestamp(version), "{version}");
    assert!(dir.join(format!("{version}_add_index.down.sql")).is_file());
}

#[test]
fn timestamp_folders_get_increasing_timestamps_even_within_one_second() {
    let scratch = Scratch::new("timestamp-folder");
    let dir = scratch.folder("neo4j", &[]);
    for name in ["first", "second", "third"] {
        // The first needs the flag; after it the folder speaks for itself.
        let mut args = vec!["new-migration", name, "--dir", dir.to_str().unwrap()];
        if name == "first" {
            args.push("--timestamp");
        }
        let out = xtask(&args);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        fill_in(&dir, "RETURN 1;");
    }
    let ups: Vec<String> = names(&dir).into_iter().filter(|n| n.contains(".up.")).collect();
    assert_eq!(ups.len(), 3, "{ups:?}");
    let versions: Vec<i64> = ups
        .iter()
        .map(|n| n.split('_').next().unwrap().parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{ups:?}");
    assert!(
        ups.iter().all(|n| n.ends_with(".up.cypher")),
        "neo4j folders get cypher: {ups:?}"
    );
    assert!(ups[2].ends_with("_third.up.cypher"), "{ups:?}");
    let up = std::fs::read_to_string(dir.join(&ups[0])).unwrap();
    assert!(up.contains("CREATE CONSTRAINT first_id_unique IF NOT EXISTS"), "{up}");
}

#[test]
fn refuses_bad_names_and_writes_nothing() {
    let scratch = Scratch::new("bad-name");
    let dir = padded_folder(&scratch, "sqlite");
    let before = snapshot(&dir);
    for (name, hint) in [
        ("Add-Index", "e.g. `add_index`"),
        ("add index", "e.g. `add_index`"),
        ("add.index", "not a migration name"),
        ("ÄÖ", "not a migration name"),
    ] {
        let out = xtask(&["new-migration", name, "--dir", dir.to_str().unwrap()]);
        assert_refused(&out, hint);
    }
    let out = xtask(&["new-migration", "", "--dir", dir.to_str().unwrap()]);
    assert_refused(&out, "not a migration name");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn refuses_an_existing_name_and_writes_nothing() {
    let scratch = Scratch::new("existing");
    let dir = padded_folder(&scratch, "sqlite");
    let before = snapshot(&dir);
    let out = xtask(&["new-migration", "add_email", "--dir", dir.to_str().unwrap()]);
    assert_refused(
        &out,
        "already has a migration named `add_email`: `002_add_email.up.sql`",
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn refuses_a_folder_that_breaks_the_rules_and_lists_every_problem() {
    let scratch = Scratch::new("broken");
    let dir = scratch.folder(
        "sqlite",
        &[
            PAIR[0],
            PAIR[1],
            ("002_add_index.up.sql", b"CREATE INDEX i ON users (id);"),
            ("003_notes.sql", b"SELECT 1;"),
        ],
    );
    let before = snapshot(&dir);
    let out = xtask(&["new-migration", "next", "--dir", dir.to_str().unwrap()]);
    assert_refused(&out, "`002_add_index.up.sql` has no `002_add_index.down.sql`");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`003_notes.sql` is not a migration file name"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn refuses_a_language_mismatch_a_file_for_a_folder_and_an_unknown_database() {
    let scratch = Scratch::new("mismatch");
    let dir = padded_folder(&scratch, "sqlite");
    let before = snapshot(&dir);
    let out = xtask(&[
        "new-migration",
        "graph",
        "--dir",
        dir.to_str().unwrap(),
        "--db",
        "neo4j",
    ]);
    assert_refused(&out, "holds SQL migrations and `--db neo4j` writes Cypher");
    assert_eq!(snapshot(&dir), before);

    let file = scratch.path("a_file");
    std::fs::write(&file, "x").unwrap();
    let out = xtask(&["new-migration", "x", "--dir", file.to_str().unwrap(), "--db", "sqlite"]);
    assert_refused(&out, "is a file, not a folder");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");

    let unknown = scratch.path("schema");
    let out = xtask(&["new-migration", "x", "--dir", unknown.to_str().unwrap()]);
    assert_refused(&out, "cannot tell which database");
    assert!(!unknown.exists(), "a refused run creates no folder");
}

#[test]
fn usage_errors_exit_2() {
    let out = xtask(&["new-migration"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Usage: cargo xtask new-migration"),
        "{}",
        text(&out.stderr)
    );
    let out = xtask(&["new-migration", "x", "--db", "oracle"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("oracle"), "{}", text(&out.stderr));
    let out = xtask(&["new-migration", "x"]);
    assert_refused(&out, "say which folder");
    let out = xtask(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_generated_pair_passes_validation_once_filled_in() {
    let scratch = Scratch::new("filled");
    let dir = padded_folder(&scratch, "sqlite");
    let out = xtask(&["new-migration", "add_index", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // As generated, the pair is only comments: the same rule as the build refuses it.
    let out = xtask(&["validate", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`003_add_index.up.sql` is empty"),
        "{}",
        text(&out.stderr)
    );

    let up = dir.join("003_add_index.up.sql");
    let mut text_up = std::fs::read_to_string(&up).unwrap();
    text_up.push_str("CREATE INDEX idx_users_id ON users (id);\n");
    std::fs::write(&up, text_up).unwrap();
    let down = dir.join("003_add_index.down.sql");
    let mut text_down = std::fs::read_to_string(&down).unwrap();
    text_down.push_str("DROP INDEX idx_users_id;\n");
    std::fs::write(&down, text_down).unwrap();
    let out = xtask(&["validate", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 migration(s), 001 to 003"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn validate_lists_every_problem_of_every_folder() {
    let scratch = Scratch::new("validate");
    let good = padded_folder(&scratch, "good");
    let bad = scratch.folder(
        "bad",
        &[
            ("001_a.up.sql", b"SELECT 1;"),
            ("002_b.down.sql", b"SELECT 1;"),
            ("003_c.up.sql", b"-- only a comment\n"),
            ("003_c.down.sql", b"SELECT 1;"),
            ("004_d.up.sql", b"SELECT 1;"),
            ("004_d.down.sql", b"-- migrate:sometimes\nSELECT 1;"),
            ("005_e.up.sql", b"\xff\xfe"),
            ("005_e.down.sql", b"SELECT 1;"),
            ("006_f.up.cypher", b"RETURN 1;"),
            ("006_f.down.cypher", b"RETURN 1;"),
            ("README.md", b"notes"),
        ],
    );
    std::fs::create_dir(bad.join("nested")).unwrap();
    let before = snapshot(&bad);
    let out = xtask(&["validate", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("good: 2 migration(s), 001 to 002"), "{stdout}");
    for needle in [
        "`001_a.up.sql` has no `001_a.down.sql`",
        "`002_b.down.sql` has no `002_b.up.sql`",
        "`003_c.up.sql` is empty",
        "unknown directive `migrate:sometimes`",
        "`005_e.up.sql` is not UTF-8",
        "mixes SQL and Cypher",
        "`README.md` is not a migration file name",
        "`nested`",
        "8 problem(s) in 1 of 2 folder(s)",
    ] {
        assert!(stderr.contains(needle), "expected `{needle}` in:\n{stderr}");
    }
    assert_eq!(snapshot(&bad), before, "validate changes nothing");

    let missing = scratch.path("nowhere");
    let out = xtask(&["validate", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"), "{}", text(&out.stderr));
}

/// `--layout diesel` / `refinery`: another tool's folder checked as
/// `embed_migrations!(.., layout = "...")` reads it.
#[test]
fn validate_reads_another_tools_layout() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let diesel = root.join("docs/migrations/diesel");
    let out = xtask(&["validate", diesel.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "our layout refuses it");
    assert!(
        text(&out.stderr).contains("looks like diesel's layout"),
        "{}",
        text(&out.stderr)
    );
    let out = xtask(&["validate", "--layout", "diesel", diesel.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 migration(s), 20240101000000 to 20240103000000"),
        "{}",
        text(&out.stdout)
    );

    let scratch = Scratch::new("refinery");
    let up_only = scratch.folder(
        "refinery",
        &[("V1__create_users.sql", b"CREATE TABLE users (id INTEGER);\n")],
    );
    let out = xtask(&["validate", "--layout", "refinery", up_only.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("add `V1__create_users.down.sql`"),
        "{}",
        text(&out.stderr)
    );
    let out = xtask(&[
        "lint",
        "--layout",
        "refinery",
        "--db",
        "sqlite",
        up_only.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("`cargo xtask validate") && text(&out.stderr).contains("--layout refinery`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_without_arguments_checks_the_projects_folders() {
    let out = xtask(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok migrations/sqlite:"),
        "{}",
        text(&out.stdout)
    );
}

/// `lint`: the findings of the folder's database's rules, file, line, rule,
/// why and fix, the same text as `embed_migrations!(.., lint = "deny")`;
/// exit code 1 when there are some, and `--json` says the same.
#[test]
fn lint_lists_findings_with_the_folder_databases_rules() {
    let scratch = Scratch::new("lint");
    let files: &[(&str, &[u8])] = &[
        ("001_users.up.sql", b"CREATE TABLE users (id int);\nCREATE INDEX users_id ON users (id);\n"),
        ("001_users.down.sql", b"DROP TABLE users;\n"),
        (
            "002_email.up.sql",
            b"-- migrate:allow drop-column nothing reads it since 2.3\nALTER TABLE users DROP COLUMN nick;\nALTER TABLE users ADD COLUMN email text NOT NULL;\n",
        ),
        ("002_email.down.sql", b"ALTER TABLE users DROP COLUMN email;\n"),
    ];
    let dir = scratch.folder("postgres", files);
    let out = xtask(&["lint", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("`002_email.up.sql` line 3: [not-null-column-without-default] `ALTER TABLE users ADD COLUMN email text NOT NULL`: "),
        "{stdout}"
    );
    assert!(stdout.contains("1 finding(s) to fix or allow"), "{stdout}");
    assert!(
        !stdout.contains("drop-column") && !stdout.contains("index-without"),
        "{stdout}"
    );

    let out = xtask(&["lint", dir.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["rule"], "not-null-column-without-default");
    assert_eq!(json[0]["line"], 3);
    assert_eq!(json[0]["applied"], false);
    assert!(stdout.contains(json[0]["message"].as_str().unwrap()));

    // MySQL's rules are not PostgreSQL's: nothing to say there.
    let out = xtask(&["lint", dir.to_str().unwrap(), "--db", "mysql"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // A folder whose name says no database must be told one.
    let other = scratch.folder("app", files);
    let out = xtask(&["lint", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("name it with `--db`"),
        "{}",
        text(&out.stderr)
    );
}

/// docs/lint.md lists every rule the lint has, by name.
#[test]
fn the_guide_lists_every_lint_rule() {
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/lint.md")).unwrap();
    for rule in embedded_migrations_core::lint::RULES {
        assert!(
            guide.contains(&format!("`{}`", rule.name)),
            "docs/lint.md does not list `{}`",
            rule.name
        );
    }
}

/// The repository's own sets are written the safe way: the lint finds
/// nothing in them, by the rules of the database each is for (a finding
/// here is a false positive, or a set that needs an allow with its reason).
#[test]
fn the_repository_sets_have_no_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (dir, db) in [
        ("migrations/sqlite", "sqlite"),
        ("migrations/events", "sqlite"),
        ("migrations/postgres", "postgres"),
        ("migrations/timescaledb", "postgres"),
        ("migrations/mysql", "mysql"),
        ("migrations/neo4j", "neo4j"),
    ] {
        let out = xtask(&["lint", root.join(dir).to_str().unwrap(), "--db", db]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{dir}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stdout),
            "0 finding(s) to fix or allow, 0 in applied migrations\n"
        );
    }
}

/// The build and `cargo xtask lint` say the same thing: every finding
/// `lint` prints for the trybuild case's folder is, word for word, an error
/// of the build's expected output (tests/ui/lint_deny.stderr), and the
/// build reports nothing else.
#[test]
fn lint_and_the_build_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = xtask(&[
        "lint",
        root.join("tests/ui/folders/lint_postgres").to_str().unwrap(),
        "--db",
        "postgres",
    ]);
    let stdout = text(&out.stdout);
    let findings: Vec<&str> = stdout.lines().filter(|l| l.starts_with('`')).collect();
    assert_eq!(findings.len(), 2, "{stdout}");
    let stderr = std::fs::read_to_string(root.join("tests/ui/lint_deny.stderr")).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: embed_migrations!: "))
        .map(|l| l.strip_suffix(" (`lint = \"deny\"`)").expect("the deny suffix"))
        .collect();
    assert_eq!(errors, findings);
}

/// `squash --to 5` on a copy of the SQLite example set: the five pairs
/// replaced by one baseline that the build's rules accept, its directive
/// naming the range; the Rust code migration after it stays. A squash
/// over a Rust code migration, or to a version the folder lacks, is
/// refused and writes nothing.
#[test]
fn squash_writes_a_baseline_that_passes_the_build_rules() {
    let scratch = Scratch::new("squash");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = scratch.path("sqlite");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(root.join("migrations/sqlite")).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let url = |name: &str| format!("sqlite://{}?mode=rwc", scratch.path(name).display());
    let folder = dir.to_str().unwrap();

    let before = snapshot(&dir);
    assert_refused(
        &xtask(&["squash", "--to", "8", "--dir", folder, "--database-url", &url("a.db")]),
        "Rust code migration",
    );
    assert_refused(
        &xtask(&["squash", "--to", "42", "--dir", folder, "--database-url", &url("b.db")]),
        "no migration 42",
    );
    assert_eq!(snapshot(&dir), before);

    let output = xtask(&["squash", "--to", "5", "--dir", folder, "--database-url", &url("c.db")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("the schema after migrations 1..5 (5 migration(s)), replacing 10 file(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("005_add_users_timezone.up.sql"),
        "its backfill is named: {stdout}"
    );
    assert_eq!(
        names(&dir),
        [
            "005_baseline.down.sql",
            "005_baseline.up.sql",
            "006_normalize_symbols.down.sql",
            "006_normalize_symbols.up.sql",
            "007_create_skill_progressions.down.sql",
            "007_create_skill_progressions.up.sql",
            "008_hash_user_emails.rs",
        ]
    );
    let up = std::fs::read_to_string(dir.join("005_baseline.up.sql")).unwrap();
    assert!(up.starts_with("-- migrate:baseline 1..5 migrations=5 chain="), "{up}");
    assert!(up.contains("CREATE TABLE portfolio_transactions"), "{up}");
    assert!(up.contains("CREATE VIEW"), "{up}");
    let validated = xtask(&["validate", folder]);
    assert!(validated.status.success(), "{}", text(&validated.stderr));
}
