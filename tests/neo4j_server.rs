//! The Neo4j backend against a real server: the shared scenarios
//! (tests/support, with the Cypher fixtures tests/fixtures/neo4j_*), plus
//! what is Neo4j's own: data rollback and the schema/data split, the lock
//! (held, expired, crashed holder, a long step under a short lease), 16
//! processes booting at once, SIGKILL at random moments, and the example set
//! `migrations/neo4j`. Tested on Neo4j 5.26 community (`.ci/neo4j.sh`), over
//! Bolt 4.x through neo4rs 0.8.
//!
//! Needs NEO4J_TEST_URI (e.g. `127.0.0.1:7687`), NEO4J_TEST_USER and
//! NEO4J_TEST_PASSWORD; without them each test says loudly that it skipped,
//! and with `CI=true` it fails instead.
//!
//! Isolation: Neo4j community has a single user database, so the tests
//! cannot each create their own. They take turns instead: each test holds an
//! exclusive lock on a file in the temp dir (`embedded-migrations-neo4j.lock`,
//! shared by every test thread and every test process on this machine,
//! whichever worktree it runs from) for its whole run, and starts from a
//! wiped graph: every node deleted, every constraint and index dropped but
//! the built-in token lookup indexes. Point it at a throwaway server. Tests
//! that start child processes hold the turn in the parent; the children
//! never take it.

#![cfg(feature = "neo4j")]

#[macro_use]
mod support;
mod neo4j_common;
mod servers;

use embedded_migrations::neo4rs::{query, Graph, Txn};
use embedded_migrations::{
    embed_migrations, CypherMigrations, Direction, Error, MigrationState, Progress, ProgressEvent, Settings,
};
use neo4j_common::{check_down, check_drift, check_failure, check_fresh, check_rerun, check_schema_failure};
use neo4j_common::{DRIFTED, FAILING, GRAPH, SCHEMA_FAILING};
use servers::{assert_overlapped, child_span, now_ms, reported, spawn_child, wait_until, Rng};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::TestDb;

/// Four migrations, schema and data in turn, for the kill rounds.
static CRASH: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_crash");
/// Three data migrations of a few hundred milliseconds each.
static SLOW: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_slow");
/// One data step that waits for the gate node while a test holds it
/// (`Gate::close`), so it lasts as long as the test wants on any machine.
static LONG: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_long");
static EXAMPLE: CypherMigrations = embed_migrations!("migrations/neo4j", database = neo4j);
/// A `CALL { ... } IN TRANSACTIONS` backfill of the `Person` nodes the test
/// makes (`// migrate:batch`), between two plain migrations.
static BACKFILL: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_backfill");
/// The same backfill failing at the node with id 12345.
static BACKFILL_FAILING: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_backfill_failing");

const URI_ENV: &str = "NEO4J_TEST_URI";

/// The server's address and credentials, or `None` after `missing_backend`
/// said so (or failed the test in CI).
fn server(test: &str) -> Option<(String, String, String)> {
    let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        variable(URI_ENV),
        variable("NEO4J_TEST_USER"),
        variable("NEO4J_TEST_PASSWORD"),
    ) {
        (Some(uri), Some(user), Some(password)) => Some((uri, user, password)),
        (None, ..) => {
            support::missing_backend(URI_ENV, test);
            None
        }
        _ => {
            support::missing_backend("NEO4J_TEST_USER or NEO4J_TEST_PASSWORD", test);
            None
        }
    }
}

async fn connect(test: &str) -> Option<Graph> {
    let (uri, user, password) = server(test)?;
    Some(
        Graph::new(uri, user, password)
            .await
            .expect("connecting to NEO4J_TEST_URI"),
    )
}

/// This test's turn on the one database; ends when dropped (closing the
/// file releases the lock, also when the process dies).
struct ServerTurn(#[allow(dead_code)] File);

/// Long enough for every other test of the suite to finish first.
const TURN_WAIT: Duration = Duration::from_secs(900);

async fn take_turn(test: &str) -> ServerTurn {
    let path = std::env::temp_dir().join("embedded-migrations-neo4j.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|err| panic!("opening {}: {err}", path.display()));
    // One open file each: flock excludes other threads of this process too.
    let waiting = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return ServerTurn(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                assert!(
                    waiting.elapsed() < TURN_WAIT,
                    "{test}: waited {TURN_WAIT:?} for the Neo4j test server, whose lock {} another test holds",
                    path.display()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::Error(err)) => panic!("locking {}: {err}", path.display()),
        }
    }
}

async fn exec(graph: &Graph, cypher: &str) {
    graph
        .run(query(cypher))
        .await
        .unwrap_or_else(|err| panic!("{cypher}: {err}"));
}

async fn strings(graph: &Graph, cypher: &str) -> Vec<String> {
    let mut rows = graph
        .execute(query(cypher))
        .await
        .unwrap_or_else(|err| panic!("{cypher}: {err}"));
    let mut values = Vec::new();
    while let Some(row) = rows.next().await.unwrap_or_else(|err| panic!("{cypher}: {err}")) {
        values.push(row.get::<String>("name").expect("a string named name"));
    }
    values
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

async fn constraint_or_index_exists(graph: &Graph, name: &str) -> bool {
    let constraints = format!("SHOW CONSTRAINTS YIELD name WHERE name = '{name}' RETURN count(*) AS n");
    let indexes = format!("SHOW INDEXES YIELD name WHERE name = '{name}' RETURN count(*) AS n");
    count(graph, &constraints).await + count(graph, &indexes).await > 0
}

/// Every node, constraint and index gone, but the token lookup indexes
/// Neo4j creates itself.
async fn wipe(graph: &Graph) {
    // In batches, auto-commit: a test that left a large graph must not make
    // the next test's wipe exceed the server's transaction memory.
    exec(
        graph,
        "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
    )
    .await;
    for name in strings(graph, "SHOW CONSTRAINTS YIELD name RETURN name").await {
        exec(graph, &format!("DROP CONSTRAINT `{name}` IF EXISTS")).await;
    }
    let indexes = "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name";
    for name in strings(graph, indexes).await {
        exec(graph, &format!("DROP INDEX `{name}` IF EXISTS")).await;
    }
}

/// The one database, wiped, for one test.
struct Neo4jDb {
    graph: Graph,
    _turn: ServerTurn,
}

impl Neo4jDb {
    async fn take(test: &str) -> Option<Neo4jDb> {
        let graph = connect(test).await?;
        let turn = take_turn(test).await;
        wipe(&graph).await;
        Some(Neo4jDb { graph, _turn: turn })
    }

    async fn lock_nodes(&self) -> i64 {
        count(&self.graph, "MATCH (l:`__EmbeddedMigrationLock`) RETURN count(l) AS n").await
    }
}

impl TestDb for Neo4jDb {
    type Pool = Graph;
    /// A schema migration's statements commit together, in a transaction
    /// apart from its tracking writes: a failure rolls all of them back.
    const TRANSACTIONAL_DDL: bool = true;
    /// Schema and data cannot share a transaction: no group mode.
    const GROUP_MODE: bool = false;

    async fn fresh(test: &str) -> Option<Self> {
        Neo4jDb::take(test).await
    }

    fn pool(&self) -> &Graph {
        &self.graph
    }

    fn driver_error(err: &(dyn std::error::Error + 'static)) -> bool {
        err.is::<embedded_migrations::neo4rs::Error>()
    }

    /// Constraints, indexes (but lookup ones) and the labels nodes carry.
    async fn tables(&self) -> Vec<String> {
        let mut names = strings(&self.graph, "SHOW CONSTRAINTS YIELD name RETURN name").await;
        names.extend(
            strings(
                &self.graph,
                "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
            )
            .await,
        );
        names.extend(strings(&self.graph, "MATCH (n) UNWIND labels(n) AS name RETURN DISTINCT name").await);
        names.sort();
        names.dedup();
        names
    }

    async fn exec(&self, cypher: &str) {
        exec(&self.graph, cypher).await
    }

    async fn count(&self, cypher: &str) -> i64 {
        count(&self.graph, cypher).await
    }
}

backend_scenarios!(Neo4jDb);
fault_scenarios!(Neo4jDb);

/// The stub's scenarios, checked as against the stub, plus what only a
/// server shows: the writes themselves, a data migration's rollback, and
/// schema statements committed apart from data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_failures_roll_back_and_schema_runs_apart_from_data() {
    let Some(db) = Neo4jDb::take("data_failures_roll_back").await else {
        return;
    };
    let graph = &db.graph;
    // 001 a constraint (schema, a transaction of its own), 002 people (data).
    check_fresh(&GRAPH.run(graph).await.expect("fresh run"));
    assert_eq!(count(graph, "MATCH (p:Person) RETURN count(p) AS n").await, 2);
    assert!(constraint_or_index_exists(graph, "person_id").await);
    assert_eq!(db.lock_nodes().await, 0, "the lock is released");
    // IF NOT EXISTS keeps the tracking constraints idempotent.
    check_rerun(&GRAPH.run(graph).await.expect("re-run"));
    assert!(GRAPH.status(graph).await.expect("status").is_up_to_date());

    // The constraint refuses 003's second statement; its first is rolled back.
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
    assert_eq!(db.lock_nodes().await, 0, "the lock is released after a failure");

    check_drift(DRIFTED.run(graph).await);

    check_down(&GRAPH.down(graph, 1).await.expect("down"));
    assert_eq!(count(graph, "MATCH (p:Person) RETURN count(p) AS n").await, 0);
    let status = GRAPH.status(graph).await.expect("status");
    assert_eq!((status.current_version(), status.pending_count()), (1, 1));
    let history = GRAPH.history(graph).await.expect("history");
    assert_eq!(
        history.last().map(|h| (h.version, h.direction, h.success)),
        Some((2, Direction::Down, true))
    );
    GRAPH
        .validate(graph)
        .await
        .expect("the state node agrees with the records");
    GRAPH.down_to(graph, 0).await.expect("down to 0");
    assert!(!constraint_or_index_exists(graph, "person_id").await);
}

/// A schema migration failing at its second statement: its statements run
/// in one transaction, so the constraint its first statement created is
/// rolled back with it, the dirty mark is taken back, and the migration
/// stays pending with the failure in history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_failure_after_the_first_statement_rolls_back_the_whole_file() {
    let Some(db) = Neo4jDb::take("schema_failure_rolled_back").await else {
        return;
    };
    let graph = &db.graph;
    check_schema_failure(SCHEMA_FAILING.run(graph).await, 3, true);
    assert!(
        !constraint_or_index_exists(graph, "person_id").await,
        "the first statement was rolled back with the second"
    );
    let status = SCHEMA_FAILING.status(graph).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Pending, "{status:?}");
    let history = SCHEMA_FAILING.history(graph).await.expect("history");
    assert_eq!(
        history.iter().map(|h| (h.version, h.success)).collect::<Vec<_>>(),
        [(1, false)]
    );
    assert_eq!(db.lock_nodes().await, 0);
}

/// A schema migration whose first statement fails (an index already covers
/// the constraint's property): nothing was committed, so the dirty mark is
/// taken back and the migration stays pending, with the failure in history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_failure_of_the_first_statement_leaves_it_pending() {
    let Some(db) = Neo4jDb::take("schema_failure_clean").await else {
        return;
    };
    let graph = &db.graph;
    exec(graph, "CREATE INDEX person_id_taken FOR (p:Person) ON (p.id)").await;
    check_schema_failure(SCHEMA_FAILING.run(graph).await, 1, true);
    let status = SCHEMA_FAILING.status(graph).await.expect("status");
    assert_eq!(status.entries[0].state, MigrationState::Pending, "{status:?}");
    let history = SCHEMA_FAILING.history(graph).await.expect("history");
    assert_eq!(
        history.iter().map(|h| (h.version, h.success)).collect::<Vec<_>>(),
        [(1, false)]
    );
    assert!(!constraint_or_index_exists(graph, "person_id").await);
    assert_eq!(db.lock_nodes().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_set_applies_and_reverts() {
    let Some(db) = Neo4jDb::take("example_set").await else {
        return;
    };
    let graph = &db.graph;
    let report = EXAMPLE.run(graph).await.expect("the example set applies");
    assert_eq!(report.steps.len(), EXAMPLE.migrations().len());
    for name in [
        "user_id",
        "asset_symbol",
        "skill_name",
        "asset_sector",
        "memory_created_at",
        "holds_since",
    ] {
        assert!(constraint_or_index_exists(graph, name).await, "{name}");
    }
    assert_eq!(count(graph, "MATCH (s:Sector) RETURN count(s) AS n").await, 3);
    assert_eq!(
        count(graph, "MATCH (:Asset)-[r:IN_SECTOR]->(:Sector) RETURN count(r) AS n").await,
        7
    );
    assert_eq!(
        count(graph, "MATCH (s:Skill {name: 'options'}) RETURN s.level AS n").await,
        3
    );
    // 004 is a Rust code migration: the slugs are the application's rule.
    let slugged = "MATCH (s:Skill {name: 'risk management', slug: 'risk-management'}) RETURN count(s) AS n";
    assert_eq!(count(graph, slugged).await, 1);
    EXAMPLE.validate(graph).await.expect("valid");
    assert!(EXAMPLE.run(graph).await.expect("again").is_empty());
    EXAMPLE.down(graph, 1).await.expect("the code migration reverts");
    assert_eq!(
        count(graph, "MATCH (s:Skill) WHERE s.slug IS NOT NULL RETURN count(s) AS n").await,
        0
    );
    EXAMPLE.run(graph).await.expect("and applies again");
    assert_eq!(count(graph, slugged).await, 1);

    // A backup before down: Neo4j has none to write, so the down is
    // refused with the reason, and nothing is reverted.
    let backup = std::env::temp_dir().join(format!("em-neo4j-backup-{}", std::process::id()));
    let refused = EXAMPLE
        .down_with_backup(graph, 1, &embedded_migrations::Backup::to(&backup))
        .await
        .expect_err("Neo4j has no backup before down");
    assert!(
        matches!(refused, embedded_migrations::Error::BackupFailed { .. }),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(message.contains("Neo4j"), "{message}");
    assert!(message.contains("no backup this crate can write"), "{message}");
    assert!(message.contains("nothing was reverted"), "{message}");
    assert!(!backup.exists());
    assert_eq!(count(graph, slugged).await, 1);

    let report = EXAMPLE.down_to(graph, 0).await.expect("the example set reverts");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [4, 3, 2, 1]);
    for name in [
        "user_id",
        "asset_symbol",
        "skill_name",
        "asset_sector",
        "memory_created_at",
        "holds_since",
    ] {
        assert!(!constraint_or_index_exists(graph, name).await, "{name}");
    }
    assert_eq!(
        count(
            graph,
            "MATCH (n) WHERE n:Sector OR n:Asset OR n:Skill RETURN count(n) AS n"
        )
        .await,
        0
    );
    assert!(EXAMPLE
        .status(graph)
        .await
        .expect("status")
        .entries
        .iter()
        .all(|e| e.state == MigrationState::Pending));
}

/// A live lock times out with `LockTimeout` naming its holder and is left
/// alone; once expired, it is taken over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_times_out_naming_its_holder_and_an_expired_one_is_taken_over() {
    let Some(db) = Neo4jDb::take("held_lock").await else {
        return;
    };
    let graph = &db.graph;
    exec(
        graph,
        "CREATE (:`__EmbeddedMigrationLock` {id: 1, owner: 'other-host pid 1', acquired_at: datetime(), \
         expires_at: datetime() + duration({minutes: 5})})",
    )
    .await;
    let short = Settings::default().lock_timeout(Duration::from_secs(1));
    match GRAPH.with(short.clone()).run(graph).await {
        Err(Error::LockTimeout {
            backend: "Neo4j",
            holder: Some(holder),
            ..
        }) => assert!(holder.contains("`other-host pid 1`"), "{holder}"),
        other => panic!("expected LockTimeout naming the holder, got {other:?}"),
    }
    assert_eq!(
        count(
            graph,
            "MATCH (l:`__EmbeddedMigrationLock` {owner: 'other-host pid 1'}) RETURN count(l) AS n"
        )
        .await,
        1,
        "the holder keeps its lock"
    );
    assert_eq!(count(graph, "MATCH (p:Person) RETURN count(p) AS n").await, 0);

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
    assert_eq!(db.lock_nodes().await, 0, "released after the run");
}

/// The gate LONG's step waits for: a node this test keeps write-locked in
/// an open transaction until `open`.
struct Gate(Txn);

impl Gate {
    async fn close(graph: &Graph) -> Gate {
        exec(graph, "CREATE (:Gate {id: 1})").await;
        let mut txn = graph.start_txn().await.expect("a transaction");
        txn.run(query("MATCH (g:Gate {id: 1}) SET g.held = true"))
            .await
            .expect("write-locking the gate");
        Gate(txn)
    }

    async fn open(self) {
        self.0.commit().await.expect("releasing the gate");
    }
}

/// Waits until a transaction is blocked on the gate: a step is under way.
async fn wait_for_a_step_at_the_gate(graph: &Graph) {
    let blocked = "SHOW TRANSACTIONS YIELD currentQuery, status \
                   WHERE currentQuery CONTAINS 'MERGE (g:Gate' AND status STARTS WITH 'Blocked' RETURN count(*) AS n";
    let waiting = Instant::now();
    while count(graph, blocked).await == 0 {
        assert!(waiting.elapsed() < Duration::from_secs(60), "no step reached the gate");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A step longer than the lease: the heartbeat keeps the lock, so a
/// contender times out naming the holder, while the step still runs,
/// instead of taking the lock over; the step is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_holder_keeps_its_lock_through_a_step_longer_than_the_lease() {
    let Some(db) = Neo4jDb::take("long_step").await else {
        return;
    };
    let graph = &db.graph;
    // A 4 s timeout gives a 2 s lease, renewed every 667 ms: a little
    // slack for a machine under load. The contender keeps trying for 3 s,
    // past the lease: without renewals it would take the lock over.
    let settings = Settings::default().lock_timeout(Duration::from_secs(4));
    let lease = Duration::from_secs(2);
    let contender_settings = Settings::default().lock_timeout(Duration::from_secs(3));
    let migrator = LONG.with(settings);
    let holder_done = std::sync::atomic::AtomicBool::new(false);
    let gate = Gate::close(graph).await;
    let holder = async {
        let result = migrator.run(graph).await;
        holder_done.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    };
    let contender = async {
        wait_for_a_step_at_the_gate(graph).await;
        let result = LONG.with(contender_settings).run(graph).await;
        (result, holder_done.load(std::sync::atomic::Ordering::SeqCst))
    };
    // Keeps the step waiting three leases, then lets it (and a contender
    // that wrongly took the lock over) finish.
    let opener = async {
        wait_for_a_step_at_the_gate(graph).await;
        tokio::time::sleep(3 * lease).await;
        gate.open().await;
    };
    let (held, (contended, holder_was_done), ()) = tokio::join!(holder, contender, opener);
    let held = held.expect("the holder applies its long step");
    assert_eq!(held.steps.len(), 1);
    assert!(
        held.steps[0].duration > 2 * lease,
        "premise: the step ({:?}) outlasts the lease ({lease:?}) twice over",
        held.steps[0].duration
    );
    match contended {
        Err(Error::LockTimeout {
            holder: Some(holder), ..
        }) => assert!(holder.contains(&format!("pid {}", std::process::id())), "{holder}"),
        other => panic!("expected the contender to time out on the live lock, got {other:?}"),
    }
    assert!(
        !holder_was_done,
        "the contender gave up while the step ran, not after it"
    );
    assert_eq!(count(graph, "MATCH (l:Long) RETURN count(l) AS n").await, 1);
    let history = LONG.history(graph).await.expect("history");
    assert_eq!(history.iter().filter(|h| h.success).count(), 1, "{history:?}");
}

const ROLE_ENV: &str = "EMBEDDED_MIGRATIONS_NEO4J_CHILD";
const START_ENV: &str = "EMBEDDED_MIGRATIONS_NEO4J_CHILD_START_MS";
/// The lock timeout of the children that get killed: a 1 s lease.
const CHILD_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// The child half of the process tests, started by them. Children never
/// take the server turn: their parent holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that the process tests of this file start; fails alone"]
async fn child_process_entry() {
    let role = servers::child_role(ROLE_ENV);
    let graph = connect("child_process_entry").await.expect("the parent has a server");
    match role.as_str() {
        "boot" => {
            let start: u64 = std::env::var(START_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
            wait_until(start).await;
            let began = now_ms();
            let report = SLOW.run(&graph).await.unwrap_or_else(|err| panic!("child run: {err}"));
            // On lines of their own: libtest prints the test's name before them.
            println!("\nCHILD-SPAN {began} {}", now_ms());
            println!("\nCHILD-APPLIED {}", report.steps.len());
        }
        "crash" => {
            let settings = Settings::default().lock_timeout(CHILD_LOCK_TIMEOUT);
            let began = now_ms();
            CRASH
                .with(settings)
                .run(&graph)
                .await
                .unwrap_or_else(|err| panic!("child run: {err}"));
            // The parent's calibration run reads when the run itself began and ended.
            println!("\nCHILD-SPAN {began} {}", now_ms());
        }
        "long" => {
            let settings = Settings::default().lock_timeout(CHILD_LOCK_TIMEOUT);
            LONG.with(settings)
                .run(&graph)
                .await
                .unwrap_or_else(|err| panic!("child run: {err}"));
        }
        "backfill" => {
            // Prints the rows done at each progress event, for the parent to
            // kill it at; a 1 s lease, renewed throughout the long statement.
            let progress = |p: &Progress| {
                if let ProgressEvent::Batch(batch) = &p.event {
                    println!("\nBATCH {}", batch.rows);
                }
            };
            BACKFILL
                .with(Settings::default().lock_timeout(CHILD_LOCK_TIMEOUT))
                .on_progress(&progress)
                .run(&graph)
                .await
                .unwrap_or_else(|err| panic!("child run: {err}"));
            println!("\nCHILD-DONE");
        }
        other => panic!("unknown child role {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let Some(db) = Neo4jDb::take("sixteen_processes").await else {
        return;
    };
    let graph = &db.graph;
    let started = Instant::now();
    // Time enough for 16 processes to start on two cores before the instant.
    let start = now_ms() + 3000;
    let children: Vec<_> = (0..16)
        .map(|_| {
            spawn_child(
                "child_process_entry",
                &[(ROLE_ENV, "boot".into()), (START_ENV, start.to_string())],
            )
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("child output"))
        .collect();
    let applied: Vec<usize> = outputs.iter().map(|o| reported(o, "CHILD-APPLIED ")).collect();
    let spans: Vec<(u64, u64)> = outputs.iter().map(child_span).collect();
    eprintln!("applied per process: {applied:?}; {:?} in all", started.elapsed());
    assert_overlapped(&spans, start);
    let total = SLOW.migrations().len();
    assert_eq!(applied.iter().sum::<usize>(), total, "{applied:?}");
    assert_eq!(count(graph, "MATCH (s:Slow) RETURN count(s) AS n").await, total as i64);
    let history = SLOW.history(graph).await.expect("history");
    assert_eq!(
        history.len(),
        total,
        "each migration applied once, none failed: {history:?}"
    );
    assert!(history.iter().all(|h| h.success && h.direction == Direction::Up));
    SLOW.validate(graph).await.expect("valid after 16 boots");
    assert_eq!(db.lock_nodes().await, 0);
}

/// Waits until a child holds the lock (its pid in the owner), failing if
/// it exits first.
async fn wait_for_lock_of(graph: &Graph, child: &mut std::process::Child) {
    let owner = format!(
        "MATCH (l:`__EmbeddedMigrationLock`) WHERE l.owner CONTAINS ' pid {} ' RETURN count(l) AS n",
        child.id()
    );
    let waiting = Instant::now();
    while count(graph, &owner).await == 0 {
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the child exited before it took the lock"
        );
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "the child never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A holder killed mid-step: its lease (half its 2 s lock timeout) runs
/// out, and the next boot with the same timeout takes the lock over
/// instead of failing with `LockTimeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_holder_blocks_the_next_boot_no_longer_than_the_lock_timeout() {
    let Some(db) = Neo4jDb::take("crashed_holder").await else {
        return;
    };
    let graph = &db.graph;
    let gate = Gate::close(graph).await;
    let mut child = spawn_child("child_process_entry", &[(ROLE_ENV, "long".into())]);
    wait_for_lock_of(graph, &mut child).await;
    wait_for_a_step_at_the_gate(graph).await;
    child.kill().expect("SIGKILL the holder");
    child.wait().expect("the killed holder");
    gate.open().await;
    assert_eq!(
        count(
            graph,
            "MATCH (l:`__EmbeddedMigrationLock`) WHERE l.expires_at > datetime() RETURN count(l) AS n"
        )
        .await,
        1,
        "premise: the killed holder's lease was still in force"
    );
    assert_eq!(
        count(graph, "MATCH (l:Long) RETURN count(l) AS n").await,
        0,
        "killed mid-step"
    );
    let report = LONG
        .with(Settings::default().lock_timeout(CHILD_LOCK_TIMEOUT))
        .run(graph)
        .await
        .expect("the next boot takes the dead holder's lock within its lock timeout");
    assert_eq!(report.steps.len(), 1);
    assert_eq!(count(graph, "MATCH (l:Long) RETURN count(l) AS n").await, 1);
}

/// Whether each effect of CRASH's migration `version` is in the graph.
async fn crash_effects(graph: &Graph, version: i64) -> Vec<bool> {
    match version {
        1 | 3 => {
            let names: &[&str] = if version == 1 {
                &["crash_id", "crash_v"]
            } else {
                &["crash_w", "crash_x"]
            };
            let mut present = Vec::new();
            for name in names {
                present.push(constraint_or_index_exists(graph, name).await);
            }
            present
        }
        _ => vec![
            count(
                graph,
                &format!("MATCH (c:Crash {{id: {version}}}) RETURN count(c) AS n"),
            )
            .await
                == 1,
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_leaves_tracking_and_graph_in_agreement() {
    let Some(db) = Neo4jDb::take("sigkill").await else {
        return;
    };
    let graph = &db.graph;
    let mut rng = Rng::seeded();
    let settings = Settings::default().lock_timeout(Duration::from_secs(10));
    let crash = CRASH.with(settings);
    let started = Instant::now();
    // Rounds by how many migrations were recorded at the kill (0 to 4),
    // and rounds that left one dirty.
    let mut recorded_at_kill = [0usize; 5];
    let mut dirty_rounds = 0;
    const ROUNDS: usize = 20;
    // One child run to the end first: how long after its spawn the run
    // begins, and how long it lasts, on this machine under its current load.
    wipe(graph).await;
    let spawned = now_ms();
    let output = spawn_child("child_process_entry", &[(ROLE_ENV, "crash".into())])
        .wait_with_output()
        .expect("the calibration child");
    assert!(output.status.success(), "calibration child failed: {output:?}");
    let (began, ended) = child_span(&output);
    let (to_start, run) = (began.saturating_sub(spawned), ended.saturating_sub(began).max(1));
    eprintln!("calibration: the run begins {to_start} ms after the spawn and lasts {run} ms");
    for round in 0..ROUNDS {
        wipe(graph).await;
        let mut child = spawn_child("child_process_entry", &[(ROLE_ENV, "crash".into())]);
        // Kill anywhere from a little before the run begins to a little
        // after it ends, as measured above.
        let window = run + run / 5 + to_start / 5;
        tokio::time::sleep(Duration::from_millis(to_start * 4 / 5 + rng.below(window))).await;
        let _ = child.kill();
        let _ = child.wait();

        let status = crash.status(graph).await.expect("status");
        let mut recorded = 0;
        for entry in &status.entries {
            let (v, effects) = (entry.version, crash_effects(graph, entry.version).await);
            match entry.state {
                MigrationState::Applied => {
                    assert!(
                        effects.iter().all(|e| *e),
                        "round {round}: {v} is recorded, its effects are not all there"
                    );
                    recorded += 1;
                }
                MigrationState::Pending => {
                    assert!(
                        effects.iter().all(|e| !e),
                        "round {round}: {v} is not recorded, left {effects:?}"
                    );
                }
                MigrationState::Dirty => {
                    assert!(
                        v % 2 == 1,
                        "round {round}: data migration {v} is dirty: it runs in one transaction"
                    );
                    dirty_rounds += 1;
                    // A person's decision: done if everything is there, else
                    // forgotten and run again (its statements say IF NOT EXISTS).
                    if effects.iter().all(|e| *e) {
                        crash
                            .force(graph, v)
                            .await
                            .unwrap_or_else(|err| panic!("round {round}: force {v}: {err}"));
                        recorded += 1;
                    } else {
                        crash
                            .forget(graph, v)
                            .await
                            .unwrap_or_else(|err| panic!("round {round}: forget {v}: {err}"));
                    }
                }
                other => panic!("round {round}: {v} is {other:?} after a kill"),
            }
        }
        recorded_at_kill[recorded.min(4)] += 1;
        let report = crash
            .run(graph)
            .await
            .unwrap_or_else(|err| panic!("round {round}: the run after the kill: {err}"));
        assert_eq!(report.steps.len(), 4 - recorded, "round {round}");
        crash
            .validate(graph)
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        for v in 1..=4 {
            assert!(crash_effects(graph, v).await.iter().all(|e| *e), "round {round}: {v}");
        }
    }
    eprintln!(
        "migrations recorded when killed (0..=4): {recorded_at_kill:?}, dirty in {dirty_rounds} rounds; {:?} in all",
        started.elapsed()
    );
    let mid_run = recorded_at_kill[1..4].iter().sum::<usize>() + dirty_rounds;
    assert!(
        mid_run > 0,
        "premise: some kills landed mid-run: {recorded_at_kill:?}, {dirty_rounds} dirty"
    );
    assert!(
        recorded_at_kill[4] < ROUNDS,
        "premise: some kills landed before the end"
    );
}

/// `baseline` on a graph whose constraint (001) was made by hand: 001 is
/// recorded without running, in one transaction with its history node; `run`
/// then applies 002 only. `import` has no tool to read on Neo4j.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_adopts_a_graph_built_by_hand() {
    let Some(db) = Neo4jDb::take("baseline_adopts_a_graph_built_by_hand").await else {
        return;
    };
    let graph = &db.graph;
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
}

/// The nodes the backfill fixtures process.
const PEOPLE: i64 = 80_000;

async fn make_people(graph: &Graph) {
    exec(
        graph,
        &format!("UNWIND range(1, {PEOPLE}) AS i CREATE (:Person {{id: i}})"),
    )
    .await;
}

/// Starts a backfill child and SIGKILLs it once it reports `target` rows
/// done or more (`from` were done before it started); returns the rows it
/// last reported and the largest step between two of its reports (the rows
/// of one watch interval, which the caller leaves room for). Panics when
/// the child ends first: the kill must land mid-run.
fn kill_backfill_at(from: u64, target: u64) -> (u64, u64) {
    let mut child = spawn_child("child_process_entry", &[(ROLE_ENV, "backfill".into())]);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child stdout");
        if let Some(rows) = line.strip_prefix("BATCH ").and_then(|n| n.trim().parse::<u64>().ok()) {
            seen.push(rows);
            if rows >= target {
                child.kill().expect("SIGKILL the child");
                break;
            }
        }
    }
    let status = child.wait().expect("child exit");
    assert!(
        seen.last().is_some_and(|&rows| rows >= target),
        "the child ended ({status}) before {target} rows, the kill did not land mid-run: {seen:?}"
    );
    let step = std::iter::once(from)
        .chain(seen.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap_or(0);
    (*seen.last().expect("a progress line"), step)
}

/// Waits until the server no longer runs the backfill of a killed child:
/// it may commit one more inner transaction after the kill, before it
/// notices the connection is gone (seen once: 500 nodes more than were
/// counted right after the kill).
async fn wait_for_the_killed_backfill_to_end(graph: &Graph) {
    let running = "SHOW TRANSACTIONS YIELD currentQuery \
                   WHERE currentQuery CONTAINS 'p.work = work' AND NOT currentQuery CONTAINS 'SHOW TRANSACTIONS' \
                   RETURN count(*) AS n";
    let waiting = Instant::now();
    while count(graph, running).await > 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "the killed child's backfill still runs on the server after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every `Person` node: (processed once, processed more than once).
async fn processed(graph: &Graph) -> (i64, i64) {
    (
        count(graph, "MATCH (p:Person) WHERE p.processed = 1 RETURN count(p) AS n").await,
        count(graph, "MATCH (p:Person) WHERE p.processed > 1 RETURN count(p) AS n").await,
    )
}

/// Neo4j's form of a batch migration: a `CALL { ... } IN TRANSACTIONS`
/// backfill of `PEOPLE` nodes, its child SIGKILLed at a random progress
/// report 2 to 5 times, then run to the end here: every node processed
/// exactly once, the migration after it applied, progress monotonic, and
/// the lease (1 s in the children) kept through runs longer than it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_in_transactions_backfill_killed_then_completed_processes_each_node_once() {
    let Some(db) = Neo4jDb::take("call_in_transactions_backfill").await else {
        return;
    };
    let graph = &db.graph;
    make_people(graph).await;
    let mut rng = Rng::seeded();
    let kills = 3 + rng.below(3);
    let settings = Settings::default().lock_timeout(Duration::from_secs(20));
    let mut done_before = 0;
    // The rows of one watch interval (one progress report a second), the
    // largest seen so far; a guess until a child has reported twice.
    let mut step = 2_000;
    let mut killed = 0;
    for kill in 1..=kills {
        // A target leaving room for the kills still to come, for the
        // overshoot of one interval past the target, and for the final run
        // to report at least twice (the premise below): measured on this
        // machine's speed, not assumed. A child runs one interval at least
        // before its first report, so when the rest would leave the final
        // run too little, the kills stop early.
        let reserve = 4 * step as i64;
        if PEOPLE - done_before < reserve + step as i64 {
            break;
        }
        let room = (PEOPLE - done_before - reserve).max(1) as u64 / (kills - kill + 1);
        let from = done_before as u64;
        let (reported, seen_step) = kill_backfill_at(from, from + 1 + rng.below(room));
        step = step.max(seen_step);
        wait_for_the_killed_backfill_to_end(graph).await;
        let (once, twice) = processed(graph).await;
        assert_eq!(twice, 0, "kill {kill}: a node processed twice");
        assert!(
            once >= reported as i64 && once > done_before && once < PEOPLE,
            "kill {kill}: {once} nodes done, {reported} reported, {done_before} before"
        );
        let status = BACKFILL.with(settings.clone()).status(graph).await.expect("status");
        let entry = &status.entries[1];
        assert_eq!(
            entry.state,
            MigrationState::Pending,
            "kill {kill}: in progress is not dirty"
        );
        let checkpoint = entry.batch.expect("status shows the checkpoint node");
        assert!(
            checkpoint.rows >= reported && checkpoint.rows <= once as u64,
            "kill {kill}: checkpoint {checkpoint:?}, {reported} reported, {once} done"
        );
        let plan = BACKFILL.with(settings.clone()).plan(graph).await.expect("dry run");
        let batch = plan.steps[0].batch.as_ref().expect("the dry run describes the batch");
        assert_eq!(batch.size, 500, "OF 500 ROWS");
        assert_eq!(batch.total, Some((PEOPLE - once) as u64), "the count query, run now");
        assert_eq!(processed(graph).await, (once, 0), "the dry run changed nothing");
        eprintln!("kill {kill}: {reported} rows reported, {once} done, checkpoint {checkpoint:?}");
        done_before = once;
        killed += 1;
    }
    assert!(
        killed >= 2,
        "premise: the backfill was killed twice at least, {killed} kills fit ({step} rows a report)"
    );

    let events = Mutex::new(Vec::new());
    let progress = |p: &Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            events.lock().unwrap().push(*batch);
        }
    };
    // The last run with a 1 s lease, its lock node read meanwhile: the
    // heartbeat renews it through the long statement, it never expires.
    let finished = std::sync::atomic::AtomicBool::new(false);
    let run = async {
        let report = BACKFILL
            .with(Settings::default().lock_timeout(CHILD_LOCK_TIMEOUT))
            .on_progress(&progress)
            .run(graph)
            .await;
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
        report
    };
    let watch = async {
        let (mut seen, mut expired) = (0, 0);
        // This process's lock, not the killed child's left to expire.
        let ours = format!(
            "MATCH (l:`__EmbeddedMigrationLock`) WHERE l.owner CONTAINS ' pid {} '",
            std::process::id()
        );
        while !finished.load(std::sync::atomic::Ordering::Relaxed) {
            seen += count(graph, &format!("{ours} RETURN count(l) AS n")).await;
            expired += count(
                graph,
                &format!("{ours} AND l.expires_at < datetime() RETURN count(l) AS n"),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (seen, expired)
    };
    let (report, (seen, expired)) = tokio::join!(run, watch);
    let report = report.expect("the resumed run completes");
    assert!(
        seen >= 10,
        "premise: the run held the lock through 10 reads (2 s, twice its lease), saw {seen}"
    );
    assert_eq!(
        expired, 0,
        "the lease lapsed during the run ({expired} of {seen} reads)"
    );
    let versions: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [2, 3], "the batch migration, then the one after it");
    assert_eq!(processed(graph).await, (PEOPLE, 0), "every node exactly once");
    assert_eq!(
        count(graph, "MATCH (b:`__EmbeddedMigrationBatch`) RETURN count(b) AS n").await,
        0
    );
    BACKFILL.with(settings).validate(graph).await.expect("validate");
    let events = events.into_inner().unwrap();
    for pair in events.windows(2) {
        assert!(
            pair[1].rows > pair[0].rows && pair[1].batches >= pair[0].batches,
            "{pair:?}"
        );
    }
    for event in &events {
        assert_eq!(event.total, Some(PEOPLE as u64), "rows done before plus the count now");
        assert!(
            event.rows as i64 > done_before && event.rows <= PEOPLE as u64,
            "{event:?}"
        );
    }
    assert!(
        events.len() >= 2,
        "premise: the resumed run reported progress twice: {events:?}"
    );
    eprintln!(
        "the resumed run reported {} progress events, its lock read {seen} times",
        events.len()
    );
}

/// A failing inner transaction stops the run naming the migration and the
/// statement; the inner transactions committed before it stay, the
/// checkpoint node shows it in progress, nothing is recorded, and the
/// fixed file resumes where it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_inner_transaction_names_the_migration_and_keeps_what_committed() {
    let Some(db) = Neo4jDb::take("a_failing_inner_transaction").await else {
        return;
    };
    let graph = &db.graph;
    make_people(graph).await;
    let err = BACKFILL_FAILING
        .run(graph)
        .await
        .expect_err("division by zero at id 12345");
    // 001 applied before the backfill failed: the run reports it.
    let applied: Vec<i64> = err.applied().iter().map(|step| step.version).collect();
    assert_eq!(applied, [1], "{err:?}");
    let Error::MigrationFailed {
        version,
        name,
        statement,
        message,
        ..
    } = err.cause()
    else {
        panic!("{err:?}");
    };
    assert_eq!((*version, name.as_str()), (2, "backfill"), "{err}");
    assert!(statement.contains("IN TRANSACTIONS OF 500 ROWS"), "{statement}");
    assert!(
        message.contains("/ by zero") || message.contains("ArithmeticError"),
        "{message}"
    );
    assert!(message.contains("committed before the failure stay"), "{message}");
    let text = err.to_string();
    assert!(
        text.contains("batch(es) (12000 rows) committed before the failure and stay"),
        "{text}"
    );
    assert!(!text.contains("no statement of it committed"), "{text}");
    // Ids 1 to 12000 in 24 inner transactions; the 25th rolled back.
    assert_eq!(processed(graph).await, (12_000, 0));
    let status = BACKFILL_FAILING.status(graph).await.expect("status");
    assert_eq!(status.entries[1].state, MigrationState::Pending);
    assert_eq!(status.entries[1].batch.map(|c| c.rows), Some(12_000), "the checkpoint");
    assert_eq!(
        count(
            graph,
            "MATCH (m:`__EmbeddedMigration` {version: 2}) RETURN count(m) AS n"
        )
        .await,
        0
    );
    // The same migration, its statement fixed: resumes with the nodes left.
    let report = BACKFILL.run(graph).await.expect("the fixed statement completes");
    assert_eq!(report.steps.len(), 2);
    assert_eq!(processed(graph).await, (PEOPLE, 0), "every node exactly once");
}

/// Neo4j's own fault, seen once in the SIGKILL rounds: a child killed
/// while the server builds its `CREATE CONSTRAINT ... IF NOT EXISTS`
/// leaves the constraint's backing index there before the constraint, and
/// the same statement sent again at once (the next boot, after `forget`)
/// got `IndexWithNameAlreadyExists`. Made likely here: 300,000 nodes make
/// the index take a while to build, and the child is killed once the index
/// exists without its constraint. The next boot waits for the indexes and
/// applies everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_right_after_a_kill_mid_constraint_waits_for_the_index() {
    let Some(db) = Neo4jDb::take("a_boot_right_after_a_kill_mid_constraint").await else {
        return;
    };
    let graph = &db.graph;
    exec(
        graph,
        "UNWIND range(1, 300000) AS i CALL { WITH i CREATE (:Crash {id: -i}) } IN TRANSACTIONS OF 100000 ROWS",
    )
    .await;
    let index = "SHOW INDEXES YIELD name WHERE name = 'crash_id' RETURN count(*) AS n";
    let constraint = "SHOW CONSTRAINTS YIELD name WHERE name = 'crash_id' RETURN count(*) AS n";
    let mut child = spawn_child("child_process_entry", &[(ROLE_ENV, "crash".into())]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(graph, index).await == 0 {
        assert!(
            Instant::now() < deadline && child.try_wait().expect("child status").is_none(),
            "the child never started building the constraint"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("the killed child");
    assert_eq!(
        (count(graph, index).await, count(graph, constraint).await),
        (1, 0),
        "premise: the kill landed while the index existed without its constraint"
    );
    // At once, as a restarted pod would: 001 is dirty, forgotten, run again.
    let settings = Settings::default().lock_timeout(Duration::from_secs(30));
    CRASH
        .with(settings.clone())
        .forget(graph, 1)
        .await
        .expect("forget 001, dirty");
    let report = CRASH
        .with(settings.clone())
        .run(graph)
        .await
        .unwrap_or_else(|err| panic!("the boot right after the kill: {err}"));
    assert_eq!(report.steps.len(), 4);
    assert_eq!(count(graph, constraint).await, 1);
    CRASH.with(settings).validate(graph).await.expect("valid");
    // In batches: the next test's wipe deletes in one transaction.
    exec(
        graph,
        "MATCH (c:Crash) CALL { WITH c DETACH DELETE c } IN TRANSACTIONS OF 50000 ROWS",
    )
    .await;
}

/// A down run failing at its second statement, in a file that commits each
/// statement on its own (`migrate:no-transaction`): the dirty mark records
/// the direction, and the next run says "down".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_run_that_fails_halfway_is_reported_as_a_down_run() {
    static DOWN_FAILS: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_down_fails");
    let Some(db) = Neo4jDb::take("down_fails").await else {
        return;
    };
    let graph = &db.graph;
    DOWN_FAILS.run(graph).await.expect("up");
    let err = DOWN_FAILS
        .down(graph, 1)
        .await
        .expect_err("the down file fails at its second statement");
    assert!(
        matches!(
            err,
            Error::MigrationFailed {
                version: 1,
                line: 4,
                direction: Direction::Down,
                rolled_back: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !constraint_or_index_exists(graph, "down_b").await,
        "the first statement committed"
    );
    let err = DOWN_FAILS.run(graph).await.expect_err("dirty");
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Dirty {
                version: 1,
                direction: Direction::Down,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("its down run"), "{text}");
}

/// A file written as projects write it: constraints and an index, then a
/// backfill of the nodes already there. `migrate:no-transaction` lets it mix
/// them (without it the build refuses it, tests/ui/cypher_mixed_schema_and_data):
/// each statement commits on its own between the dirty mark and the record,
/// and the dry run says so. A backfill that breaks the new constraint then
/// leaves the migration dirty, naming its statement, with the schema kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_transaction_file_mixing_schema_and_data_applies_statement_by_statement() {
    static MIXED: CypherMigrations = embed_migrations!("tests/fixtures/neo4j_mixed");
    let Some(db) = Neo4jDb::take("mixed_no_transaction").await else {
        return;
    };
    let graph = &db.graph;
    exec(graph, "CREATE (:Person {name: 'Ada'}), (:Person {name: 'Grace'})").await;

    let plan = MIXED.plan(graph).await.expect("dry run");
    let step = &plan.steps[0];
    assert!(step.no_transaction, "each statement commits on its own");
    assert_eq!(step.statements.len(), 3, "{:?}", step.statements);
    assert_eq!(
        count(graph, "MATCH (p:Person) WHERE p.email IS NOT NULL RETURN count(p) AS n").await,
        0
    );

    let report = MIXED.run(graph).await.expect("the mixed file applies");
    assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1]);
    assert!(constraint_or_index_exists(graph, "person_email").await);
    assert!(constraint_or_index_exists(graph, "person_name").await);
    assert_eq!(
        strings(graph, "MATCH (p:Person) RETURN p.email AS name ORDER BY name").await,
        ["ada@example.org", "grace@example.org"]
    );
    assert!(MIXED.status(graph).await.expect("status").is_up_to_date());
    MIXED
        .validate(graph)
        .await
        .expect("the state node agrees with the records");
    assert_eq!(db.lock_nodes().await, 0, "the lock is released");

    MIXED.down_to(graph, 0).await.expect("the mixed down file reverts it");
    assert!(!constraint_or_index_exists(graph, "person_email").await);
    assert_eq!(
        count(graph, "MATCH (p:Person) WHERE p.email IS NOT NULL RETURN count(p) AS n").await,
        0
    );

    // Two people of one name: the backfill breaks the constraint that the
    // first statement committed.
    exec(graph, "CREATE (:Person {name: 'Ada'})").await;
    let err = MIXED.run(graph).await.expect_err("the backfill breaks the constraint");
    let text = err.to_string();
    match err.cause() {
        Error::MigrationFailed {
            version: 1,
            line: 5,
            rolled_back: false,
            message,
            ..
        } => assert!(message.contains("ConstraintValidationFailed"), "{text}"),
        other => panic!("expected MigrationFailed at line 5, got {other:?}"),
    }
    assert!(text.contains("the migration is marked dirty"), "{text}");
    assert!(
        constraint_or_index_exists(graph, "person_email").await,
        "the schema statements committed before the backfill failed"
    );
    match MIXED.run(graph).await {
        Err(Error::Dirty { version: 1, .. }) => {}
        other => panic!("expected Dirty, got {other:?}"),
    }
    assert_eq!(db.lock_nodes().await, 0);
}

/// neo4rs 0.8 offers Bolt 4.1 and 4.0 and nothing else, and Neo4j's Bolt
/// compatibility table marks 4.0-4.3 as removable in a later release. This
/// is the test that fails, saying so, on the day the server stops serving
/// them: it makes neo4rs's own handshake and checks the version chosen.
/// With NEO4J_TEST_VERSION set (CI sets it for each server), it also checks
/// that the server is that release, so a run meant for one Neo4j cannot
/// pass against another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_still_serves_the_bolt_version_neo4rs_speaks() {
    let Some((uri, ..)) = server("bolt_version") else {
        return;
    };
    let address = uri.rsplit("://").next().unwrap_or(&uri).to_string();
    let chosen = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).expect("connecting to NEO4J_TEST_URI");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Bolt's magic, then neo4rs 0.8's four offers: 4.1, 4.0, none, none.
        let handshake = [
            [0x60, 0x60, 0xB0, 0x17],
            [0, 0, 1, 4],
            [0, 0, 0, 4],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ];
        stream
            .write_all(&handshake.concat())
            .expect("sending the Bolt handshake");
        let mut chosen = [0u8; 4];
        match stream.read_exact(&mut chosen) {
            Ok(()) => chosen,
            // A server that serves none of the offers closes the connection.
            Err(err) => panic!("the server at {address} closed the Bolt handshake offering 4.1 and 4.0 ({err})"),
        }
    };
    assert!(
        chosen == [0, 0, 1, 4] || chosen == [0, 0, 0, 4],
        "the server at {address} no longer serves Bolt 4.1 or 4.0, the only versions neo4rs 0.8 speaks \
         (it answered {chosen:?}; [0, 0, 0, 0] means none): this Neo4j needs a neo4rs that speaks Bolt 5"
    );
    assert_eq!(
        chosen,
        [0, 0, 1, 4],
        "neo4rs prefers Bolt 4.1, which every Neo4j 4.4 and 5 serves"
    );

    let graph = connect("bolt_version").await.expect("the server was found above");
    let version = strings(
        &graph,
        "CALL dbms.components() YIELD versions RETURN versions[0] AS name",
    )
    .await;
    let version = version.first().expect("dbms.components() names the version");
    eprintln!("Neo4j {version} at {address}, over Bolt 4.1");
    if let Some(expected) = std::env::var("NEO4J_TEST_VERSION").ok().filter(|v| !v.is_empty()) {
        assert!(
            version.starts_with(&expected),
            "NEO4J_TEST_VERSION says {expected}, but the server at {address} is Neo4j {version}"
        );
    }
}

/// Rust code migrations on Neo4j: `001` a constraint, `002` a Rust file
/// writing nodes in the migration's transaction, `003` Cypher.
mod code_migrations {
    use super::*;

    static GOOD: CypherMigrations = embed_migrations!("tests/fixtures/code_neo4j", database = neo4j);
    static EDITED: CypherMigrations = embed_migrations!("tests/fixtures/code_neo4j_edited", database = neo4j);
    static FAILING: CypherMigrations = embed_migrations!("tests/fixtures/code_neo4j_failing", database = neo4j);
    static PANICKING: CypherMigrations = embed_migrations!("tests/fixtures/code_neo4j_panicking", database = neo4j);
    static BATCHED: CypherMigrations = embed_migrations!("tests/fixtures/code_neo4j_batch", database = neo4j);

    const ITEMS: &str = "MATCH (i:Item) RETURN count(i) AS n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_code_migration_applies_in_order_reverts_and_drifts() {
        let Some(db) = Neo4jDb::take("code_applies").await else {
            return;
        };
        let graph = &db.graph;
        let plan = GOOD.plan(graph).await.expect("plan");
        assert!(plan.steps[1].code && plan.steps[1].statements.is_empty(), "{plan:?}");
        let report = GOOD.run(graph).await.expect("run");
        assert_eq!(report.steps.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            count(
                graph,
                "MATCH (i:Item {note: 'n'}) WHERE i.name IN ['ALPHA', 'BETA'] RETURN count(i) AS n"
            )
            .await,
            2
        );
        GOOD.validate(graph).await.expect("recorded clean");
        GOOD.down(graph, 2)
            .await
            .expect("down reverts 003 and the code migration");
        assert_eq!(count(graph, ITEMS).await, 0, "its down function ran");
        GOOD.run(graph).await.expect("applies again");
        let err = EDITED.run(graph).await.expect_err("an edited code migration is drift");
        assert!(matches!(err, Error::Drift { version: 2, .. }), "{err}");
        GOOD.down_to(graph, 0).await.expect("clean up");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_code_migration_rolls_back_its_writes() {
        let Some(db) = Neo4jDb::take("code_fails").await else {
            return;
        };
        let graph = &db.graph;
        let err = FAILING.run(graph).await.expect_err("002 fails");
        let Error::CodeFailed {
            version: 2,
            panicked: false,
            rolled_back: true,
            ref message,
            ..
        } = *err.cause()
        else {
            panic!("expected the code migration's failure, got {err:?}")
        };
        assert!(message.contains("stopped halfway on purpose"), "{err}");
        assert!(
            std::error::Error::source(err.cause()).is_some(),
            "the function's error is the source"
        );
        assert_eq!(count(graph, ITEMS).await, 0, "the node it wrote was rolled back");
        assert_eq!(db.tracking_records().await, 1, "only 001 recorded");
        assert_eq!(GOOD.run(graph).await.expect("the fixed set applies").steps.len(), 2);
        GOOD.down_to(graph, 0).await.expect("clean up");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_code_migration_leaves_no_lock_and_no_record() {
        let Some(db) = Neo4jDb::take("code_panics").await else {
            return;
        };
        let graph = &db.graph;
        let err = PANICKING.run(graph).await.expect_err("002 panics");
        assert!(
            matches!(
                err.cause(),
                Error::CodeFailed {
                    version: 2,
                    panicked: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(count(graph, ITEMS).await, 0, "the node it wrote was rolled back");
        assert_eq!(db.tracking_records().await, 1, "only 001 recorded");
        assert_eq!(db.lock_nodes().await, 0, "the lock was released");
        assert_eq!(GOOD.run(graph).await.expect("the next boot applies").steps.len(), 2);
        GOOD.down_to(graph, 0).await.expect("clean up");
    }

    /// A batch code migration (`// migrate:batch size=1000` in `002_backfill.rs`):
    /// one transaction per call of `up`, with its checkpoint node. Batch 2
    /// meets an item marked bad: it is rolled back, batch 1 stays; fixed by
    /// hand, the next run resumes at batch 2 and records the migration.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_code_migration_commits_batch_by_batch_and_resumes() {
        let Some(db) = Neo4jDb::take("code_batches").await else {
            return;
        };
        let graph = &db.graph;
        let plan = BATCHED.plan(graph).await.expect("plan");
        let step = &plan.steps[1];
        assert!(step.code, "{step:?}");
        assert_eq!(step.batch.as_ref().map(|b| b.size), Some(1000), "{step:?}");

        let err = BATCHED.run(graph).await.expect_err("batch 2 meets the bad item");
        let Error::CodeFailed {
            version: 2,
            rolled_back: true,
            ref batches,
            ref message,
            ..
        } = *err.cause()
        else {
            panic!("expected the code migration's failure, got {err:?}")
        };
        assert!(message.contains("item 1501 is marked bad"), "{err}");
        let done = batches.as_deref().expect("the batch that stays");
        assert_eq!((done.batches, done.rows), (1, 1000));
        assert_eq!(count(graph, "MATCH (i:BItem {n: 1}) RETURN count(i) AS n").await, 1000);
        assert_eq!(db.tracking_records().await, 1, "only 001 recorded");
        let status = BATCHED.status(graph).await.expect("status");
        assert_eq!(status.entries[1].batch.map(|c| (c.batches, c.rows)), Some((1, 1000)));

        let fixed = "MATCH (i:BItem {id: 1501}) SET i.bad = false RETURN count(i) AS n";
        assert_eq!(count(graph, fixed).await, 1);
        let events = std::sync::Mutex::new(Vec::new());
        let progress = |p: &embedded_migrations::Progress| {
            if let embedded_migrations::ProgressEvent::Batch(batch) = &p.event {
                events.lock().unwrap().push(*batch);
            }
        };
        BATCHED
            .with(Settings::default())
            .on_progress(&progress)
            .run(graph)
            .await
            .expect("resumes");
        let events = events.into_inner().unwrap();
        let seen: Vec<(u64, u64)> = events.iter().map(|e| (e.batches, e.rows)).collect();
        assert_eq!(seen, [(2, 2000), (3, 2500)], "resumed after batch 1");
        assert_eq!(events[0].total, Some(2500), "the count query plus the rows done");
        assert_eq!(
            count(graph, "MATCH (i:BItem) WHERE i.n <> 1 RETURN count(i) AS n").await,
            0
        );
        assert_eq!(db.tracking_records().await, 2);
        BATCHED.validate(graph).await.expect("recorded clean");
        BATCHED.down(graph, 1).await.expect("down runs the plain `down`");
        assert_eq!(count(graph, "MATCH (i:BItem {n: 1}) RETURN count(i) AS n").await, 0);
        BATCHED.down_to(graph, 0).await.expect("clean up");
    }
}

/// A run dropped while the server works on its statement (a caller's
/// timeout, a cancelled request) leaves no pooled connection behind that
/// answers a later query with another query's answer. neo4rs hands a
/// connection back to its pool however it is dropped, even between a
/// request and its answer; the backend's exchanges run on tasks of their
/// own so that none is. Each round drops a run at another moment of its
/// course, then sends sixteen queries at once (a connection each) that
/// must each read their own answer, then finishes the run (once the
/// dropped run's lease expired) and reverts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_runs_leave_no_connection_answering_another_query() {
    let Some(db) = Neo4jDb::take("dropped_runs_leave_no_connection").await else {
        return;
    };
    let graph = &db.graph;
    // A dropped run's lock is taken over once its lease (2 s) expires.
    let settings = embedded_migrations::Settings::default().lock_timeout(Duration::from_secs(4));
    let slow = SLOW.with(settings);
    // The shortest of three runs after a first one (which creates the
    // tracking nodes and plans every query).
    let mut full = Duration::MAX;
    for calibration in 0..4 {
        let started = Instant::now();
        slow.run(graph).await.expect("a calibration run");
        if calibration > 0 {
            full = full.min(started.elapsed());
        }
        slow.down_to(graph, 0).await.expect("reverting a calibration run");
    }

    const ROUNDS: u32 = 12;
    let mut dropped = 0;
    for round in 0..ROUNDS {
        let delay = full.mul_f64(f64::from(round) / f64::from(ROUNDS));
        if tokio::time::timeout(delay, slow.run(graph)).await.is_err() {
            dropped += 1;
        }
        let queries: Vec<_> = (0..16i64)
            .map(|i| {
                let graph = graph.clone();
                tokio::spawn(async move {
                    let mut rows = graph.execute(query("RETURN $i AS n").param("i", i)).await?;
                    let mut got = Vec::new();
                    while let Some(row) = rows.next().await? {
                        got.push(row.get::<i64>("n").expect("a number named n"));
                    }
                    Ok::<_, embedded_migrations::neo4rs::Error>((i, got))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for query in queries {
            let answer = query.await.expect("the query's task");
            answers.push(answer.unwrap_or_else(|err| panic!("round {round}: {err}")));
        }
        for (i, got) in answers {
            assert_eq!(
                got,
                vec![i],
                "round {round} ({delay:?} into a {full:?} run): query {i} read another answer"
            );
        }
        let report = slow
            .run(graph)
            .await
            .unwrap_or_else(|err| panic!("round {round}: the run after: {err}"));
        assert!(report.steps.len() <= 3);
        slow.validate(graph)
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        slow.down_to(graph, 0)
            .await
            .unwrap_or_else(|err| panic!("round {round}: reverting: {err}"));
    }
    eprintln!("{dropped} of {ROUNDS} runs dropped before their end (a run took {full:?})");
    assert!(
        dropped >= ROUNDS / 2,
        "only {dropped} of {ROUNDS} runs were dropped before their end: the premise did not happen"
    );
}
