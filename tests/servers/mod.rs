//! What the server suites (tests/postgres.rs, tests/mysql.rs, and
//! tests/sqlite.rs where it applies) share beyond the scenarios: the server
//! from its URL variable, creating and dropping a test database (a whole
//! one, with its pool: `dbs`), child
//! processes (the test binary re-running one of its own tests as the child,
//! so no extra binary is built) booting at one instant, the lock-holder
//! timeout, password hygiene, the example set, and a small deterministic
//! random source for kill moments. Each test file keeps only its own cases.
#![allow(dead_code)]

// What differs between sqlx 0.9 and 0.8 for these helpers: compat/sqlx08
// builds the same suites on sqlx 0.8, and its build script sets `sqlx08`.
/// Text built at run time, for a query: 0.9 takes it marked as audited,
/// 0.8 as a `&str` (borrowed to the end of the statement that awaits it).
#[cfg(not(sqlx08))]
macro_rules! dynamic_sql {
    ($text:expr) => {
        sqlx::AssertSqlSafe($text)
    };
}
#[cfg(sqlx08)]
macro_rules! dynamic_sql {
    ($text:expr) => {
        &*$text
    };
}
/// A query's arguments: 0.8 gives them a lifetime, 0.9 none.
#[cfg(not(sqlx08))]
pub trait IntoArguments<'q, DB: sqlx::Database>: sqlx::IntoArguments<DB> {}
#[cfg(not(sqlx08))]
impl<DB: sqlx::Database, A: sqlx::IntoArguments<DB>> IntoArguments<'_, DB> for A {}
#[cfg(not(sqlx08))]
pub type Arguments<'q, DB> = <DB as sqlx::Database>::Arguments;
#[cfg(sqlx08)]
pub trait IntoArguments<'q, DB: sqlx::Database>: sqlx::IntoArguments<'q, DB> {}
#[cfg(sqlx08)]
impl<'q, DB: sqlx::Database, A: sqlx::IntoArguments<'q, DB>> IntoArguments<'q, DB> for A {}
#[cfg(sqlx08)]
pub type Arguments<'q, DB> = <DB as sqlx::Database>::Arguments<'q>;

#[macro_use]
pub mod code;
pub mod dbs;

use crate::support::{self, TestDb};
use embedded_migrations::backend::Database;
use embedded_migrations::{embed_migrations, Error, Migrations, Report, Settings, Sql};
use sqlx::{ConnectOptions, Connection};
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The wall-clock instant children wait for before they start, in ms.
pub const START_ENV: &str = "EMBEDDED_MIGRATIONS_CHILD_START_MS";

/// The server named by the URL in `variable`, or `None` after saying why.
pub fn server<O: FromStr>(variable: &str, test: &str) -> Option<O>
where
    O::Err: std::fmt::Display,
{
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(
            O::from_str(url.trim()).unwrap_or_else(|err| panic!("{variable} is not a URL this driver takes: {err}")),
        ),
        _ => {
            support::missing_backend(variable, test);
            None
        }
    }
}

/// Runs `sql` on a fresh connection to the server: creating a database.
pub async fn admin<O>(server: &O, sql: String)
where
    O: ConnectOptions,
    O::Connection: Sized,
    for<'c> &'c mut O::Connection: sqlx::Executor<'c, Database = <O::Connection as Connection>::Database>,
{
    let mut admin = server.connect().await.expect("connect to the server");
    sqlx::raw_sql(dynamic_sql!(sql))
        .execute(&mut admin)
        .await
        .expect("administer the test database");
    let _ = admin.close().await;
}

/// Drops a test database with `sql`, from `Drop` (which cannot await): on
/// a thread and runtime of its own, whatever runtime the test is in.
pub fn drop_database<O>(server: &O, sql: String, name: &str)
where
    O: ConnectOptions,
    O::Connection: Sized,
    for<'c> &'c mut O::Connection: sqlx::Executor<'c, Database = <O::Connection as Connection>::Database>,
{
    let server = server.clone();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let mut admin = server.connect().await.ok()?;
            sqlx::raw_sql(dynamic_sql!(sql)).execute(&mut admin).await.ok()
        })
    })
    .join();
    if !matches!(dropped, Ok(Some(_))) {
        eprintln!("could not drop test database {name}");
    }
}

/// `TestDb::exec` for every sqlx pool.
pub async fn exec<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, sql: &str)
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    sqlx::raw_sql(dynamic_sql!(sql.to_string()))
        .execute(pool)
        .await
        .expect("exec");
}

/// `TestDb::count` for every sqlx pool: the query's one integer.
pub async fn count<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, sql: String) -> i64
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'q> Arguments<'q, DB>: IntoArguments<'q, DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_scalar(dynamic_sql!(sql))
        .fetch_one(pool)
        .await
        .expect("count")
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Sleeps until the wall-clock instant `start_ms`, so that processes
/// started one after the other begin their work together.
pub async fn wait_until(start_ms: u64) {
    tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(now_ms()))).await;
}

/// In a child: waits for the instant its parent set in [`START_ENV`].
pub async fn wait_for_start() {
    let start: u64 = std::env::var(START_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    if now_ms() > start {
        eprintln!("child started {} ms late", now_ms() - start);
    }
    wait_until(start).await;
}

/// Starts this test binary running only the test `entry`, with `envs`.
/// Child entries are `#[ignore]`d (see [`child_role`]), hence
/// `--include-ignored`; `--exact` keeps it to that one.
pub fn spawn_child(entry: &str, envs: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args(["--exact", entry, "--include-ignored", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    command.spawn().expect("spawn the child process")
}

/// In a child entry: the role its parent gave in `variable`. A child entry
/// is a `#[test]` only so that the test binary can start it (no extra binary
/// to build); it is `#[ignore]`d, so a plain `cargo test` lists it as
/// ignored rather than green, and run on its own (`--ignored`) it fails here
/// instead of passing without checking anything.
pub fn child_role(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("not a test: a child process that a process test of this file starts with {variable} set")
    })
}

/// In a child booting with the others: waits for the instant its parent
/// set, runs `run`, and reports when its run began and ended (for
/// [`assert_overlapped`]) and how many migrations it applied.
pub async fn boot_child(run: impl std::future::Future<Output = Result<Report, Error>>) {
    wait_for_start().await;
    let began = now_ms();
    let report = run.await.unwrap_or_else(|err| panic!("child run: {err}"));
    // On a line of its own: libtest prints the test's name before it.
    println!("\nCHILD-SPAN {began} {}", now_ms());
    report_applied(&report);
}

/// The span `(began, ended)` in ms a child printed with `CHILD-SPAN`.
pub fn child_span(output: &Output) -> (u64, u64) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.split("CHILD-SPAN ").nth(1))
        .and_then(|span| {
            let mut parts = span.split_whitespace().map(|n| n.parse().ok());
            Some((parts.next()??, parts.next()??))
        })
        .unwrap_or_else(|| panic!("the child did not report its span:\n{stdout}"))
}

/// The premise of a test of processes booting at once: every child began its
/// run before the first one finished, so they all really met the lock (a
/// late start that finds nothing to do would pass the rest of the test).
pub fn assert_overlapped(spans: &[(u64, u64)], start: u64) {
    let last_start = spans.iter().map(|s| s.0).max().expect("spans");
    let first_end = spans.iter().map(|s| s.1).min().expect("spans");
    eprintln!(
        "last run began {} ms after the instant, first ended {} ms after it",
        last_start as i64 - start as i64,
        first_end as i64 - start as i64
    );
    assert!(
        last_start < first_end,
        "premise: every child began its run before the first one finished (no late start): {spans:?}"
    );
}

/// In a child: the line its parent reads (on a line of its own: libtest
/// prints the test's name before it).
pub fn report_applied(report: &Report) {
    println!("\nCHILD-APPLIED {}", report.steps.len());
}

/// The number a child printed after `marker`, failing with its output.
pub fn reported(output: &Output, marker: &str) -> usize {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    stdout
        .lines()
        .find_map(|line| line.split(marker).nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("child did not report `{marker}`:\n{stdout}\n{stderr}"))
}

/// Starts `count` children running `entry` with `envs`, all told to begin
/// at one instant `lead` from now, checks that their runs overlapped
/// (children report through [`boot_child`]), and returns how many
/// migrations each applied.
pub fn boot_at_once(entry: &str, envs: &[(&str, String)], count: usize, lead: Duration) -> Vec<usize> {
    let started = Instant::now();
    let start = now_ms() + lead.as_millis() as u64;
    let mut envs = envs.to_vec();
    envs.push((START_ENV, start.to_string()));
    let children: Vec<_> = (0..count).map(|_| spawn_child(entry, &envs)).collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("child output"))
        .collect();
    let applied: Vec<usize> = outputs.iter().map(|o| reported(o, "CHILD-APPLIED ")).collect();
    eprintln!("applied per process: {applied:?} in {:?}", started.elapsed());
    let spans: Vec<(u64, u64)> = outputs.iter().map(child_span).collect();
    assert_overlapped(&spans, start);
    applied
}

/// After processes booting at once: every migration of `table` applied
/// by exactly one of them, recorded once and clean.
pub async fn assert_each_applied_once<D: TestDb<Pool: Database<Language = Sql>>>(
    db: &D,
    table: &Migrations,
    applied: &[usize],
) {
    let total = table.migrations().len() as i64;
    assert_eq!(applied.iter().sum::<usize>() as i64, total, "{applied:?}");
    assert_eq!(db.count("SELECT count(*) FROM _embedded_migrations").await, total);
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations WHERE NOT dirty")
            .await,
        total
    );
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history WHERE direction = 'up' AND success")
            .await,
        total,
        "history shows each migration applied once"
    );
    assert_eq!(
        db.count("SELECT count(DISTINCT version) FROM _embedded_migrations_history")
            .await,
        total
    );
    table.validate(db.pool()).await.expect("valid after the boots");
}

/// While `holder` runs `slow` (which holds the lock for about two seconds):
/// a run with a 400 ms lock timeout fails with `LockTimeout` naming a
/// holder, and a zero timeout tries once without waiting; then the holder
/// finishes its one migration and a later run finds nothing to do.
/// Returns the first error, for the backend's own checks of the holder.
pub async fn lock_timeout_names_the_holder<P: Database<Language = Sql>>(
    slow: &'static Migrations,
    pool: &P,
    holder: tokio::task::JoinHandle<Result<Report, Error>>,
) -> Error {
    let timeout = Duration::from_millis(400);
    let err = slow
        .with(Settings::default().lock_timeout(timeout))
        .run(pool)
        .await
        .expect_err("the lock is held for two seconds");
    match &err {
        Error::LockTimeout {
            waited,
            holder: Some(_),
            ..
        } => assert!(*waited >= timeout && *waited < Duration::from_secs(2), "{waited:?}"),
        other => panic!("expected a lock timeout naming the holder, got {other}"),
    }
    eprintln!("{err}");
    // A zero timeout tries once and does not wait (for the two seconds the
    // holder still needs).
    let zero = slow
        .with(Settings::default().lock_timeout(Duration::ZERO))
        .run(pool)
        .await
        .expect_err("still held");
    assert!(
        matches!(zero, Error::LockTimeout { waited, .. } if waited < Duration::from_secs(1)),
        "{zero}"
    );
    let report = holder.await.expect("holder task").expect("holder run");
    assert_eq!(report.steps.len(), 1);
    assert!(slow.run(pool).await.expect("after the holder").is_empty());
    err
}

/// Connecting fails (a wrong password or database, or nobody answering at
/// the second URL): `run` and `status` say "connecting" and never show the
/// password.
pub async fn connection_errors_never_show_the_password<DB: sqlx::Database>(
    table: &Migrations,
    urls: [String; 2],
    secret: &str,
) where
    sqlx::Pool<DB>: Database<Language = Sql>,
{
    for url in urls {
        let pool = sqlx::pool::PoolOptions::<DB>::new()
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy(&url)
            .expect("lazy pool");
        for err in [
            table.run(&pool).await.expect_err("cannot connect"),
            table.status(&pool).await.expect_err("cannot connect"),
        ] {
            let text = format!("{err} / {err:?}");
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("connecting"), "{text}");
            eprintln!("{err}");
        }
    }
}

/// The example set of migrations/<db>: applies whole, its trigger works,
/// (with `positions`, the query of a user's net quantity) its view too, and
/// it reverts down to its irreversible 006.
pub async fn example_set_applies_and_reverts<D: TestDb<Pool: Database<Language = Sql>>>(
    db: &D,
    example: &Migrations,
    positions: Option<&str>,
) {
    // 008 is a Rust code migration: it normalises the addresses there are
    // and stores their SHA-256, which SQL does not do well.
    let before = example.migrations().len() as i64 - 1;
    example
        .run_to(db.pool(), before)
        .await
        .expect("example set applies up to its code migration");
    db.exec("INSERT INTO users (email, display_name) VALUES ('  Ann@Example.COM ', 'Ann')")
        .await;
    let report = example.run(db.pool()).await.expect("example set applies");
    assert_eq!(report.steps.len(), 1, "the code migration, applied in its place");
    let hashed = format!(
        "SELECT count(*) FROM users WHERE email = 'ann@example.com' AND email_hash = '{}'",
        sha256_hex("ann@example.com")
    );
    assert_eq!(db.count(&hashed).await, 1, "normalised and hashed by Rust");
    // Down drops the column (or a second up would fail to add it), up again.
    example.down(db.pool(), 1).await.expect("the code migration reverts");
    assert_eq!(example.status(db.pool()).await.expect("status").pending_count(), 1);
    example.run(db.pool()).await.expect("and applies again");
    assert_eq!(db.count(&hashed).await, 1, "hashed again");
    db.exec("INSERT INTO users (email, display_name) VALUES ('a@example.com', 'A')")
        .await;
    assert_eq!(
        db.count("SELECT count(*) FROM users WHERE timezone = 'UTC'").await,
        2,
        "the trigger works (Ann's row and this one)"
    );
    if let Some(positions) = positions {
        db.exec(
            "INSERT INTO portfolio_transactions (user_id, symbol, side, quantity, price, executed_at) \
             SELECT id, 'abc', 'buy', 3, 10, NOW() FROM users WHERE email = 'a@example.com'",
        )
        .await;
        assert_eq!(db.count(positions).await, 3);
    }
    example.down(db.pool(), 2).await.expect("revert the two newest");
    let err = example.down(db.pool(), 1).await.expect_err("006 is irreversible");
    assert!(matches!(err, Error::Irreversible { version: 6, .. }), "{err}");
    example.validate(db.pool()).await.expect("valid");
}

/// What the example sets' code migration stores for an address.
fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// BASE plus 004 create_d: the next release after BASE.
pub static EXTENDED: Migrations = embed_migrations!("tests/fixtures/extended");

/// Issue 13: three migrations applied, the state row edited by hand, a new
/// migration added. `run` looped for ever (on PostgreSQL running and
/// rolling back 004 in every round); now it and `down` stop at once with a
/// typed error, and 004 never runs.
pub async fn state_row_edited_by_hand_is_a_typed_error<D: TestDb<Pool: Database<Language = Sql>>>(db: &D) {
    crate::support::fixtures::BASE.run(db.pool()).await.expect("run");
    db.exec("UPDATE _embedded_migrations_state SET applied_count = 2 WHERE id = 1")
        .await;
    let within = Duration::from_secs(30);
    let run = tokio::time::timeout(within, EXTENDED.run(db.pool()))
        .await
        .expect("run returns instead of looping");
    match run {
        Err(Error::StateMismatch { recorded, rows, .. }) => {
            assert_eq!((recorded.applied_count, rows.applied_count), (2, 3))
        }
        other => panic!("expected a state mismatch, got {other:?}"),
    }
    let down = tokio::time::timeout(within, EXTENDED.down(db.pool(), 1))
        .await
        .expect("down returns instead of looping");
    assert!(matches!(down, Err(Error::StateMismatch { .. })), "{down:?}");
    assert!(
        !db.tables().await.iter().any(|t| t.eq_ignore_ascii_case("d")),
        "004 never ran"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM _embedded_migrations_history").await,
        3,
        "no run of 004 or of a down was attempted"
    );
    assert_eq!(db.count("SELECT count(*) FROM a").await, 2, "003 was not reverted");
}

/// xorshift64*: reproducible kill moments from a printed seed.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let seed = std::env::var("EMBEDDED_MIGRATIONS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| now_ms() ^ u64::from(std::process::id()) << 20);
        eprintln!("random seed: {seed} (set EMBEDDED_MIGRATIONS_SEED to replay)");
        Rng(seed | 1)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}
