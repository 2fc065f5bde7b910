//! Squashing on every SQL backend: `Migrator::squash_baseline` writes a
//! baseline from a scratch database migrated to V; the squashed folder (the
//! baseline, then what follows V) gives a fresh database the schema the
//! unsquashed one gives (`Migrator::verify_squashed`), and a database
//! migrated before the squash keeps its rows, runs only what follows V, and
//! validates clean. The sets are the benchmark's realistic ones
//! (bench/src/real.rs: tables with foreign keys, indexes, views, routines
//! and triggers, backfills): 232 migrations on PostgreSQL and SQLite, 60 on
//! MariaDB, whose DDL commits one statement at a time.
//!
//! Needs TEST_POSTGRES_URL and TEST_MYSQL_URL for those two; without them
//! they skip loudly, or fail when `CI=true`.
#![cfg(all(feature = "sqlite", feature = "postgres", feature = "mysql"))]

#[macro_use]
mod support;
mod servers;

#[allow(dead_code)]
#[path = "../bench/src/real.rs"]
mod real;

use embedded_migrations::backend::Database;
use embedded_migrations::core::{chain_step, checksum, Checksum};
use embedded_migrations::{Error, Migration, MigrationState, Migrations, Script, Sql};

/// A set built at run time as the macro builds one at compile time: `(version,
/// name, up text)` each, down files irreversible, or given.
fn set(migrations: Vec<(i64, &'static str, &'static str, &'static str)>) -> &'static Migrations {
    let mut chain = Checksum::ZERO;
    let mut chains = Vec::new();
    let mut built = Vec::new();
    for (version, name, up, down) in migrations {
        let up_script = Script {
            file: Box::leak(format!("{version:04}_{name}.up.sql").into_boxed_str()),
            text: up,
            checksum: checksum(up),
            no_transaction: false,
            placeholders: &[],
        };
        let down_script = Script {
            file: Box::leak(format!("{version:04}_{name}.down.sql").into_boxed_str()),
            text: down,
            checksum: checksum(down),
            no_transaction: false,
            placeholders: &[],
        };
        chain = chain_step(&chain, version, &up_script.checksum);
        chains.push(chain);
        built.push(Migration {
            version,
            name,
            description: None,
            up: up_script,
            down: down_script,
            irreversible: true,
        });
    }
    Box::leak(Box::new(Migrations::__embedded(Vec::leak(built), Vec::leak(chains))))
}

const IRREVERSIBLE: &str = "-- migrate:irreversible\n";

/// The realistic set of `n` migrations for `dialect`.
fn unsquashed(dialect: real::Dialect, n: usize) -> &'static Migrations {
    let files = real::migrations(dialect, n)
        .into_iter()
        .enumerate()
        .map(|(i, up)| (i as i64 + 1, "r", &*String::leak(up), IRREVERSIBLE))
        .collect();
    set(files)
}

/// The folder after `squash --to V`: the baseline, then what followed V.
fn squashed(unsquashed: &'static Migrations, baseline: embedded_migrations::snapshot::Baseline) -> &'static Migrations {
    let to = baseline.squashed.last;
    let mut files = vec![(
        to,
        "baseline",
        &*String::leak(baseline.up),
        &*String::leak(baseline.down),
    )];
    files.extend(
        unsquashed
            .migrations()
            .iter()
            .filter(|m| m.version > to)
            .map(|m| (m.version, m.name, m.up.text, m.down.text)),
    );
    set(files)
}

/// The whole check on three databases of one server: `scratch` (squashed
/// from, then the database migrated before the squash), and `a` and `b`
/// (the unsquashed and squashed histories, from nothing).
async fn squash_and_verify<D: Database<Language = Sql>>(
    unsquashed: &'static Migrations,
    to: i64,
    scratch: &D,
    a: &D,
    b: &D,
) {
    let latest = unsquashed.migrations().last().unwrap().version;
    let baseline = unsquashed.squash_baseline(scratch, to).await.expect("squash");
    assert_eq!(baseline.squashed.first, 1);
    assert_eq!(baseline.squashed.last, to);
    assert_eq!(baseline.squashed.migrations, to as u64);
    assert!(baseline
        .up
        .starts_with(&format!("-- migrate:baseline 1..{to} migrations={to} chain=")));
    assert_eq!(
        baseline.replaced.len(),
        2 * to as usize,
        "every up and down file it replaces"
    );
    assert!(!baseline.data.is_empty(), "the realistic set backfills rows: named");
    let squashed = squashed(unsquashed, baseline);

    // Fresh: the baseline, then what follows; the same schema as unsquashed.
    let check = squashed
        .verify_squashed(unsquashed, a, b)
        .await
        .expect("verify_squashed");
    assert!(check.diff.is_empty(), "{check}");
    assert!(check.problems.is_empty(), "{check}");
    assert!(
        check.applied_on_unsquashed.is_empty(),
        "{:?}",
        check.applied_on_unsquashed
    );
    assert!(check.is_same(to));
    let fresh = squashed.status(b).await.unwrap();
    assert_eq!(fresh.entries.len(), (latest - to + 1) as usize);
    assert!(fresh.entries.iter().all(|e| e.state == MigrationState::Applied));

    // Migrated to V before the squash: only what follows V runs.
    let report = squashed
        .run(scratch)
        .await
        .expect("the squashed binary on the old database");
    let ran: Vec<i64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(ran, ((to + 1)..=latest).collect::<Vec<_>>());
    assert!(squashed.run(scratch).await.unwrap().is_empty(), "then nothing");
    let status = squashed.validate(scratch).await.expect("no drift, nothing missing");
    assert_eq!(
        status.entries.len(),
        latest as usize,
        "every applied row is still listed"
    );
    assert!(status.entries.iter().all(|e| e.state == MigrationState::Applied));
    let history = squashed.history(scratch).await.unwrap();
    assert!(
        history.iter().all(|h| h.name != "baseline"),
        "the baseline never ran there"
    );
    assert_eq!(history.len(), latest as usize);

    // A down that reaches the squashed rows would revert the baseline.
    let refused = squashed.down_to(scratch, to - 1).await.expect_err("into the baseline");
    assert!(
        matches!(refused, Error::Irreversible { version, .. } if version == to),
        "{refused}"
    );
}

/// A database stopped inside the squashed range cannot take the baseline:
/// its rows are named as missing from the binary, and nothing runs.
async fn stopped_inside_the_range_is_refused<D: Database<Language = Sql>>(
    unsquashed: &'static Migrations,
    to: i64,
    db: &D,
) {
    unsquashed.run_to(db, to - 1).await.unwrap();
    let mut files = vec![];
    let text = format!(
        "-- migrate:baseline 1..{to} migrations={to} chain={}\nSELECT 1;\n",
        unsquashed.migrations()[to as usize - 1].up.checksum.to_hex()
    );
    files.push((to, "baseline", &*String::leak(text), IRREVERSIBLE));
    let squashed = set(files);
    let err = squashed.run(db).await.expect_err("a database inside the range");
    assert!(
        matches!(err, Error::MissingInBinary { ref migrations } if migrations.len() == to as usize - 1),
        "{err}"
    );
    let applied = squashed.history(db).await.unwrap();
    assert!(applied.iter().all(|h| h.name != "baseline"), "nothing ran");
}

mod sqlite {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

    async fn db(dir: &std::path::Path, name: &str) -> SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(dir.join(format!("{name}.db")))
            .create_if_missing(true);
        SqlitePool::connect_with(options).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_232_migration_set_squashed_to_200() {
        let dir = std::env::temp_dir().join(support::unique_name("squash_sqlite"));
        std::fs::create_dir_all(&dir).unwrap();
        let set = unsquashed(real::Dialect::Sqlite, 232);
        let (scratch, a, b) = (db(&dir, "scratch").await, db(&dir, "a").await, db(&dir, "b").await);
        squash_and_verify(set, 200, &scratch, &a, &b).await;
        stopped_inside_the_range_is_refused(set, 10, &db(&dir, "inside").await).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod postgres {
    use super::*;
    use servers::dbs::PgDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_232_migration_set_squashed_to_200() {
        let test = "squash_pg";
        let Some(scratch) = PgDb::create(test).await else {
            return;
        };
        let (a, b, inside) = (
            PgDb::create(test).await.unwrap(),
            PgDb::create(test).await.unwrap(),
            PgDb::create(test).await.unwrap(),
        );
        let set = unsquashed(real::Dialect::Postgres, 232);
        squash_and_verify(set, 200, &scratch.pool, &a.pool, &b.pool).await;
        stopped_inside_the_range_is_refused(set, 10, &inside.pool).await;
    }
}

mod mysql {
    use super::*;
    use servers::dbs::MyDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_60_migration_set_squashed_to_50() {
        let test = "squash_mysql";
        let Some(scratch) = MyDb::create(test).await else {
            return;
        };
        let (a, b, inside) = (
            MyDb::create(test).await.unwrap(),
            MyDb::create(test).await.unwrap(),
            MyDb::create(test).await.unwrap(),
        );
        let set = unsquashed(real::Dialect::MySql, 60);
        squash_and_verify(set, 50, &scratch.pool, &a.pool, &b.pool).await;
        stopped_inside_the_range_is_refused(set, 10, &inside.pool).await;
    }
}

/// The measurement of BENCHMARKS.md ("Squashing"), not a check: a fresh
/// database's full run of 500 realistic migrations, against the same set
/// squashed to 490 (the baseline and 10 migrations), on SQLite (a file)
/// and PostgreSQL, median of 5 fresh databases each. Run by
/// `bash bench/squash.sh`; ignored otherwise, as it takes minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: bash bench/squash.sh"]
async fn measure_a_fresh_database_before_and_after_squashing_500() {
    use std::time::{Duration, Instant};
    const REPS: usize = 5;
    fn median(mut times: Vec<Duration>) -> Duration {
        times.sort();
        times[times.len() / 2]
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    let dir = std::env::temp_dir().join(support::unique_name("squash_bench"));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite_db = |name: String| {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join(format!("{name}.db")))
            .create_if_missing(true);
        async move { sqlx::SqlitePool::connect_with(options).await.unwrap() }
    };
    let set = unsquashed(real::Dialect::Sqlite, 500);
    let baseline = set
        .squash_baseline(&sqlite_db("scratch".into()).await, 490)
        .await
        .unwrap();
    let squashed_set = squashed(set, baseline);
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for rep in 0..REPS {
        for (times, table, tag) in [(&mut before, set, "u"), (&mut after, squashed_set, "s")] {
            let pool = sqlite_db(format!("{tag}{rep}")).await;
            let started = Instant::now();
            table.run(&pool).await.unwrap();
            times.push(started.elapsed());
        }
    }
    println!(
        "SQLite file, 500 migrations: {:.0} ms; squashed to 490 (baseline + 10): {:.0} ms",
        ms(median(before)),
        ms(median(after))
    );
    let _ = std::fs::remove_dir_all(&dir);

    let Some(server) = servers::server::<sqlx::postgres::PgConnectOptions>("TEST_POSTGRES_URL", "squash_bench") else {
        return;
    };
    let set = unsquashed(real::Dialect::Postgres, 500);
    let mut names = Vec::new();
    let mut pg_db = async |tag: &str| {
        let name = support::unique_name(&format!("squash_bench_{tag}"));
        servers::admin(&server, format!("CREATE DATABASE \"{name}\"")).await;
        names.push(name.clone());
        sqlx::PgPool::connect_with(server.clone().database(&name))
            .await
            .unwrap()
    };
    let baseline = set.squash_baseline(&pg_db("scratch").await, 490).await.unwrap();
    let squashed_set = squashed(set, baseline);
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for rep in 0..REPS {
        for (times, table, tag) in [(&mut before, set, "u"), (&mut after, squashed_set, "s")] {
            let pool = pg_db(&format!("{tag}{rep}")).await;
            let started = Instant::now();
            table.run(&pool).await.unwrap();
            times.push(started.elapsed());
            pool.close().await;
        }
    }
    println!(
        "PostgreSQL 15, 500 migrations: {:.0} ms; squashed to 490 (baseline + 10): {:.0} ms",
        ms(median(before)),
        ms(median(after))
    );
    for name in names {
        servers::admin(&server, format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
    }
}
