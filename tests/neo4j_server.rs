//! The Neo4j scenarios against a real server: what the Bolt stub cannot
//! prove. Runs when NEO4J_TEST_URI (e.g. `127.0.0.1:7687`), NEO4J_TEST_USER
//! and NEO4J_TEST_PASSWORD are set, and says loudly that it skipped
//! otherwise. Point it at a throwaway database: it deletes `Person` nodes,
//! the `person_id` constraint and every tracking node.
//!
//! ```text
//! docker run --rm -p 7687:7687 -e NEO4J_AUTH=neo4j/testpassword neo4j:5
//! NEO4J_TEST_URI=127.0.0.1:7687 NEO4J_TEST_USER=neo4j NEO4J_TEST_PASSWORD=testpassword \
//!     cargo test --features neo4j --test neo4j_server
//! ```

#![cfg(feature = "neo4j")]

mod neo4j_common;

use embedded_migrations::neo4rs::{query, Graph};
use embedded_migrations::{Direction, Error, MigrationState, Settings};
use neo4j_common::{
    check_down, check_drift, check_failure, check_fresh, check_rerun, check_schema_failure, DRIFTED, FAILING, GRAPH,
    SCHEMA_FAILING,
};
use std::io::Write;
use std::time::Duration;

async fn graph_or_skip(test: &str) -> Option<Graph> {
    let (Ok(uri), Ok(user), Ok(password)) = (
        std::env::var("NEO4J_TEST_URI"),
        std::env::var("NEO4J_TEST_USER"),
        std::env::var("NEO4J_TEST_PASSWORD"),
    ) else {
        // Past libtest's capture of eprintln!: a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: set NEO4J_TEST_URI, NEO4J_TEST_USER and NEO4J_TEST_PASSWORD to run it \
             against a real server; what a real server proves is untested in this run ***\n"
        );
        return None;
    };
    Some(
        Graph::new(uri, user, password)
            .await
            .expect("connecting to NEO4J_TEST_URI"),
    )
}

async fn exec(graph: &Graph, cypher: &str) {
    graph
        .run(query(cypher))
        .await
        .unwrap_or_else(|err| panic!("{cypher}: {err}"));
}

async fn count(graph: &Graph, cypher: &str) -> i64 {
    let mut rows = graph
        .execute(query(cypher))
        .await
        .unwrap_or_else(|err| panic!("{cypher}: {err}"));
    let mut value = None;
    while let Some(row) = rows.next().await.unwrap_or_else(|err| panic!("{cypher}: {err}")) {
        value = Some(row.get::<i64>("n").expect("a count named n"));
    }
    value.expect("one row")
}

/// Removes what the fixtures and the tracking create.
async fn reset(graph: &Graph) {
    exec(graph, "MATCH (p:Person) DETACH DELETE p").await;
    exec(graph, "DROP CONSTRAINT person_id IF EXISTS").await;
    for label in [
        "__EmbeddedMigration",
        "__EmbeddedMigrationHistory",
        "__EmbeddedMigrationState",
        "__EmbeddedMigrationLock",
    ] {
        exec(graph, &format!("MATCH (n:`{label}`) DETACH DELETE n")).await;
    }
}

/// One test, so that the scenarios, which share the database, run one after
/// the other.
#[tokio::test(flavor = "multi_thread")]
async fn real_server_suite() {
    let Some(graph) = graph_or_skip("the Neo4j real-server suite").await else {
        return;
    };
    // The server is shared with tests/targets.rs (and other checkouts'
    // runs): hold the same lock file it does, waiting at most 600 s.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/embedded-migrations-neo4j.lock")
        .expect("open /tmp/embedded-migrations-neo4j.lock");
    let started = std::time::Instant::now();
    while let Err(err) = lock.try_lock() {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "waited 600 s for /tmp/embedded-migrations-neo4j.lock (held by another Neo4j test run): {err}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shared_scenarios(&graph).await;
    concurrent_boots_apply_each_migration_once(&graph).await;
    live_locks_block_and_expired_locks_are_taken_over(&graph).await;
    a_schema_failure_after_a_committed_statement_leaves_it_dirty(&graph).await;
    baseline_adopts_a_graph_built_by_hand(&graph).await;
    reset(&graph).await;
}

/// `baseline` on a graph whose constraint (001) was made by hand: 001 is
/// recorded without running, in one transaction with its history node; `run`
/// then applies 002 only. `import` has no tool to read on Neo4j.
async fn baseline_adopts_a_graph_built_by_hand(graph: &Graph) {
    reset(graph).await;
    exec(
        graph,
        "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE",
    )
    .await;
    let adoption = GRAPH
        .with(Settings::default())
        .reason("built by hand")
        .baseline(graph, 1)
        .await
        .expect("baseline");
    assert_eq!(adoption.recorded.iter().map(|m| m.version).collect::<Vec<_>>(), [1]);
    assert_eq!(
        count(graph, "MATCH (h:`__EmbeddedMigrationHistory`) RETURN count(h) AS n").await,
        1
    );
    let report = GRAPH.run(graph).await.expect("run after the baseline");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    assert!(GRAPH.run(graph).await.expect("boot").is_empty());
    let status = GRAPH.validate(graph).await.expect("validate");
    assert_eq!(status.entries[0].baseline.as_deref(), Some("baseline: built by hand"));
    assert_eq!(status.entries[1].baseline, None);
    let err = GRAPH.baseline(graph, 1).await;
    assert!(
        matches!(&err, Err(Error::Adoption { problems, .. }) if problems[0].contains("version 2")),
        "{err:?}"
    );
    match GRAPH.import(graph, embedded_migrations::Tool::Sqlx).await {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    }
    reset(graph).await;
}

/// The contract scenarios in one sequence, each checked as against the
/// stub, plus what only a server shows: the writes themselves.
async fn shared_scenarios(graph: &Graph) {
    reset(graph).await;

    // Fresh run: the constraint (schema, own transaction) and the people (data).
    check_fresh(&GRAPH.run(graph).await.expect("fresh run"));
    assert_eq!(count(graph, "MATCH (p:Person) RETURN count(p) AS n").await, 2);
    assert_eq!(
        count(
            graph,
            "SHOW CONSTRAINTS YIELD name WHERE name = 'person_id' RETURN count(*) AS n"
        )
        .await,
        1
    );
    assert_eq!(
        count(graph, "MATCH (l:`__EmbeddedMigrationLock`) RETURN count(l) AS n").await,
        0,
        "the lock is released"
    );

    // Re-run: nothing to do; IF NOT EXISTS keeps the tracking constraints idempotent.
    check_rerun(&GRAPH.run(graph).await.expect("re-run"));
    assert!(GRAPH.status(graph).await.expect("status").is_up_to_date());

    // Failure: the uniqueness constraint refuses 003's second statement; its first is rolled back.
    check_failure(FAILING.run(graph).await);
    assert_eq!(
        count(graph, "MATCH (p:Person {id: 3}) RETURN count(p) AS n").await,
        0,
        "the failed migration's first statement was rolled back"
    );
    let history = FAILING.history(graph).await.expect("history");
    let last = history.last().expect("history entries");
    assert_eq!((last.version, last.success), (3, false));
    assert!(last
        .error
        .as_deref()
        .unwrap_or_default()
        .contains("ConstraintValidationFailed"));
    assert_eq!(
        count(graph, "MATCH (l:`__EmbeddedMigrationLock`) RETURN count(l) AS n").await,
        0,
        "the lock is released after a failure"
    );

    // Drift: 002 edited after it was applied.
    check_drift(DRIFTED.run(graph).await);

    // Down: 002's people go, its record and state move back, history says so.
    check_down(&GRAPH.down(graph, 1).await.expect("down"));
    assert_eq!(count(graph, "MATCH (p:Person) RETURN count(p) AS n").await, 0);
    let status = GRAPH.status(graph).await.expect("status");
    assert_eq!(status.current_version(), 1);
    assert_eq!(status.pending_count(), 1);
    let history = GRAPH.history(graph).await.expect("history");
    assert_eq!(
        history.last().map(|h| (h.version, h.direction, h.success)),
        Some((2, Direction::Down, true))
    );
    GRAPH
        .validate(graph)
        .await
        .expect("the state node agrees with the tracking nodes");

    // Down the schema migration too: its drop runs step by step.
    GRAPH.down_to(graph, 0).await.expect("down to 0");
    assert_eq!(
        count(
            graph,
            "SHOW CONSTRAINTS YIELD name WHERE name = 'person_id' RETURN count(*) AS n"
        )
        .await,
        0
    );
}

/// Two processes booting at once: both succeed, each migration is applied
/// once (the lock node's uniqueness constraint and the state guard).
async fn concurrent_boots_apply_each_migration_once(graph: &Graph) {
    reset(graph).await;
    let (a, b) = tokio::join!(GRAPH.run(graph), GRAPH.run(graph));
    let applied = a.expect("first boot").steps.len() + b.expect("second boot").steps.len();
    assert_eq!(applied, 2, "each migration applied by exactly one of the boots");
    assert_eq!(
        count(graph, "MATCH (h:`__EmbeddedMigrationHistory`) RETURN count(h) AS n").await,
        2
    );
    reset(graph).await;
}

/// A live lock times out naming its holder; an expired one is taken over.
async fn live_locks_block_and_expired_locks_are_taken_over(graph: &Graph) {
    reset(graph).await;
    exec(
        graph,
        "CREATE (:`__EmbeddedMigrationLock` {id: 1, owner: 'other-host pid 1', acquired_at: datetime(), \
         expires_at: datetime() + duration({minutes: 5})})",
    )
    .await;
    let short = Settings::default().lock_timeout(Duration::from_secs(1));
    match GRAPH.with(short.clone()).run(graph).await {
        Err(Error::LockTimeout {
            holder: Some(holder), ..
        }) => {
            assert!(holder.contains("other-host pid 1"), "{holder}")
        }
        other => panic!("expected LockTimeout naming the holder, got {other:?}"),
    }
    exec(
        graph,
        "MATCH (l:`__EmbeddedMigrationLock`) SET l.expires_at = datetime() - duration({seconds: 1})",
    )
    .await;
    check_fresh(
        &GRAPH
            .with(short)
            .run(graph)
            .await
            .expect("taking over the expired lock"),
    );
    reset(graph).await;
}

/// A schema migration failing after its first statement committed: Neo4j
/// cannot take the constraint back, so the migration is left dirty and the
/// next run refuses until a person decides; `forget` then clears it.
async fn a_schema_failure_after_a_committed_statement_leaves_it_dirty(graph: &Graph) {
    reset(graph).await;
    check_schema_failure(SCHEMA_FAILING.run(graph).await, 3, false);
    assert_eq!(
        count(
            graph,
            "SHOW CONSTRAINTS YIELD name WHERE name = 'person_id' RETURN count(*) AS n"
        )
        .await,
        1,
        "the first statement stays committed"
    );
    match SCHEMA_FAILING.run(graph).await {
        Err(Error::Dirty { version: 1, .. }) => {}
        other => panic!("expected Dirty, got {other:?}"),
    }
    SCHEMA_FAILING.forget(graph, 1).await.expect("forget");
    let status = SCHEMA_FAILING.status(graph).await.expect("status");
    assert!(
        status.entries.iter().all(|e| e.state == MigrationState::Pending),
        "{status:?}"
    );
    reset(graph).await;
}
