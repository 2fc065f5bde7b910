//! The fault-injection suite, written once for every backend: each tamper
//! of the tracking tables a person (or a partial restore) can make, then
//! `run`, `status`, `validate`, a newer binary's `run` and `repair`, each
//! under a timeout that fails the test. The fixtures count executions
//! (each migration adds a row to `runs`), so a migration run twice shows.

use super::{Lang, TestDb, TestLanguage};
use embedded_migrations::{Error, MigrationState, Report, Status};
use std::future::Future;
use std::time::Duration;

/// Far above any of these operations (milliseconds); reaching it means a hang.
const LIMIT: Duration = Duration::from_secs(60);

/// The tampers, named as the tests are.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// The state row's applied count set to 2 by hand.
    state_row_edited,
    /// 003's tracking row deleted (to run it again).
    newest_tracking_row_deleted,
    /// 002's tracking row deleted.
    middle_tracking_row_deleted,
    /// 002's recorded checksum overwritten.
    checksum_edited,
    /// The history table (nodes) dropped.
    history_table_dropped,
    /// The state table (node) dropped.
    state_table_dropped,
}

async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not return within {LIMIT:?}: it hangs"),
    }
}

async fn tamper<D: TestDb>(db: &D, tamper: Tamper) {
    type L<D> = Lang<D>;
    match tamper {
        Tamper::state_row_edited => db.exec(&L::<D>::edit_state(2)).await,
        Tamper::newest_tracking_row_deleted => db.delete_record(3).await,
        Tamper::middle_tracking_row_deleted => db.delete_record(2).await,
        Tamper::checksum_edited => db.tamper_checksum(2, &"ab".repeat(32)).await,
        Tamper::history_table_dropped => db.exec(&L::<D>::drop_history()).await,
        Tamper::state_table_dropped => db.exec(&L::<D>::drop_state()).await,
    }
}

/// What one operation returned, short: `ok`, `ok: N steps`, or the error
/// variant (inside `Invalid`, each problem's).
fn outcome<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(Error::Invalid { problems }) => {
            let names: Vec<String> = problems.iter().map(variant).collect();
            format!("invalid: {}", names.join(", "))
        }
        Err(err) => variant(err),
    }
}

fn variant(err: &Error) -> String {
    format!("{err:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn steps(report: &Result<Report, Error>) -> Vec<i64> {
    report
        .as_ref()
        .map(|r| r.steps.iter().map(|s| s.version).collect())
        .unwrap_or_default()
}

fn states(status: &Status) -> Vec<MigrationState> {
    status.entries.iter().map(|e| e.state).collect()
}

/// What each operation must say after a tamper, and what `repair` fixes.
struct Expected {
    run: &'static str,
    /// Migration states, and the number of warnings (`None`: status fails
    /// with this error variant instead).
    status: Result<([MigrationState; 3], usize), &'static str>,
    validate: &'static str,
    /// A binary with 004 added: must not hang, must not run 004 over a
    /// damaged table.
    newer: &'static str,
    /// Executions counted in `runs` after all that (3: nothing ran again).
    runs: i64,
    /// After `repair` (accepting 002's edit for `checksum_edited`): a
    /// `run` of the newer binary applies these, with allow_out_of_order
    /// where a middle row was deleted.
    after_repair: &'static [i64],
}

/// `tables`: tracking in SQL tables (else Neo4j nodes).
fn expected(which: Tamper, tables: bool) -> Expected {
    use MigrationState::{Applied as A, Drifted as D, Pending as P};
    match which {
        Tamper::state_row_edited => Expected {
            run: "StateMismatch",
            status: Ok(([A, A, A], 1)),
            validate: "invalid: StateMismatch",
            newer: "StateMismatch",
            runs: 3,
            after_repair: &[4],
        },
        // The boot check reads one row and trusts it: `run` has nothing to
        // do, `status` says loudly that the rows disagree, and every
        // operation under the lock refuses until `repair`.
        Tamper::newest_tracking_row_deleted => Expected {
            run: "ok",
            status: Ok(([A, A, P], 1)),
            validate: "invalid: StateMismatch",
            newer: "StateMismatch",
            runs: 3,
            after_repair: &[3, 4],
        },
        Tamper::middle_tracking_row_deleted => Expected {
            run: "ok",
            status: Ok(([A, P, A], 1)),
            validate: "invalid: OutOfOrder, StateMismatch",
            newer: "OutOfOrder",
            runs: 3,
            after_repair: &[2, 4],
        },
        Tamper::checksum_edited => Expected {
            run: "ok",
            status: Ok(([A, D, A], 1)),
            validate: "invalid: Drift, StateMismatch",
            newer: "Drift",
            runs: 3,
            after_repair: &[4],
        },
        // Nothing the boot check or a change relies on: the next lock's
        // preparation creates the table again; reading history (status,
        // validate) fails until then, naming the table. In a graph, deleted
        // history nodes leave nothing to fail.
        Tamper::history_table_dropped => Expected {
            run: "ok",
            status: if tables { Err("Database") } else { Ok(([A, A, A], 0)) },
            validate: if tables { "Database" } else { "ok" },
            newer: "ok",
            runs: 4,
            after_repair: &[],
        },
        // The lock's preparation seeds the state row again at zero, which
        // then disagrees with the rows.
        Tamper::state_table_dropped => Expected {
            run: "StateMismatch",
            status: Ok(([A, A, A], 1)),
            validate: "invalid: StateMismatch",
            newer: "StateMismatch",
            runs: 3,
            after_repair: &[4],
        },
    }
}

pub async fn check<D: TestDb>(db: &D, which: Tamper) {
    let f = Lang::<D>::fixtures();
    let (counted, next) = (f.counted, f.counted_next);
    let first = bounded("the first run", counted.run(db.pool()))
        .await
        .expect("first run");
    assert_eq!(first.steps.len(), 3);
    assert_eq!(db.rows("runs").await, 3);
    tamper(db, which).await;
    let want = expected(which, Lang::<D>::TABLES);

    let run = bounded("run", counted.run(db.pool())).await;
    assert_eq!(outcome(&run), want.run, "{which:?}: run: {run:?}");
    assert_eq!(steps(&run), [] as [i64; 0], "{which:?}: run applied nothing");
    let status = bounded("status", counted.status(db.pool())).await;
    match (&status, want.status) {
        (Ok(status), Ok((states_wanted, warnings))) => {
            assert_eq!(states(status), states_wanted, "{which:?}: {status:?}");
            assert_eq!(status.warnings.len(), warnings, "{which:?}: {:?}", status.warnings);
            if warnings > 0 {
                assert!(!status.is_up_to_date());
                assert!(status.warnings[0].contains("migrate repair"), "{:?}", status.warnings);
            }
        }
        (_, Err(variant_wanted)) => assert_eq!(outcome(&status), variant_wanted, "{which:?}: {status:?}"),
        (Err(err), _) => panic!("{which:?}: status failed: {err}"),
    }
    let validate = bounded("validate", counted.validate(db.pool())).await;
    assert_eq!(outcome(&validate), want.validate, "{which:?}: {validate:?}");
    let newer = bounded("a newer binary's run", next.run(db.pool())).await;
    assert_eq!(outcome(&newer), want.newer, "{which:?}: {newer:?}");
    if let Err(err) = &newer {
        assert!(err.exit_code() == 2, "{which:?}: refused before anything ran: {err}");
        if matches!(err, Error::StateMismatch { .. } | Error::Drift { .. }) {
            assert!(err.to_string().contains("migrate repair"), "{err}");
        }
    }
    assert_eq!(db.rows("runs").await, want.runs, "{which:?}: no migration ran again");

    // The fix: `repair` (accepting the intentional edit where a checksum
    // changed), then the newer binary applies exactly what is missing.
    let with_reason = counted
        .with(embedded_migrations::Settings::default())
        .reason("fault test");
    let repair = match which {
        Tamper::checksum_edited => bounded("repair", with_reason.repair_accepting_edit(db.pool(), 2)).await,
        _ => bounded("repair", with_reason.repair(db.pool())).await,
    }
    .unwrap_or_else(|err| panic!("{which:?}: repair: {err}"));
    assert_eq!(
        repair.changed(),
        which != Tamper::history_table_dropped,
        "{which:?}: {repair:?}"
    );
    assert_eq!(
        repair.accepted.is_some(),
        which == Tamper::checksum_edited,
        "{repair:?}"
    );
    let settings =
        embedded_migrations::Settings::default().allow_out_of_order(which == Tamper::middle_tracking_row_deleted);
    let after = bounded("run after repair", next.with(settings).run(db.pool())).await;
    assert_eq!(steps(&after), want.after_repair, "{which:?}: {after:?}");
    assert_eq!(
        db.rows("runs").await,
        want.runs + want.after_repair.len() as i64,
        "{which:?}: exactly the missing migrations ran"
    );
    bounded("validate after repair", next.validate(db.pool()))
        .await
        .unwrap_or_else(|err| panic!("{which:?}: validate after repair: {err}"));
    if repair.changed() {
        let history = bounded("history", next.history(db.pool())).await.expect("history");
        let row = history
            .iter()
            .find(|h| h.reason.as_deref().is_some_and(|r| r.starts_with("repair:")))
            .expect("repair wrote a history row");
        let reason = row.reason.as_deref().unwrap_or_default();
        assert!(
            reason.ends_with("reason: fault test") && reason.contains(" -> "),
            "{reason}"
        );
    }
}

/// Rounds of the cancellation test on each backend.
const ROUNDS: usize = 50;

/// A run dropped at a random moment (a caller's timeout, a shutdown), many
/// times: each time the lock is free afterwards (a run with a short lock
/// timeout completes), the connection or pool is usable, and the tracking
/// agrees with what ran (one `runs` row per recorded migration, validate
/// clean). The delays spread over a calibrated run's duration, and the test
/// counts the drops that landed before the run finished, and between two
/// migrations: the premise must happen, not just the check.
pub async fn cancelled_runs<D: TestDb>(db: &D) {
    if let Some(create) = Lang::<D>::create_runs() {
        db.exec(&create).await;
    }
    let settings = embedded_migrations::Settings::default().lock_timeout(Duration::from_secs(4));
    let inserts = Lang::<D>::fixtures().inserts.with(settings);
    // Calibration: the duration of a whole run of 001-004 on this machine
    // now, the shortest of three once the tracking tables exist (as in
    // every round).
    let mut full = Duration::MAX;
    for calibration in 0..4 {
        let started = std::time::Instant::now();
        let report = bounded("the calibration run", inserts.run(db.pool()))
            .await
            .expect("calibration run");
        assert_eq!(report.steps.len(), 4);
        if calibration > 0 {
            full = full.min(started.elapsed());
        }
        bounded("reset", inserts.down_to(db.pool(), 0)).await.expect("reset");
    }

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let (mut dropped, mut between, mut dirty) = (0, 0, 0);
    for round in 0..ROUNDS {
        // xorshift: enough randomness for spreading delays.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = full.mul_f64((seed % 1000) as f64 / 1000.0);
        // Steps the dropped run finished, from its progress events: read
        // from the database right after a drop, a count can race the
        // COMMIT the dropped run had sent.
        let finished = std::sync::atomic::AtomicUsize::new(0);
        let count_finished = |p: &embedded_migrations::Progress| {
            if matches!(p.event, embedded_migrations::ProgressEvent::Finished(_)) {
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        };
        let watched = inserts.clone().on_progress(&count_finished);
        let mut left = None;
        if tokio::time::timeout(delay, watched.run(db.pool())).await.is_err() {
            dropped += 1;
            let done = finished.load(std::sync::atomic::Ordering::SeqCst);
            if (1..4).contains(&done) {
                between += 1;
            }
            left = Some(done);
        }
        // The lock is free: this run (lock timeout 4 s) takes it.
        let mut rest = bounded("the run after a dropped one", inserts.run(db.pool())).await;
        if let Err(Error::Dirty { version, .. }) = &rest {
            // MySQL (no transactional DDL: every file runs between a dirty
            // mark and its record) dropped in between: the mark is honest,
            // the statement may or may not have committed. Resolve it as a
            // person would, by what the database holds.
            assert!(left.is_some(), "round {round}: only a dropped run leaves a dirty mark");
            dirty += 1;
            let ran = db.count(&Lang::<D>::count_runs(*version)).await;
            match ran {
                1 => bounded("force", inserts.force(db.pool(), *version)).await,
                0 => bounded("forget", inserts.forget(db.pool(), *version)).await,
                n => panic!("round {round}: migration {version} ran {n} times"),
            }
            .expect("resolving the mark");
            rest = bounded("the run after resolving", inserts.run(db.pool())).await;
        }
        // (Right after the drop, the counts are not compared: a COMMIT the
        // dropped run had sent may still land. The run above waited for
        // the lock, so from here on what is recorded is final.)
        rest.unwrap_or_else(|err| panic!("round {round} ({delay:?}): after a dropped run: {err}"));
        for version in 1..=4 {
            let ran = db.count(&Lang::<D>::count_runs(version)).await;
            assert_eq!(ran, 1, "round {round}: migration {version} ran exactly once");
        }
        bounded("validate", inserts.validate(db.pool()))
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err}"));
        bounded("reset", inserts.down_to(db.pool(), 0))
            .await
            .unwrap_or_else(|err| panic!("round {round}: reset: {err}"));
    }
    eprintln!(
        "cancellation: {dropped} of {ROUNDS} runs dropped before the end, {between} between two migrations, \
         {dirty} left a dirty mark (a run took {full:?})"
    );
    assert!(
        dropped >= ROUNDS / 5,
        "only {dropped} of {ROUNDS} drops landed before the run ended: the premise did not happen"
    );
    assert!(
        between >= 1,
        "no drop landed between two migrations ({dropped} dropped)"
    );
}

/// What the transaction-ending and poisoned-connection cases need of a SQL
/// backend beyond [`TestDb`]: its files and a pool of one connection, the
/// pool an application hands the library and then goes on using.
pub trait SqlFaults: super::SqlTestDb {
    /// A migration whose second statement ends the transaction it runs in,
    /// and whose third then fails: `CREATE TABLE t1 ...; END; INSERT INTO
    /// nosuch ...` where the database has `END` (MySQL runs no migration in
    /// a transaction, and says `COMMIT`).
    const ENDS_ITS_TRANSACTION: &'static str;
    /// The statement the error of [`Self::ENDS_ITS_TRANSACTION`] must name,
    /// and how many statements committed before it.
    const ENDED_AT: (&'static str, u32);
    /// A `no-transaction` file that turns the session's foreign keys off,
    /// opens a transaction of its own, and fails in it (the table-rebuild
    /// recipe gone wrong). Its first statement alone commits.
    const POISON: &'static str;
    /// A statement that runs for seconds (a run dropped while it runs is
    /// dropped mid-file).
    const SLOW: &'static str;
    /// A new pool of one connection on the test database.
    fn one_connection(&self) -> impl Future<Output = Self::Pool>;
    /// Runs `sql` on `pool`.
    fn exec_on(pool: &Self::Pool, sql: &str) -> impl Future<Output = ()>;
    /// The one integer `sql` returns on `pool`.
    fn count_on(pool: &Self::Pool, sql: &str) -> impl Future<Output = i64>;
    /// Closes `pool`, so that what its connection left uncommitted is lost.
    fn close(pool: Self::Pool) -> impl Future<Output = ()>;
}

/// A set of one migration (version 1), built by hand as the macro would:
/// past the build's refusals, as a statement the build cannot read through.
fn hand_built(up: &'static str, no_transaction: bool) -> &'static embedded_migrations::Migrations {
    hand_built_set(&[(up, no_transaction)])
}

/// [`hand_built`] with a migration per file, versions 1, 2, ...
fn hand_built_set(files: &[(&'static str, bool)]) -> &'static embedded_migrations::Migrations {
    use embedded_migrations::core::{chain_step, checksum, Checksum};
    use embedded_migrations::{Migration, Script};
    let mut chain = Checksum::ZERO;
    let mut chains = Vec::new();
    let mut migrations = Vec::new();
    for (index, (up, no_transaction)) in files.iter().enumerate() {
        let version = index as i64 + 1;
        let up = Script {
            file: Box::leak(format!("{version:03}_hand_built.up.sql").into_boxed_str()),
            text: up,
            checksum: checksum(up),
            no_transaction: *no_transaction,
            placeholders: &[],
        };
        let down = Script {
            file: Box::leak(format!("{version:03}_hand_built.down.sql").into_boxed_str()),
            text: "SELECT 1;\n",
            checksum: checksum("SELECT 1;\n"),
            no_transaction: false,
            placeholders: &[],
        };
        chain = chain_step(&chain, version, &up.checksum);
        chains.push(chain);
        migrations.push(Migration {
            version,
            name: "hand_built",
            description: None,
            up,
            down,
            irreversible: false,
        });
    }
    let chains: &'static [Checksum] = Vec::leak(chains);
    let migrations: &'static [Migration] = Vec::leak(migrations);
    Box::leak(Box::new(embedded_migrations::Migrations::__embedded(
        migrations, chains,
    )))
}

/// The history row of the failed run of version 1, which must exist.
async fn failure_in_history<D: SqlFaults>(set: &embedded_migrations::Migrations, db: &D) -> String {
    let history = bounded("history", set.history(db.pool())).await.expect("history");
    let failed: Vec<_> = history.iter().filter(|h| h.version == 1 && !h.success).collect();
    assert_eq!(
        failed.len(),
        1,
        "one failed history row for the failed run: {history:?}"
    );
    failed[0].error.clone().unwrap_or_default()
}

/// A file that ends the transaction it runs in, then fails: the error
/// names the statement that ended it, never "already exists" nor "rolled
/// back and not recorded"; what committed stays, the migration is dirty
/// with that count, the history row holds the same error, and the next run
/// says dirty with the same count instead of failing on the committed
/// table.
pub async fn a_file_that_ends_its_transaction<D: SqlFaults>(db: &D) {
    let set = hand_built(D::ENDS_ITS_TRANSACTION, false);
    let err = bounded("run", set.run(db.pool())).await.expect_err("the file fails");
    let text = err.to_string();
    let (statement, committed) = D::ENDED_AT;
    match err.cause() {
        Error::MigrationFailed {
            version: 1,
            statement: failed,
            rolled_back: false,
            committed: count,
            ..
        } => {
            assert!(failed.starts_with(statement), "names `{statement}`: {text}");
            assert_eq!(*count, committed, "{text}");
        }
        other => panic!("expected the failure of migration 1 at `{statement}`, got: {other}"),
    }
    assert!(!text.contains("already exists"), "{text}");
    assert!(!text.contains("rolled back and not recorded"), "{text}");
    assert_eq!(db.rows("t1").await, 0, "t1 was committed, and stays");
    let stored = failure_in_history(set, db).await;
    assert_eq!(stored, text, "history stores the error the run reported");
    match bounded("the next run", set.run(db.pool())).await {
        Err(Error::Dirty {
            version: 1,
            committed: Some(next),
            ..
        }) => assert_eq!(next.statements, u64::from(committed), "the next run counts the same"),
        other => panic!("the next run must say dirty with the count: {other:?}"),
    }
}

/// A `no-transaction` file that turns foreign keys off and fails inside a
/// transaction of its own, on a pool of one connection: the connection
/// the application gets next has no transaction open and its foreign
/// keys on (its writes persist, a delete cascades); the failure has its
/// history row; the immediate error and the next run count the same
/// committed statements (one: the file's own transaction was rolled back).
pub async fn a_failed_file_leaves_no_poisoned_connection<D: SqlFaults>(db: &D) {
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)").await;
    db.exec(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, \
         FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
    )
    .await;
    db.exec("INSERT INTO parent (id) VALUES (1)").await;
    db.exec("INSERT INTO child (id, parent_id) VALUES (1, 1)").await;
    let pool = db.one_connection().await;
    let set = hand_built(D::POISON, true);
    let err = bounded("run", set.run(&pool)).await.expect_err("the file fails");
    let text = err.to_string();

    // The application's next statements, on the same one connection.
    D::exec_on(&pool, "CREATE TABLE app_after (id INTEGER PRIMARY KEY)").await;
    D::exec_on(&pool, "INSERT INTO app_after (id) VALUES (1)").await;
    D::exec_on(&pool, "DELETE FROM parent WHERE id = 1").await;
    assert_eq!(
        D::count_on(&pool, "SELECT count(*) FROM child").await,
        0,
        "the delete cascades: foreign keys are on"
    );
    D::close(pool).await;
    assert_eq!(db.rows("app_after").await, 1, "the application's write persisted");

    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 1,
                committed: 1,
                ..
            }
        ),
        "one statement committed: {text}"
    );
    assert!(text.contains("statements 1-1 committed"), "{text}");

    let stored = failure_in_history(set, db).await;
    assert_eq!(stored, text, "history stores the error the run reported");
    match bounded("the next run", set.run(db.pool())).await {
        Err(Error::Dirty {
            version: 1,
            committed: Some(next),
            ..
        }) => assert_eq!(next.statements, 1, "the next run counts the same"),
        other => panic!("the next run must say dirty with one statement committed: {other:?}"),
    }
}

/// Group mode (one transaction for every pending migration) where the
/// second file commits halfway: the first migration, committed by it, is
/// recorded applied; the second is dirty with its one committed
/// statement; what followed the COMMIT did not commit. (Where DDL is not
/// transactional, group mode is refused.)
pub async fn a_group_whose_file_commits_halfway<D: SqlFaults>(db: &D) {
    let set = hand_built_set(&[
        ("CREATE TABLE g1 (id INTEGER PRIMARY KEY);\n", false),
        (
            "CREATE TABLE g2 (id INTEGER PRIMARY KEY);\nCOMMIT;\nCREATE TABLE g3 (id INTEGER PRIMARY KEY);\n",
            false,
        ),
    ]);
    let group = set.with(embedded_migrations::Settings::default().group(true));
    let err = bounded("run", group.run(db.pool())).await.expect_err("the group fails");
    let text = err.to_string();
    match err.cause() {
        Error::MigrationFailed {
            version: 2,
            statement,
            committed: 1,
            rolled_back: false,
            ..
        } => assert_eq!(&**statement, "COMMIT", "{text}"),
        other => panic!("expected migration 2 to fail at its COMMIT: {other}"),
    }
    assert!(text.contains("recorded as applied"), "{text}");
    let tables = db.tables().await;
    assert!(
        tables.iter().any(|t| t == "g1") && tables.iter().any(|t| t == "g2"),
        "{tables:?}"
    );
    assert!(
        !tables.iter().any(|t| t == "g3"),
        "nothing after the COMMIT committed: {tables:?}"
    );
    let status = bounded("status", set.status(db.pool())).await.expect("status");
    assert_eq!(
        states(&status),
        [MigrationState::Applied, MigrationState::Dirty],
        "{status:?}"
    );
}

/// A file whose ROLLBACK ends its transaction: nothing before it
/// committed, nothing is recorded or marked, and the error says so.
pub async fn a_file_that_rolls_back_its_transaction<D: SqlFaults>(db: &D) {
    let set = hand_built(
        "CREATE TABLE r1 (id INTEGER PRIMARY KEY);\nROLLBACK;\nCREATE TABLE r2 (id INTEGER PRIMARY KEY);\n",
        false,
    );
    let err = bounded("run", set.run(db.pool())).await.expect_err("the file fails");
    let text = err.to_string();
    assert!(
        matches!(
            err.cause(),
            Error::MigrationFailed {
                version: 1,
                rolled_back: true,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("ROLLBACK") && text.contains("rolled back"), "{text}");
    let tables = db.tables().await;
    assert!(!tables.iter().any(|t| t == "r1" || t == "r2"), "{tables:?}");
    let status = bounded("status", set.status(db.pool())).await.expect("status");
    assert_eq!(states(&status), [MigrationState::Pending], "{status:?}");
}

/// A run dropped while a `no-transaction` file runs, after the file turned
/// foreign keys off and opened a transaction of its own: the connection
/// the application gets next from its pool of one has no transaction open
/// and foreign keys on.
pub async fn a_cancelled_file_leaves_no_poisoned_connection<D: SqlFaults>(db: &D) {
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)").await;
    db.exec(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, \
         FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
    )
    .await;
    db.exec("INSERT INTO parent (id) VALUES (1)").await;
    db.exec("INSERT INTO child (id, parent_id) VALUES (1, 1)").await;
    let pool = db.one_connection().await;
    let poison = D::POISON.split_once('\n').map_or(D::POISON, |(first, _)| first);
    let file: &'static str = Box::leak(
        format!(
            "{poison}\nBEGIN;\nCREATE TABLE t_new (id INTEGER PRIMARY KEY);\n{};\nCOMMIT;\n",
            D::SLOW
        )
        .into_boxed_str(),
    );
    let set = hand_built(file, true);
    let run = tokio::time::timeout(Duration::from_millis(1500), set.run(&pool)).await;
    assert!(
        run.is_err(),
        "the run was dropped while its slow statement ran: {run:?}"
    );

    D::exec_on(&pool, "CREATE TABLE app_after (id INTEGER PRIMARY KEY)").await;
    D::exec_on(&pool, "INSERT INTO app_after (id) VALUES (1)").await;
    D::exec_on(&pool, "DELETE FROM parent WHERE id = 1").await;
    assert_eq!(
        D::count_on(&pool, "SELECT count(*) FROM child").await,
        0,
        "the delete cascades: foreign keys are on"
    );
    D::close(pool).await;
    assert_eq!(db.rows("app_after").await, 1, "the application's write persisted");
}
