//! Folders written to a temporary directory and scanned: the rules as the
//! macro and xtask see them.

use crate::{parse_file_name, repeatable_key, scan, Direction, Language, Problem, Rule};
use std::path::PathBuf;

/// A fresh folder holding `files`, named after the test.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("em-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

#[test]
fn file_names() {
    let parsed = parse_file_name("003_add_index.up.sql").unwrap();
    assert_eq!(
        (parsed.version, parsed.name.as_str(), parsed.direction),
        (3, "add_index", Direction::Up)
    );
    assert_eq!(
        parse_file_name("20261123093000_x.down.cql").unwrap().language,
        Language::Cypher
    );
    for bad in [
        "add.up.sql",
        "001_Add.up.sql",
        "001_a.sql",
        "001_a.up.txt",
        "0_a.up.sql",
        "x1_a.up.sql",
        "001_.up.sql",
    ] {
        assert_eq!(parse_file_name(bad).unwrap_err().0, Rule::BadFileName, "{bad}");
    }
    assert_eq!(
        parse_file_name("99999999999999999999_a.up.sql").unwrap_err().0,
        Rule::VersionTooLarge
    );
}

// Cypher folders: schema and data statements in separate migrations.

#[test]
fn a_cypher_file_mixing_schema_and_data_is_refused() {
    let dir = folder(
        "mixed",
        &[
            (
                "001_people.up.cypher",
                "// description: people\nCREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                 MERGE (:Person {id: 1});\n",
            ),
            ("001_people.down.cypher", "DROP CONSTRAINT person_id IF EXISTS;\n"),
            ("002_seed.up.cql", "MERGE (:Person {id: 2});\nMERGE (:Person {id: 3});\n"),
            ("002_seed.down.cql", "MATCH (p:Person) WHERE p.id IN [2, 3] DETACH DELETE p;\n"),
        ],
    );
    let problems = scan(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].rule, Rule::MixedSchemaAndData);
    assert_eq!(
        problems[0].message,
        "`001_people.up.cypher` mixes schema and data statements, which Neo4j cannot run in one transaction: \
         line 2 changes the schema (`CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQ ...`), \
         line 3 reads or writes data (`MERGE (:Person {id: 1})`); \
         put constraints and indexes in one migration and data changes in another, \
         or add `// migrate:no-transaction` at the top of the file to run each statement in its own transaction"
    );
}

#[test]
fn a_no_transaction_cypher_file_may_mix_schema_and_data() {
    let dir = folder(
        "mixed-no-transaction",
        &[
            (
                "001_people.up.cypher",
                "// migrate:no-transaction\nCREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                 MATCH (p:Person) WHERE p.id IS NULL SET p.id = -1;\n",
            ),
            ("001_people.down.cypher", "DROP CONSTRAINT person_id IF EXISTS;\n"),
        ],
    );
    let scanned = scan(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let set = scanned.unwrap();
    assert!(set.migrations[0].up.header.no_transaction);
}

#[test]
fn separate_schema_and_data_migrations_pass() {
    let dir = folder(
        "separate",
        &[
            (
                "001_people.up.cypher",
                "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                 CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name);\n",
            ),
            (
                "001_people.down.cypher",
                "DROP INDEX person_name IF EXISTS;\nDROP CONSTRAINT person_id IF EXISTS;\n",
            ),
            ("002_seed.up.cypher", "MERGE (:Person {id: 2});\n"),
            ("002_seed.down.cypher", "// migrate:irreversible\n"),
        ],
    );
    let scanned = scan(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let scanned = scanned.unwrap();
    assert_eq!(scanned.language, Language::Cypher);
    assert_eq!(scanned.migrations.len(), 2);
}

#[test]
fn sql_folders_are_not_classified() {
    let dir = folder(
        "sql",
        &[
            (
                "001_t.up.sql",
                "CREATE TABLE t (id INT);\nCREATE INDEX t_id ON t (id);\nINSERT INTO t VALUES (1);\n",
            ),
            ("001_t.down.sql", "DROP TABLE t;\n"),
        ],
    );
    let scanned = scan(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(scanned.is_ok(), "{scanned:?}");
}

// Repeatable migrations.

#[test]
fn keys_are_negative_distinct_and_stable() {
    let a = repeatable_key("active_users_view");
    assert!(a < 0);
    assert_eq!(a, repeatable_key("active_users_view"));
    assert_ne!(a, repeatable_key("active_users_view2"));
}

#[test]
fn repeatable_files_are_read_in_name_order_beside_the_versioned_ones() {
    let dir = folder(
        "repeatable-ok",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("001_a.down.sql", "DROP TABLE a;\n"),
            (
                "b_view.repeatable.sql",
                "CREATE OR REPLACE VIEW b AS SELECT id FROM a;\n",
            ),
            (
                "a_view.repeatable.sql",
                "CREATE OR REPLACE VIEW c AS SELECT id FROM a;\n",
            ),
        ],
    );
    let scanned = scan(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let scanned = scanned.unwrap();
    assert_eq!(scanned.migrations.len(), 1);
    let names: Vec<&str> = scanned.repeatables.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a_view", "b_view"]);
    assert_eq!(scanned.repeatables[0].key, repeatable_key("a_view"));
}

#[test]
fn bad_repeatable_files_are_refused_with_the_rule() {
    let dir = folder(
        "repeatable-bad",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id INTEGER);\n"),
            ("001_a.down.sql", "DROP TABLE a;\n"),
            ("Bad.repeatable.sql", "SELECT 1;\n"),
            ("empty.repeatable.sql", "-- nothing\n"),
            (
                "loose.repeatable.sql",
                "-- migrate:no-transaction\nCREATE VIEW v AS SELECT 1;\n",
            ),
            ("txn.repeatable.sql", "BEGIN;\nCREATE VIEW w AS SELECT 1;\nCOMMIT;\n"),
        ],
    );
    let problems = scan(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    let rules: Vec<Rule> = problems.iter().map(|p| p.rule).collect();
    assert!(rules.contains(&Rule::BadFileName), "{problems:?}");
    assert!(rules.contains(&Rule::EmptyFile), "{problems:?}");
    assert!(rules.contains(&Rule::UnknownDirective), "{problems:?}");
    assert!(rules.contains(&Rule::TransactionControl), "{problems:?}");
}

#[test]
fn migrate_allow_belongs_in_versioned_up_files() {
    let dir = folder(
        "allow",
        &[
            (
                "001_a.up.sql",
                "-- migrate:allow drop-table the table was never read\nDROP TABLE old;\n",
            ),
            (
                "001_a.down.sql",
                "-- migrate:allow drop-table reverting\nCREATE TABLE old (id INTEGER);\n",
            ),
            (
                "v.repeatable.sql",
                "-- migrate:allow drop-column no\nCREATE VIEW v AS SELECT 1;\n",
            ),
        ],
    );
    let problems = scan(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("`001_a.down.sql` line 1: `migrate:allow` belongs in the up file")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("`v.repeatable.sql` line 1: `migrate:allow` does not apply")),
        "{messages:?}"
    );
    assert!(problems.iter().all(|p| p.rule == Rule::UnknownDirective));
}

#[test]
fn cypher_has_no_repeatable_migrations() {
    let dir = folder(
        "repeatable-cypher",
        &[
            ("001_a.up.cypher", "MERGE (:A {id: 1});\n"),
            ("001_a.down.cypher", "MATCH (a:A) DELETE a;\n"),
            ("seed.repeatable.cypher", "MERGE (:A {id: 2});\n"),
        ],
    );
    let problems = scan(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].message.contains("SQL only"), "{problems:?}");
}

// Batch migrations: the build-time rules of `batch::check`, as a scan
// reports them.

/// The problems of a folder with one migration, `up` and `down` as its files.
fn scan_one(extension: &str, up: &str, down: &str) -> Vec<Problem> {
    let dir = std::env::temp_dir().join(format!("em-batch-{}-{extension}-{}", std::process::id(), up.len()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("001_backfill.up.{extension}")), up).unwrap();
    std::fs::write(dir.join(format!("001_backfill.down.{extension}")), down).unwrap();
    let problems = match scan(&dir) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    };
    let _ = std::fs::remove_dir_all(&dir);
    problems
}

#[test]
fn cypher_batches_are_call_in_transactions_run_auto_commit() {
    let batch = |problems: Vec<Problem>, needle: &str| {
        assert!(
            problems
                .iter()
                .any(|p| p.rule == Rule::Batch && p.message.contains(needle)),
            "{needle}: {problems:?}"
        );
    };
    let call = "MATCH (n:P) WHERE n.x IS NULL CALL { WITH n SET n.x = 1 } IN TRANSACTIONS OF 500 ROWS;";
    let fine = scan_one(
        "cypher",
        &format!("// migrate:batch\n{call}"),
        "MATCH (n:P) SET n.x = NULL;",
    );
    assert!(fine.is_empty(), "{fine:?}");
    batch(scan_one("cypher", call, "RETURN 1;"), "add `// migrate:batch`");
    batch(scan_one("cypher", "RETURN 1;", call), "cannot run in a down file");
    batch(
        scan_one("cypher", &format!("// migrate:batch size=100\n{call}"), "RETURN 1;"),
        "takes no argument",
    );
    batch(
        scan_one("cypher", &format!("// migrate:batch\n{call}\nRETURN 1;"), "RETURN 1;"),
        "exactly one statement",
    );
    batch(
        scan_one("cypher", "// migrate:batch\nMATCH (n) SET n.x = 1;", "RETURN 1;"),
        "IN TRANSACTIONS [OF N ROWS]",
    );
}

#[test]
fn batch_down_files_are_refused() {
    let problems = scan_one(
        "sql",
        "-- migrate:batch size=100\nUPDATE t SET x = 1 WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);",
        "-- migrate:batch size=100\nUPDATE t SET x = NULL LIMIT :batch;",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.rule == Rule::Batch && p.message.contains("belongs in an up file")),
        "{problems:?}"
    );
    let fine = scan_one(
        "sql",
        "-- migrate:batch size=100\nUPDATE t SET x = 1 WHERE id IN (SELECT id FROM t WHERE x IS NULL LIMIT :batch);",
        "UPDATE t SET x = NULL;",
    );
    assert!(fine.is_empty(), "{fine:?}");
}

// Rust code migrations: one `.rs` file per version, with `up` and `down`.

const CODE: &str = "pub async fn up(tx: &mut C) -> Result<(), E> { Ok(()) }\n\
                    pub async fn down(tx: &mut C) -> Result<(), E> { Ok(()) }\n";

#[test]
fn a_code_migration_takes_its_place_in_a_sql_folder() {
    let dir = folder(
        "code_in_order",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id INT);"),
            ("001_a.down.sql", "DROP TABLE a;"),
            ("002_fill_a.rs", CODE),
            ("003_b.up.sql", "CREATE TABLE b (id INT);"),
            ("003_b.down.sql", "DROP TABLE b;"),
        ],
    );
    let scanned = scan(&dir).unwrap();
    assert_eq!(scanned.language, Language::Sql);
    let versions: Vec<(i64, bool)> = scanned.migrations.iter().map(|m| (m.version, m.code)).collect();
    assert_eq!(versions, [(1, false), (2, true), (3, false)]);
    assert_eq!(scanned.migrations[1].up.file_name, "002_fill_a.rs");
    assert_eq!(scanned.migrations[1].up.checksum, crate::checksum(CODE));
}

fn rules(name: &str, files: &[(&str, &str)]) -> Vec<(Rule, String)> {
    let problems: Vec<Problem> = scan(&folder(name, files)).unwrap_err();
    problems.into_iter().map(|p| (p.rule, p.message)).collect()
}

#[test]
fn a_code_migration_without_down_is_refused_unless_irreversible() {
    let up_only = "pub async fn up(tx: &mut C) -> Result<(), E> { Ok(()) }\n// fn down is a comment\n";
    let found = rules("code_no_down", &[("001_a.rs", up_only)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Rule::MissingDown);
    assert!(
        found[0].1.contains("`001_a.rs` defines no `down` function"),
        "{found:?}"
    );

    let irreversible = format!("// migrate:irreversible\n{up_only}");
    assert!(scan(&folder("code_irreversible", &[("001_a.rs", &irreversible)])).is_ok());

    let both = format!("// migrate:irreversible\n{CODE}");
    assert_eq!(
        rules("code_irreversible_with_down", &[("001_a.rs", &both)])[0].0,
        Rule::EmptyFile
    );
    let no_up = "pub async fn down(tx: &mut C) -> Result<(), E> { Ok(()) }\n";
    assert_eq!(rules("code_no_up", &[("001_a.rs", no_up)])[0].0, Rule::MissingUp);
}

#[test]
fn a_code_migration_shares_its_version_with_no_sql_file() {
    let found = rules(
        "code_and_sql",
        &[("001_a.rs", CODE), ("001_a.down.sql", "DROP TABLE a;")],
    );
    assert_eq!(found[0].0, Rule::DuplicateVersion, "{found:?}");
    let noop = format!("// migrate:noop\n{CODE}");
    assert_eq!(rules("code_noop", &[("001_a.rs", &noop)])[0].0, Rule::UnknownDirective);
}

#[test]
fn a_batch_code_migration_has_a_size_and_a_transaction_per_batch() {
    let batch = format!("// migrate:batch size=10\n// migrate:total SELECT count(*) FROM t\n{CODE}");
    assert!(scan(&folder("code_batch", &[("001_a.rs", &batch)])).is_ok());
    let sizeless = format!("// migrate:batch\n{CODE}");
    let found = rules("code_batch_sizeless", &[("001_a.rs", &sizeless)]);
    assert_eq!(found[0].0, Rule::Batch, "{found:?}");
    assert!(found[0].1.contains("size=N"), "{found:?}");
    let stepless = format!("// migrate:batch size=10\n// migrate:no-transaction\n{CODE}");
    let found = rules("code_batch_no_tx", &[("001_a.rs", &stepless)]);
    assert_eq!(found[0].0, Rule::Batch, "{found:?}");
    assert!(found[0].1.contains("no-transaction"), "{found:?}");
}

// `migrate:timeout`: the build-time rule of `timeout::check`, as a scan
// reports it (the parsing itself is tested in timeout.rs).
#[test]
fn timeouts_that_do_not_read_or_do_not_apply_are_build_errors() {
    let refused = |problems: Vec<Problem>, needle: &str| {
        assert!(
            problems
                .iter()
                .any(|p| p.rule == Rule::Timeout && p.message.contains(needle) && p.message.contains("001_backfill")),
            "{needle}: {problems:?}"
        );
    };
    let fine = scan_one(
        "sql",
        "-- migrate:timeout statement=30m lock=5s\nSELECT 1;",
        "SELECT 2;",
    );
    assert!(fine.is_empty(), "{fine:?}");
    refused(
        scan_one("sql", "-- migrate:timeout lock=5\nSELECT 1;", "SELECT 2;"),
        "has no unit",
    );
    refused(
        scan_one("sql", "SELECT 1;", "-- migrate:timeout statement=5x\nSELECT 2;"),
        "unknown unit",
    );
    refused(
        scan_one(
            "sql",
            "-- migrate:batch size=10\n-- migrate:timeout lock=5s\nUPDATE t SET x = 1 WHERE id IN (SELECT id FROM t LIMIT :batch);",
            "SELECT 2;",
        ),
        "does not apply to a `migrate:batch` migration",
    );
}
