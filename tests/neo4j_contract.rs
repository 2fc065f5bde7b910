//! Bolt contract tests: the runtime against Neo4j's stub server (boltkit's
//! `boltstub`), which plays a script of the exact conversation it expects
//! (tests/bolt/*.script) and fails on any difference. Each test checks both
//! what the runtime returned and that the stub got through its whole script:
//! a client that sends more than the script gets an error while the stub
//! exits 0, one that stops early or sends something else makes it exit 1.
//!
//! `bash .ci/boltkit.sh` installs the stub into `.venv-bolt`; `BOLTSTUB`
//! points elsewhere. Without it the tests skip loudly, or fail when `CI` is
//! set.
//!
//! What a stub cannot prove (that Neo4j accepts the Cypher, constraints,
//! isolation, rollback of writes, the lock under concurrent boots and
//! kills) is the real-server suite's part: tests/neo4j_server.rs, which
//! runs every scenario against Neo4j 5.26. The stub keeps only what pins
//! the conversation itself, which a real server accepts in many shapes:
//! - `fresh_run`: the whole first run, message by message: one connection,
//!   a schema step's statements in a transaction of their own (the
//!   tracking constraints too), a data step's
//!   statements, guard and tracking writes in one, the lease parameter;
//! - `rerun`: the boot check of an up-to-date graph is one query, no lock;
//! - `schema_failure_clean`: a schema step whose first statement fails
//!   takes its dirty mark back, in that order;
//! - `a_graph_runs_cypher_tables_only`: the type-level rule, no stub.
//!
//! Dropped because the real suite proves the same outcomes on a server:
//! the data failure's rollback (`failure.script`), down, drift, a held
//! lock naming its holder, and a schema failure left dirty.

#![cfg(feature = "neo4j")]

mod neo4j_common;

use embedded_migrations::__PinnedNeo4jGraph as PinnedGraph;
use embedded_migrations::neo4rs::{ConfigBuilder, Graph};
use neo4j_common::{check_fresh, check_rerun, check_schema_failure, GRAPH, SCHEMA_FAILING};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The owner and time the scripts expect (see `PinnedGraph`).
const OWNER: &str = "contract-test";
const NOW: &str = "2026-11-23T09:30:00.000Z";

/// Generous for a stub on a busy machine, short of neo4rs 0.8's 26 s of
/// reconnect backoff, so a hang fails fast instead of waiting it out.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(30);

fn boltstub() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BOLTSTUB") {
        return Some(PathBuf::from(path));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-bolt/bin/boltstub");
    path.exists().then_some(path)
}

/// The stub, or `None` after saying loudly why the test does not run.
fn stub_or_skip(test: &str) -> Option<PathBuf> {
    match boltstub() {
        Some(path) => Some(path),
        None if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("boltstub not found and CI is set: run `bash .ci/boltkit.sh` first (or set BOLTSTUB)")
        }
        None => {
            // Past libtest's capture of eprintln!: a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: boltstub not found; run `bash .ci/boltkit.sh` (or set BOLTSTUB) \
                 to run the Neo4j Bolt contract tests ***\n"
            );
            None
        }
    }
}

struct Stub {
    child: Child,
    port: u16,
    /// Everything the stub printed after its `Listening` line.
    output: mpsc::Receiver<String>,
    /// Ends at the end of the stub's stdout: joined before the log is read.
    reader: std::thread::JoinHandle<()>,
}

impl Stub {
    /// Starts `boltstub PORT tests/bolt/<script>` and returns once it prints
    /// that it listens. Probing the port instead would count as one of the
    /// scripted connections and break the script.
    fn start(boltstub: &PathBuf, script: &str) -> Stub {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bolt")
            .join(script);
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("its address").port()
        };
        let mut child = Command::new(boltstub)
            .arg(port.to_string())
            .arg(&script)
            // Python buffers a piped stdout; the Listening line must come now.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", boltstub.display()));
        let (lines, output) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (errors, error_output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = errors.send(text);
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match output.recv_timeout(left) {
                Ok(line) if line.contains("Listening") => break,
                Ok(_) => continue,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let stderr = error_output.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
                    panic!("boltstub did not start listening on {port} within 15 s:\n{stderr}");
                }
            }
        }
        Stub {
            child,
            port,
            output,
            reader,
        }
    }

    /// Waits for the stub to exit (it does once the client disconnects) and
    /// returns its exit code and output.
    fn finish(mut self) -> (i32, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    break self.child.wait().expect("the killed stub");
                }
            }
        };
        // The mismatch check reads the whole log, so wait for its last line.
        let _ = self.reader.join();
        let log: Vec<String> = self.output.try_iter().collect();
        (status.code().unwrap_or(-1), log.join("\n"))
    }
}

/// Runs `scenario` against the stub playing `script`, then checks the stub
/// played all of it. Returns what the scenario returned.
fn converse<T: std::fmt::Debug>(
    test: &str,
    script: &str,
    scenario: impl AsyncFnOnce(&PinnedGraph<'_>) -> T,
) -> Option<T> {
    let boltstub = stub_or_skip(test)?;
    let stub = Stub::start(&boltstub, script);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = ConfigBuilder::default()
        .uri(format!("127.0.0.1:{}", stub.port))
        .user("neo4j")
        .password("secret")
        .build()
        .expect("a valid neo4rs config");
    let result = runtime.block_on(async {
        // The pool connects on first use: nothing reaches the stub before the scenario.
        let graph = Graph::connect(config).await.expect("a graph handle");
        let pinned = PinnedGraph {
            graph: &graph,
            owner: OWNER,
            now: NOW,
        };
        // Dropping the graph at the end closes the connection, which ends the stub's conversation.
        tokio::time::timeout(SCENARIO_TIMEOUT, scenario(&pinned)).await
    });
    drop(runtime);
    let (code, log) = stub.finish();
    let result = result.unwrap_or_else(|_| panic!("{test}: no answer within {SCENARIO_TIMEOUT:?}; stub said:\n{log}"));
    // A client that sends more than the script leaves the stub with nothing
    // left to match, so it exits 0: its log is the only trace of that.
    assert!(
        code == 0 && !log.contains("Message mismatch"),
        "{test}: the stub did not get the scripted conversation (exit {code}); the runtime returned {result:?}; stub said:\n{log}"
    );
    Some(result)
}

#[test]
fn fresh_run_takes_the_lock_creates_tracking_and_applies_each_migration() {
    let Some(result) = converse("fresh run", "fresh_run.script", async |graph| GRAPH.run(graph).await) else {
        return;
    };
    check_fresh(&result.expect("the fresh run succeeds"));
}

#[test]
fn rerun_reads_one_node_and_applies_nothing() {
    let Some(result) = converse("re-run", "rerun.script", async |graph| GRAPH.run(graph).await) else {
        return;
    };
    check_rerun(&result.expect("the re-run succeeds"));
}

#[test]
fn schema_failure_of_the_first_statement_takes_the_dirty_mark_back() {
    let Some(result) = converse(
        "schema failure, first statement",
        "schema_failure_clean.script",
        async |graph| SCHEMA_FAILING.run(graph).await,
    ) else {
        return;
    };
    check_schema_failure(result, 1, true);
}

/// `neo4rs::Graph` is a Cypher database, so a SQL table on it does not
/// compile (tests/ui/sql_table_on_cypher_database.rs shows the error).
#[test]
fn a_graph_runs_cypher_tables_only() {
    fn cypher_database<D: embedded_migrations::backend::Database<Language = embedded_migrations::Cypher>>() {}
    cypher_database::<Graph>();
}
