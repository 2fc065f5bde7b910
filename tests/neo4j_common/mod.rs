//! The Neo4j scenarios both layers run: the contract tests against the Bolt
//! stub (tests/neo4j_contract.rs) and the suite against a real server
//! (tests/neo4j_server.rs). The tables and the checks on what the runtime
//! returns live here, so both layers expect the same outcomes.

#![allow(dead_code)]

use embedded_migrations::{embed_migrations, CypherMigrations, Direction, Error, Report};

/// 001 a uniqueness constraint (schema, run step by step), 002 two people
/// (data, one transaction).
pub static GRAPH: CypherMigrations = embed_migrations!("tests/bolt/graph");
/// GRAPH plus 003, whose second statement breaks the constraint of 001.
pub static FAILING: CypherMigrations = embed_migrations!("tests/bolt/graph_failing");
/// GRAPH with 002 edited after it was applied.
pub static DRIFTED: CypherMigrations = embed_migrations!("tests/bolt/graph_drifted");

/// The first run applies both migrations, in order.
pub fn check_fresh(report: &Report) {
    let applied: Vec<(i64, &str, Direction)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.name.as_str(), s.direction))
        .collect();
    assert_eq!(
        applied,
        [(1, "person_id", Direction::Up), (2, "seed_people", Direction::Up)]
    );
}

/// A second run finds nothing to do.
pub fn check_rerun(report: &Report) {
    assert!(report.is_empty(), "a re-run applied {:?}", report.steps);
}

/// 003 fails on its second statement; the error says which migration, file,
/// statement and line, and that nothing of it was kept.
pub fn check_failure(result: Result<Report, Error>) {
    let err = result.expect_err("003 must fail");
    let text = err.to_string();
    match err.cause() {
        Error::MigrationFailed {
            version,
            name,
            file,
            direction,
            statement,
            line,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(
                (*version, name.as_str(), *file, *direction),
                (3, "duplicate_person", "003_duplicate_person.up.cypher", Direction::Up)
            );
            assert_eq!(&**statement, "CREATE (:Person {id: 1, name: 'Ada, again'})");
            assert_eq!(*line, 3);
            assert!(
                message.contains("Neo.ClientError.Schema.ConstraintValidationFailed"),
                "{message}"
            );
            assert!(*rolled_back, "a data migration runs in one transaction");
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    assert!(
        text.contains("migration 3 (duplicate_person) failed up in `003_duplicate_person.up.cypher` at line 3"),
        "{text}"
    );
    assert!(text.contains("rolled back and not recorded"), "{text}");
}

/// `down(1)` reverts 002 only.
pub fn check_down(report: &Report) {
    let reverted: Vec<(i64, Direction)> = report.steps.iter().map(|s| (s.version, s.direction)).collect();
    assert_eq!(reverted, [(2, Direction::Down)]);
}

/// Running DRIFTED where GRAPH was applied stops before anything runs.
pub fn check_drift(result: Result<Report, Error>) {
    match result {
        Err(Error::Drift {
            version, name, file, ..
        }) => {
            assert_eq!(
                (version, name.as_str(), file.as_str()),
                (2, "seed_people", "002_seed_people.up.cypher")
            );
        }
        other => panic!("expected Drift, got {other:?}"),
    }
}

/// 001 creates a constraint, then fails on a statement that is not Cypher.
pub static SCHEMA_FAILING: CypherMigrations = embed_migrations!("tests/bolt/schema_failing");

/// The failure of a schema step: which statement, and whether an earlier
/// statement was already committed (then the migration is left dirty).
pub fn check_schema_failure(result: Result<Report, Error>, expected_line: usize, expected_rolled_back: bool) {
    let err = result.expect_err("001 must fail");
    let text = err.to_string();
    match err.cause() {
        Error::MigrationFailed {
            version,
            name,
            line,
            rolled_back,
            ..
        } => {
            assert_eq!(
                (*version, name.as_str(), *line, *rolled_back),
                (1, "person_constraints", expected_line, expected_rolled_back),
                "{text}"
            );
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    if expected_rolled_back {
        assert!(text.contains("rolled back and not recorded"), "{text}");
    } else {
        assert!(text.contains("the migration is marked dirty"), "{text}");
    }
}
