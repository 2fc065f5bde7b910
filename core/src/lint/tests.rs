use super::{check_allows, lint, rules, Dialect};
use crate::{checksum, parse_header, Folder, Language, ScannedFile, ScannedMigration};
use std::path::PathBuf;

fn file(name: &str, text: &str, language: Language) -> ScannedFile {
    ScannedFile {
        file_name: name.to_string(),
        path: PathBuf::from(name),
        text: text.to_string(),
        checksum: checksum(text),
        header: parse_header(text, language).unwrap(),
    }
}

/// A folder of the given up files, versions 1, 2, ...
fn folder(ups: &[&str], language: Language) -> Folder {
    let ext = language.extensions()[0];
    let migrations = ups
        .iter()
        .enumerate()
        .map(|(i, text)| ScannedMigration {
            version: i as i64 + 1,
            version_text: format!("{:03}", i + 1),
            name: "m".to_string(),
            up: file(&format!("{:03}_m.up.{ext}", i + 1), text, language),
            down: file(&format!("{:03}_m.down.{ext}", i + 1), "SELECT 1;", language),
            code: false,
        })
        .collect();
    Folder {
        path: PathBuf::from("migrations"),
        language,
        migrations,
        repeatables: Vec::new(),
        tracked: Vec::new(),
    }
}

/// The (line, rule) of every finding of one up file.
fn found(text: &str, dialect: Dialect) -> Vec<(usize, &'static str)> {
    let language = if dialect == Dialect::Cypher {
        Language::Cypher
    } else {
        Language::Sql
    };
    lint(&folder(&[text], language), dialect)
        .iter()
        .map(|f| (f.line, f.rule.name))
        .collect()
}

fn rules_of(text: &str, dialect: Dialect) -> Vec<&'static str> {
    found(text, dialect).into_iter().map(|(_, rule)| rule).collect()
}

#[test]
fn postgres_rules_fire_on_tables_the_file_did_not_create() {
    let pg = |text| rules_of(text, Dialect::Postgres);
    assert_eq!(pg("CREATE INDEX i ON users (email)"), ["index-without-concurrently"]);
    assert_eq!(
        pg("CREATE UNIQUE INDEX IF NOT EXISTS i ON public.users (email)"),
        ["index-without-concurrently"]
    );
    assert!(pg("CREATE INDEX CONCURRENTLY i ON users (email)").is_empty());
    assert_eq!(
        pg("ALTER TABLE users ALTER COLUMN age TYPE bigint"),
        ["column-type-change"]
    );
    assert_eq!(
        pg("ALTER TABLE users ALTER age SET DATA TYPE bigint"),
        ["column-type-change"]
    );
    assert_eq!(
        pg("ALTER TABLE users ADD COLUMN age int NOT NULL"),
        ["not-null-column-without-default"]
    );
    assert!(pg("ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0").is_empty());
    assert!(pg("ALTER TABLE users ADD COLUMN age int").is_empty());
    assert_eq!(pg("ALTER TABLE users ALTER COLUMN age SET NOT NULL"), ["set-not-null"]);
    assert!(pg("ALTER TABLE users ALTER COLUMN age DROP NOT NULL").is_empty());
    assert_eq!(
        pg("ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)"),
        ["constraint-without-not-valid"]
    );
    assert!(pg("ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID").is_empty());
    assert_eq!(
        pg("ALTER TABLE posts ADD CHECK (n > 0)"),
        ["constraint-without-not-valid"]
    );
    assert!(pg("ALTER TABLE posts VALIDATE CONSTRAINT fk").is_empty());
    assert_eq!(
        pg("ALTER TABLE users ADD CONSTRAINT u UNIQUE (email)"),
        ["unique-constraint-without-index"]
    );
    assert!(pg("ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_email").is_empty());
    assert_eq!(pg("ALTER TABLE users RENAME COLUMN a TO b"), ["rename-column"]);
    assert_eq!(pg("ALTER TABLE users RENAME a TO b"), ["rename-column"]);
    assert_eq!(pg("ALTER TABLE users RENAME TO people"), ["rename-table"]);
    assert!(pg("ALTER TABLE users RENAME CONSTRAINT a TO b").is_empty());
    assert_eq!(pg("ALTER TABLE users DROP COLUMN a"), ["drop-column"]);
    assert_eq!(pg("ALTER TABLE users DROP a, DROP COLUMN IF EXISTS b"), ["drop-column"]);
    assert!(pg("ALTER TABLE users DROP CONSTRAINT a").is_empty());
    assert_eq!(pg("DROP TABLE IF EXISTS users CASCADE"), ["drop-table"]);
    assert_eq!(pg("VACUUM FULL users"), ["vacuum-full"]);
    assert_eq!(pg("VACUUM (FULL, ANALYZE) users"), ["vacuum-full"]);
    assert!(pg("VACUUM ANALYZE users").is_empty());
    assert_eq!(pg("CLUSTER users USING users_pkey"), ["cluster"]);
    assert_eq!(pg("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"), ["lock-table"]);
    assert!(pg("INSERT INTO users VALUES (1); UPDATE users SET a = 1; SELECT 1").is_empty());
}

#[test]
fn a_table_created_earlier_in_the_file_is_not_flagged() {
    let text = "CREATE TABLE \"Items\" (id int);\n\
                CREATE INDEX i ON items (id);\n\
                ALTER TABLE public.items ADD COLUMN n int NOT NULL, ADD CONSTRAINT c CHECK (n > 0);\n\
                ALTER TABLE items RENAME TO things;\n\
                ALTER TABLE things DROP COLUMN n;\n\
                DROP TABLE things;\n\
                CREATE INDEX j ON other (id);";
    assert_eq!(found(text, Dialect::Postgres), [(7, "index-without-concurrently")]);
    // Created by an earlier migration: flagged.
    let later = lint(
        &folder(
            &["CREATE TABLE items (id int);", "CREATE INDEX i ON items (id);"],
            Language::Sql,
        ),
        Dialect::Postgres,
    );
    assert_eq!(later.len(), 1);
    assert_eq!(
        (later[0].version, later[0].line, later[0].rule.name),
        (2, 1, "index-without-concurrently")
    );
}

#[test]
fn each_action_of_an_alter_table_is_read_on_its_own() {
    let text = "ALTER TABLE users\n  ADD COLUMN a numeric(10, 2) NOT NULL DEFAULT 0,\n  ALTER COLUMN b TYPE text,\n  DROP COLUMN c";
    assert_eq!(
        found(text, Dialect::Postgres),
        [(1, "column-type-change"), (1, "drop-column")]
    );
}

#[test]
fn mysql_rules() {
    let my = |text| rules_of(text, Dialect::MySql);
    assert_eq!(
        my("ALTER TABLE users MODIFY COLUMN age BIGINT NOT NULL"),
        ["table-copy"]
    );
    assert!(my("ALTER TABLE users MODIFY COLUMN age BIGINT, ALGORITHM=INPLACE, LOCK=NONE").is_empty());
    assert_eq!(my("ALTER TABLE users CHANGE COLUMN age years INT"), ["rename-column"]);
    assert_eq!(my("ALTER TABLE users CHANGE age age BIGINT"), ["table-copy"]);
    assert_eq!(my("ALTER TABLE users DROP PRIMARY KEY"), ["table-copy"]);
    assert_eq!(my("ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4"), ["table-copy"]);
    assert_eq!(
        my("ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)"),
        ["table-copy"]
    );
    assert!(my("ALTER TABLE users ADD COLUMN age INT NOT NULL, ADD INDEX i (age)").is_empty());
    assert_eq!(my("ALTER TABLE users DROP COLUMN age"), ["drop-column"]);
    assert!(my("ALTER TABLE users DROP INDEX i, DROP FOREIGN KEY fk").is_empty());
    assert_eq!(my("RENAME TABLE users TO people"), ["rename-table"]);
    assert_eq!(my("ALTER TABLE users RENAME COLUMN a TO b"), ["rename-column"]);
    assert!(my("ALTER TABLE users RENAME INDEX a TO b").is_empty());
    assert_eq!(my("DROP TABLE `users`"), ["drop-table"]);
    // PostgreSQL's rules are PostgreSQL's.
    assert!(my("CREATE INDEX i ON users (age)").is_empty());
    assert!(my("CREATE TABLE t (id INT); ALTER TABLE t MODIFY id BIGINT").is_empty());
}

#[test]
fn sqlite_rules_and_the_table_rebuild() {
    let lite = |text| rules_of(text, Dialect::Sqlite);
    assert_eq!(lite("ALTER TABLE users DROP COLUMN a"), ["drop-column"]);
    assert_eq!(lite("ALTER TABLE users RENAME COLUMN a TO b"), ["rename-column"]);
    assert_eq!(lite("ALTER TABLE users RENAME TO people"), ["rename-table"]);
    assert_eq!(lite("DROP TABLE [users]"), ["drop-table"]);
    assert!(lite("CREATE INDEX i ON users (a)").is_empty());
    let rebuild = "CREATE TABLE new_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
                   INSERT INTO new_users SELECT id, name FROM users;\n\
                   DROP TABLE users;\n\
                   ALTER TABLE new_users RENAME TO users;";
    assert_eq!(found(rebuild, Dialect::Sqlite), [(3, "table-rebuild")]);
    let documented = format!(
        "-- migrate:no-transaction\nPRAGMA foreign_keys=OFF;\nBEGIN;\n{rebuild}\nPRAGMA foreign_key_check;\nCOMMIT;\nPRAGMA foreign_keys=ON;"
    );
    assert!(lite(&documented).is_empty());
    // A drop that is not a rebuild stays a drop in the documented form too.
    assert_eq!(lite(&format!("{documented}\nDROP TABLE old_logs;")), ["drop-table"]);
}

#[test]
fn neo4j_rules() {
    let first = "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
                 CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE";
    assert!(rules_of(first, Dialect::Cypher).is_empty(), "a new label holds no data");
    let data = "MATCH (p:Person) SET p.name = trim(p.name)";
    let later = "CREATE CONSTRAINT person_name FOR (p:Person) REQUIRE p.name IS NOT NULL";
    let findings = lint(&folder(&[first, data, later], Language::Cypher), Dialect::Cypher);
    let at: Vec<_> = findings.iter().map(|f| (f.version, f.rule.name)).collect();
    assert_eq!(at, [(3, "constraint-on-existing-label")]);
    assert!(rules_of("CREATE CONSTRAINT c FOR (t:Tag) REQUIRE t.n IS UNIQUE", Dialect::Cypher).is_empty());
    let cy = |text| rules_of(text, Dialect::Cypher);
    assert_eq!(
        cy("MATCH (n:Old {id: 1}) DETACH DELETE n"),
        ["detach-delete-without-batch"]
    );
    assert!(cy("MATCH (n:Old) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS").is_empty());
    assert!(cy("// migrate:batch size=1000\nMATCH (n:Old) WITH n LIMIT $batch DETACH DELETE n").is_empty());
}

#[test]
fn an_allow_line_silences_its_rule_in_its_file_only() {
    let allowed =
        "-- migrate:allow drop-column nothing has read it since 2.3\nALTER TABLE users DROP COLUMN a;\nDROP TABLE old;";
    assert_eq!(rules_of(allowed, Dialect::Postgres), ["drop-table"]);
    let findings = lint(
        &folder(&[allowed, "ALTER TABLE users DROP COLUMN b"], Language::Sql),
        Dialect::Postgres,
    );
    let at: Vec<_> = findings.iter().map(|f| (f.version, f.rule.name)).collect();
    assert_eq!(at, [(1, "drop-table"), (2, "drop-column")]);
}

#[test]
fn an_allow_line_names_a_rule_and_gives_a_reason() {
    let mut problems = Vec::new();
    check_allows(
        &file(
            "001_a.up.sql",
            "-- migrate:allow drop-colum typo\n-- migrate:allow rename-table\nSELECT 1;",
            Language::Sql,
        ),
        &mut problems,
    );
    assert_eq!(problems.len(), 2);
    assert!(
        problems[0]
            .message
            .contains("`migrate:allow drop-colum` names no lint rule")
            && problems[0].message.contains("`drop-column`"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[1]
            .message
            .contains("line 2: `migrate:allow rename-table` gives no reason"),
        "{}",
        problems[1].message
    );
}

#[test]
fn a_finding_says_file_line_rule_why_and_fix() {
    let findings = lint(
        &folder(&["SELECT 1;\nALTER TABLE t DROP COLUMN c;"], Language::Sql),
        Dialect::Sqlite,
    );
    let message = findings[0].message();
    assert!(
        message.starts_with("`001_m.up.sql` line 2: [drop-column] `ALTER TABLE t DROP COLUMN c`: "),
        "{message}"
    );
    assert!(message.contains("Instead: stop reading"), "{message}");
    assert!(message.contains("`-- migrate:allow drop-column <reason>`"), "{message}");
}

#[test]
fn every_database_has_rules() {
    for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite, Dialect::Cypher] {
        assert!(rules(dialect).count() >= 2);
    }
}
