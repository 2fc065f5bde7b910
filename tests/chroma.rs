//! The ChromaDB backend against a real Chroma server (`.ci/chroma.sh`:
//! PyPI's `chromadb`, `chroma run`): TOML step files and a Rust code
//! migration applied, reported, reverted and verified; a `copy` step's
//! batches and progress; a failed step left dirty; 16 processes booting at
//! once; a process killed between its change and its record.
//!
//! Needs CHROMA_TEST_URL (e.g. `http://127.0.0.1:8011`); without it each
//! test says loudly that it skipped, and with `CI=true` it fails instead.
//! Each test works in a database of its own in the default tenant, deleted
//! at the end.

#![cfg(feature = "chroma")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::chroma::ChromaClient;
use embedded_migrations::testkit::TestDatabase;
use embedded_migrations::{embed_migrations, Chroma, Error, Migrations, ProgressEvent, Settings};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SET: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma", database = chroma);
static FAILING: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma_failing");
static BATCH_CODE: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma_batch_code", database = chroma);
static LONG: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma_long", database = chroma);
static CRASH: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma_crash", database = chroma);

const URL_ENV: &str = "CHROMA_TEST_URL";
const DB_ENV: &str = "EMBEDDED_MIGRATIONS_CHROMA_CHILD_DB";
const ROLE_ENV: &str = "EMBEDDED_MIGRATIONS_CHROMA_CHILD";

/// A database of its own on the test server (the test kit's), deleted
/// when dropped; `None` after saying why when there is no server.
async fn take(test: &str) -> Option<TestDatabase<ChromaClient>> {
    let Ok(url) = std::env::var(URL_ENV) else {
        support::missing_backend(URL_ENV, test);
        return None;
    };
    let db = TestDatabase::chroma(&ChromaClient::new(url)).await;
    Some(db.expect("create the test database"))
}

async fn collections(client: &ChromaClient) -> Vec<String> {
    let all = client.list_collections().await.expect("list");
    all.into_iter().map(|c| c.name).collect()
}

const TRACKING: [&str; 3] = [
    "embedded_migrations",
    "embedded_migrations_checkpoints",
    "embedded_migrations_history",
];

#[tokio::test]
async fn steps_and_code_apply_report_revert_and_verify() {
    let Some(db) = take("apply").await else { return };
    let client = db.pool();

    let plan = SET.plan(client).await.expect("plan");
    assert_eq!(plan.steps.len(), 4);
    assert!(plan.steps[1].code, "{:?}", plan.steps[1]);
    assert!(
        plan.steps[0].statements[0].contains("op = \"create\""),
        "{:?}",
        plan.steps[0]
    );
    assert!(
        plan.steps[2].batch.is_some(),
        "the copy is a batch migration: {:?}",
        plan.steps[2]
    );
    assert!(collections(db.pool()).await.is_empty(), "the plan changed nothing");

    let report = SET.run(client).await.expect("run");
    assert_eq!(report.steps.len(), 4);
    let documents = client.get_collection("documents").await.unwrap().expect("001");
    assert_eq!(documents.configuration_json["hnsw"]["space"], "cosine");
    assert_eq!(documents.configuration_json["hnsw"]["ef_construction"], 200);
    assert_eq!(documents.metadata.as_ref().unwrap()["embedding_model"], "mini-v1");
    let live = client.get_collection("documents_live").await.unwrap().expect("004");
    assert_eq!(client.count(&live.id).await.unwrap(), 25, "003 copied every record");
    assert_eq!(live.configuration_json["hnsw"]["space"], "l2");
    assert_eq!(live.metadata.as_ref().unwrap()["live"], true);
    let copied = client
        .get(&live.id, Some(&["doc-07".to_string()]), None, 0)
        .await
        .unwrap();
    assert_eq!(copied.documents.unwrap()[0].as_deref(), Some("text of doc-07"));

    let status = SET.status(client).await.expect("status");
    assert_eq!(status.current_version(), 4);
    assert_eq!(status.pending_count(), 0);
    SET.validate(client).await.expect("recorded clean");
    assert_eq!(SET.history(client).await.unwrap().len(), 4);
    let before = client.requests_sent();
    assert!(SET.run(client).await.expect("again").steps.is_empty());
    assert_eq!(
        client.requests_sent() - before,
        1,
        "the boot check with nothing pending is one request"
    );

    SET.down_to(client, 1).await.expect("down to 1");
    let mut names = collections(db.pool()).await;
    names.retain(|n| !TRACKING.contains(&n.as_str()));
    assert_eq!(names, ["documents"]);
    assert_eq!(
        client.count(&documents.id).await.unwrap(),
        0,
        "002's down removed the records"
    );
    SET.down(client, 1).await.expect("down the last");
    let mut names = collections(db.pool()).await;
    names.retain(|n| !TRACKING.contains(&n.as_str()));
    assert!(names.is_empty(), "{names:?}");
    let history = SET.history(client).await.unwrap();
    assert_eq!(history.len(), 8, "{history:?}");

    let verified = SET.verify_reversible(client).await.expect("verify");
    assert_eq!(verified.checked.len(), 4, "{verified:?}");
}

#[tokio::test]
async fn a_copy_reports_its_batches() {
    let Some(db) = take("copy").await else { return };
    let rows = Mutex::new(Vec::new());
    let progress = |p: &embedded_migrations::Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            rows.lock().unwrap().push((batch.rows, batch.total));
        }
    };
    SET.with(Settings::default())
        .on_progress(&progress)
        .run_to(db.pool(), 3)
        .await
        .expect("run");
    assert_eq!(
        *rows.lock().unwrap(),
        [(10, Some(25)), (20, Some(25)), (25, Some(25))],
        "batches of 10 from 25 records"
    );
}

#[tokio::test]
async fn a_failed_step_leaves_the_migration_dirty_with_the_steps_done() {
    let Some(db) = take("dirty").await else { return };
    let client = db.pool();
    let err = FAILING.run(client).await.expect_err("002's second step fails");
    let Error::MigrationFailed {
        version: 2,
        ref statement,
        line,
        rolled_back: false,
        committed: 1,
        ref message,
        ..
    } = *err.cause()
    else {
        panic!("expected 002 to fail at its second step: {err:?}")
    };
    assert_eq!(&**statement, "create \"documents\"");
    assert_eq!(line, 6);
    assert!(message.contains("already exists"), "{message}");
    let again = FAILING.run(client).await.expect_err("dirty");
    assert!(matches!(again.cause(), Error::Dirty { version: 2, .. }), "{again}");
    // Steps are counted as a SQL file's statements are, at their lines.
    assert!(
        again
            .to_string()
            .contains("after statements 1-1 of 2 committed (lines 2); nothing from statement 2 (line 6)"),
        "{again}"
    );
    assert!(client.get_collection("notes").await.unwrap().is_some(), "step 1 stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process that the process tests of this file start; fails alone"]
async fn child_process_entry() {
    let role = servers::child_role(ROLE_ENV);
    let url = std::env::var(URL_ENV).expect("the parent has a server");
    let client = ChromaClient::new(url).database_named(std::env::var(DB_ENV).expect("database"));
    match role.as_str() {
        "boot" => servers::boot_child(SET.run(&client)).await,
        "crash" => {
            let settings = Settings::default().lock_timeout(Duration::from_secs(2));
            CRASH.with(settings).run(&client).await.expect("never returns: killed");
        }
        "copy" => {
            // Stalls after the copy's first batch, for the parent to kill it there.
            let progress = |p: &embedded_migrations::Progress| {
                if let ProgressEvent::Batch(batch) = &p.event {
                    println!("\nBATCH {}", batch.rows);
                    std::thread::sleep(Duration::from_secs(600));
                }
            };
            let settings = Settings::default().lock_timeout(Duration::from_secs(2));
            SET.with(settings)
                .on_progress(&progress)
                .run_to(&client, 3)
                .await
                .expect("killed first");
        }
        other => panic!("unknown child role {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_processes_booting_at_once_apply_each_migration_once() {
    let Some(db) = take("sixteen").await else { return };
    let envs = [
        (ROLE_ENV, "boot".to_string()),
        (DB_ENV, db.pool().database().to_string()),
    ];
    let applied = servers::boot_at_once("child_process_entry", &envs, 16, Duration::from_secs(3));
    assert_eq!(applied.iter().sum::<usize>(), 4, "{applied:?}");
    let history = SET.history(db.pool()).await.expect("history");
    assert_eq!(history.len(), 4, "each migration applied once: {history:?}");
    assert!(history.iter().all(|h| h.success));
    SET.validate(db.pool()).await.expect("valid after 16 boots");
    let live = db.pool().get_collection("documents_live").await.unwrap().unwrap();
    assert_eq!(db.pool().count(&live.id).await.unwrap(), 25);
    assert!(
        !collections(db.pool())
            .await
            .contains(&"embedded_migrations_lock".to_string()),
        "lock released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_between_its_change_and_its_record_is_found_dirty() {
    let Some(db) = take("killed").await else { return };
    let client = db.pool();
    let mut child = servers::spawn_child(
        "child_process_entry",
        &[(ROLE_ENV, "crash".to_string()), (DB_ENV, client.database().to_string())],
    );
    // The premise: the change happened (its collection exists), the record
    // did not (the function is still running).
    let waiting = Instant::now();
    while client.get_collection("half_done").await.unwrap().is_none() {
        assert!(child.try_wait().unwrap().is_none(), "the child exited early");
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "the child never made its change"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert!(
        collections(db.pool())
            .await
            .contains(&"embedded_migrations_lock".to_string()),
        "killed holding the lock"
    );

    // The next boot takes over the expired lock and finds the dirty mark.
    let settings = Settings::default().lock_timeout(Duration::from_secs(10));
    let err = CRASH.with(settings.clone()).run(client).await.expect_err("dirty");
    let Error::Dirty { version: 1, .. } = err.cause() else {
        panic!("expected 001 reported dirty: {err:?}")
    };
    let status = CRASH.status(client).await.expect("status");
    assert_eq!(status.entries[0].state, embedded_migrations::MigrationState::Dirty);
    // Settled by hand: the change is complete as far as it matters here.
    CRASH.with(settings.clone()).force(client, 1).await.expect("force");
    CRASH.with(settings).validate(client).await.expect("clean once forced");
}

#[tokio::test]
async fn baseline_repair_and_the_command_line_over_targets() {
    let Some(db) = take("targets").await else { return };
    let client = db.pool();
    // Collections made before the tool: 001 recorded as applied, not run.
    client.create_collection("documents", None, None).await.unwrap();
    SET.baseline(client, 1).await.expect("baseline");
    assert_eq!(SET.status(client).await.unwrap().current_version(), 1);

    let targets = embedded_migrations::Targets::new().add("chroma", &SET, client.clone());
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let code =
        embedded_migrations::cli::targets_from_args(&targets, args(&["migrate", "--only", "chroma", "up"])).await;
    assert_eq!(code, 0);
    assert_eq!(SET.status(client).await.unwrap().current_version(), 4);

    // The state edited by hand: `repair` rewrites it from the records.
    let tracking = client.get_collection("embedded_migrations").await.unwrap().unwrap();
    let mut state = tracking.metadata.unwrap();
    state.insert("applied_count".into(), 9.into());
    client
        .modify_collection(&tracking.id, None, Some(&state))
        .await
        .unwrap();
    let err = SET.run(client).await.expect_err("the state disagrees with the records");
    assert!(matches!(err.cause(), Error::StateMismatch { .. }), "{err}");
    SET.repair(client).await.expect("repair");
    SET.validate(client).await.expect("valid once repaired");

    let err = SET
        .with(Settings::default().schema("x"))
        .run(client)
        .await
        .expect_err("no schemas on Chroma");
    assert!(err.to_string().contains("database_named"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_killed_after_a_batch_resumes_from_its_checkpoint() {
    use std::io::BufRead;
    let Some(db) = take("resume").await else { return };
    let client = db.pool();
    let mut child = servers::spawn_child(
        "child_process_entry",
        &[(ROLE_ENV, "copy".to_string()), (DB_ENV, client.database().to_string())],
    );
    let stdout = child.stdout.take().expect("piped");
    let lines = std::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.expect("child output");
        seen.push(line.clone());
        if line.starts_with("BATCH 10") {
            break;
        }
    }
    assert_eq!(
        seen.last().map(String::as_str),
        Some("BATCH 10"),
        "the child reported its first batch: {seen:?}"
    );
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    // The premise: one batch copied, the migration not recorded.
    let v2 = client
        .get_collection("documents_v2")
        .await
        .unwrap()
        .expect("the copy began");
    assert_eq!(client.count(&v2.id).await.unwrap(), 10);
    let status = SET.status(client).await.unwrap();
    assert_eq!(status.current_version(), 2, "003 is not recorded");
    assert_eq!(
        status.entries[2].batch.map(|c| c.rows),
        Some(10),
        "its checkpoint: {:?}",
        status.entries[2]
    );

    let rows = Mutex::new(Vec::new());
    let progress = |p: &embedded_migrations::Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            rows.lock().unwrap().push(batch.rows);
        }
    };
    let settings = Settings::default().lock_timeout(Duration::from_secs(10));
    SET.with(settings)
        .on_progress(&progress)
        .run_to(client, 3)
        .await
        .expect("resumes");
    assert_eq!(*rows.lock().unwrap(), [20, 25], "from the checkpoint on");
    assert_eq!(client.count(&v2.id).await.unwrap(), 25, "no record twice");
    SET.validate(client).await.expect("recorded clean");
}

#[tokio::test]
async fn a_batch_code_migration_runs_batch_by_batch() {
    let Some(db) = take("batch_code").await else { return };
    let client = db.pool();
    let rows = Mutex::new(Vec::new());
    let progress = |p: &embedded_migrations::Progress| {
        if let ProgressEvent::Batch(batch) = &p.event {
            rows.lock().unwrap().push(batch.rows);
        }
    };
    BATCH_CODE
        .with(Settings::default())
        .on_progress(&progress)
        .run(client)
        .await
        .expect("run");
    assert_eq!(*rows.lock().unwrap(), [10, 20, 25]);
    let documents = client.get_collection("documents").await.unwrap().unwrap();
    assert_eq!(client.count(&documents.id).await.unwrap(), 25);
    BATCH_CODE.validate(client).await.expect("recorded clean");
    BATCH_CODE.down(client, 1).await.expect("its down");
    assert_eq!(client.count(&documents.id).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_holder_keeps_its_lease_through_a_long_step() {
    let Some(db) = take("lease").await else { return };
    let client = db.pool().clone();
    // A 1 s lease (half the lock timeout), a 4 s step.
    let short = Settings::default().lock_timeout(Duration::from_secs(2));
    let holder = {
        let (client, short) = (client.clone(), short.clone());
        tokio::spawn(async move { LONG.with(short).run(&client).await })
    };
    let waiting = Instant::now();
    while !collections(&client)
        .await
        .contains(&"embedded_migrations_lock".to_string())
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the holder never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = LONG.with(short).run(&client).await.expect_err("the lease is renewed");
    let Error::LockTimeout {
        holder: Some(ref who), ..
    } = *err.cause()
    else {
        panic!("expected the contender to time out naming the holder: {err:?}")
    };
    assert!(who.contains("embedded_migrations_lock"), "{who}");
    assert!(!holder.is_finished(), "the contender gave up while the step ran");
    let report = holder.await.unwrap().expect("the holder finishes");
    assert_eq!(report.steps.len(), 1);
    let history = LONG.history(&client).await.unwrap();
    assert_eq!(history.iter().filter(|h| h.success).count(), 1, "{history:?}");
}

#[tokio::test]
async fn the_schema_record_sees_a_collection_changed_by_hand() {
    let Some(db) = take("schema").await else { return };
    let client = db.pool();
    SET.run_recording_schema(client).await.expect("run and record");
    let check = SET.check_schema(client).await.expect("check");
    assert!(check.is_unchanged(), "{:?}", check.diff);
    let snapshot = check.record.as_ref().unwrap().snapshot.text();
    assert!(snapshot.contains("documents_live"), "{snapshot}");
    assert!(
        snapshot.contains("\"space\":\"cosine\""),
        "the configuration is in it: {snapshot}"
    );
    assert!(
        !snapshot.contains("embedded_migrations"),
        "no tracking collection: {snapshot}"
    );

    // Metadata changed outside any migration.
    let live = client.get_collection("documents_live").await.unwrap().unwrap();
    let mut metadata = live.metadata.unwrap();
    metadata.insert("live".into(), false.into());
    client.modify_collection(&live.id, None, Some(&metadata)).await.unwrap();
    let check = SET.check_schema(client).await.expect("check");
    assert!(!check.is_unchanged(), "the edit is seen");
}

/// Placeholders in a TOML file's string values: the collection name and a
/// metadata value substituted, `$${` kept as written, the values recorded
/// in the history, and a missing one refused before anything.
#[tokio::test]
async fn placeholders_fill_string_values() {
    static PLACEHOLDERS: Migrations<Chroma> = embed_migrations!("tests/fixtures/chroma_placeholders");
    let Some(db) = take("placeholders").await else { return };
    let client = db.pool();
    let partial = PLACEHOLDERS.with(Settings::default().placeholder("tenant", "acme"));
    let err = partial.run(client).await.expect_err("no model");
    assert!(
        matches!(&err, Error::MissingPlaceholders { missing } if missing[0].name == "model"),
        "{err:?}"
    );
    assert!(collections(client).await.is_empty(), "nothing was created");

    let set = PLACEHOLDERS.with(
        Settings::default()
            .placeholder("tenant", "acme")
            .placeholder("model", "mini-v2"),
    );
    set.run(client).await.expect("run");
    let docs = client.get_collection("docs_acme").await.unwrap().expect("docs_acme");
    let metadata = docs.metadata.as_ref().unwrap();
    assert_eq!(metadata["embedding_model"], "mini-v2");
    assert_eq!(metadata["note"], "${model} is written so");
    let history = set.history(client).await.unwrap();
    assert_eq!(
        history[0].placeholders.as_deref(),
        Some(r#"{"model": "mini-v2", "tenant": "acme"}"#)
    );
    set.down(client, 1).await.expect("down");
    assert!(client.get_collection("docs_acme").await.unwrap().is_none());
}
