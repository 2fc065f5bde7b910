//! Cypher files: strings of both quotes, backtick names, comments, and
//! which statements change the schema.

use super::texts;
use crate::split::{is_cypher_schema, split, Dialect};

#[test]
fn cypher_strings_backticks_and_comments() {
    let src = "// migrate:no-transaction\nCREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE;\n\
               MERGE (n:A {id: 'x;\\'y'}) /* ; */ RETURN n; // done;\n;";
    assert_eq!(
        texts(src, Dialect::Cypher),
        [
            "CREATE CONSTRAINT `a;b` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE",
            "MERGE (n:A {id: 'x;\\'y'}) /* ; */ RETURN n"
        ]
    );
}

#[test]
fn cypher_hostile_inputs() {
    let cases: &[(&str, &[&str])] = &[
        // `;` inside strings of both quotes, with escaped quotes and an escaped backslash before the close.
        (
            "RETURN \"a;\\\"b;\" AS x; RETURN 'c\\\\'; RETURN 'd'",
            &["RETURN \"a;\\\"b;\" AS x", "RETURN 'c\\\\'", "RETURN 'd'"],
        ),
        // Backtick identifiers: `;`, quotes and comment openers inside; a doubled backtick is an escaped one.
        (
            "MATCH (n:`we;ird'//`) RETURN n.`a``;b`; RETURN 1",
            &["MATCH (n:`we;ird'//`) RETURN n.`a``;b`", "RETURN 1"],
        ),
        // `//` inside a string is not a comment; `--` is a pattern, not a comment.
        (
            "MERGE (s:Site {url: 'http://x;y'}); MATCH (a)--(b) RETURN a;",
            &["MERGE (s:Site {url: 'http://x;y'})", "MATCH (a)--(b) RETURN a"],
        ),
        // Comments holding quotes and semicolons.
        (
            "/* it's; \"not\" */ RETURN 1; // it's;\nRETURN 2 /* ; */;",
            &["RETURN 1", "RETURN 2 /* ; */"],
        ),
        // Empty statements, blank lines, CRLF, comment-only files.
        (";;\r\n ; \r\nRETURN 1;\r\n;", &["RETURN 1"]),
        ("// only a comment;\n/* and another; */\n", &[]),
        ("", &[]),
        // Non-ASCII text around separators.
        (
            "RETURN 'é;ü' AS ü;RETURN \"日本;\"",
            &["RETURN 'é;ü' AS ü", "RETURN \"日本;\""],
        ),
        // An unterminated block comment or string swallows the rest, and nothing is lost before it.
        ("RETURN 1; /* open; RETURN 2;", &["RETURN 1"]),
        (
            "RETURN 1; RETURN 'open; RETURN 2;",
            &["RETURN 1", "RETURN 'open; RETURN 2;"],
        ),
    ];
    for (src, expected) in cases {
        assert_eq!(texts(src, Dialect::Cypher), *expected, "{src:?}");
    }
    let lines: Vec<usize> = split("\n// c\nRETURN 1;\n\n  RETURN\n2;", Dialect::Cypher)
        .iter()
        .map(|s| s.line)
        .collect();
    assert_eq!(lines, [3, 5]);
}

#[test]
fn cypher_schema_statements() {
    for schema in [
        "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE",
        "create constraint on (p:Person) assert p.id is unique",
        "DROP CONSTRAINT person_id IF EXISTS",
        "CREATE INDEX person_name FOR (p:Person) ON (p.name)",
        "CREATE TEXT INDEX t IF NOT EXISTS FOR (p:Person) ON (p.bio)",
        "CREATE FULLTEXT INDEX f FOR (n:Doc) ON EACH [n.body]",
        "CREATE RANGE INDEX r FOR ()-[k:KNOWS]-() ON (k.since)",
        "DROP INDEX ON :Person(name)",
        "CREATE /* why */ INDEX i FOR (n:N) ON (n.x)",
        "CREATE // why\n  VECTOR INDEX v FOR (n:N) ON (n.embedding)",
    ] {
        assert!(is_cypher_schema(schema), "{schema}");
    }
    for data in [
        "CREATE (:Index {name: 'x'})",
        "CREATE (i:Constraint)",
        "MATCH (n:INDEX) DELETE n",
        "MERGE (n:Person {id: 1})",
        "CALL db.awaitIndexes()",
        "SHOW INDEXES",
        "DROP",
        "",
        "/* CREATE INDEX */ RETURN 1",
        "CREATE OR REPLACE DATABASE index",
    ] {
        assert!(!is_cypher_schema(data), "{data}");
    }
}
