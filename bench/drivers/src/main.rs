//! W1 (a fresh SQLite file to all N applied) and W2 (the boot with nothing
//! pending, on the last W1 file, the connection still open) for the tools a
//! rusqlite program would pick: ours through rusqlite (`run_blocking`, no
//! runtime), refinery's rusqlite driver, rusqlite_migration, and ours
//! through sqlx as the reference. Interleaved rounds, as the harness does.
//!
//!     drivers [--w1 5] [--w2 20]

use embedded_migrations::{embed_migrations, Migrations, Rusqlite, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

static OURS: Migrations = embed_migrations!("../generated/drivers/ours");

mod refinery_set {
    refinery::embed_migrations!("../generated/drivers/refinery");
}

/// Migration i of the harness's plain workload (bench/src/gen.rs).
fn up_sql(i: usize) -> String {
    format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t_{i} (id, v) VALUES (1, 'x');\n")
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tool {
    OursRusqlite,
    OursRusqliteGroup,
    OursSqlx,
    Refinery,
    RefineryGrouped,
    RusqliteMigration,
}

impl Tool {
    const ALL: [Tool; 6] = [
        Tool::OursRusqlite,
        Tool::OursRusqliteGroup,
        Tool::OursSqlx,
        Tool::Refinery,
        Tool::RefineryGrouped,
        Tool::RusqliteMigration,
    ];

    fn name(self) -> &'static str {
        match self {
            Tool::OursRusqlite => "ours (rusqlite, run_blocking)",
            Tool::OursRusqliteGroup => "ours (rusqlite, group)",
            Tool::OursSqlx => "ours (sqlx, reference)",
            Tool::Refinery => "refinery (rusqlite)",
            Tool::RefineryGrouped => "refinery (rusqlite, grouped)",
            Tool::RusqliteMigration => "rusqlite_migration",
        }
    }

    /// Whether W2 is measured for it (a grouped variant boots as its own).
    fn boots(self) -> bool {
        matches!(
            self,
            Tool::OursRusqlite | Tool::OursSqlx | Tool::Refinery | Tool::RusqliteMigration
        )
    }
}

/// The rusqlite_migration set: built once, as a program's `static` would be.
fn rusqlite_migration_set(n: usize) -> rusqlite_migration::Migrations<'static> {
    let ms: Vec<rusqlite_migration::M<'static>> = (1..=n)
        .map(|i| rusqlite_migration::M::up(Box::leak(up_sql(i).into_boxed_str())))
        .collect();
    rusqlite_migration::Migrations::from_slice(Box::leak(ms.into_boxed_slice()))
}

/// A database open with its tool's connection, the clock not started.
enum Open {
    Rusqlite(rusqlite::Connection),
    Sqlx(sqlx::SqlitePool),
}

fn open(rt: &tokio::runtime::Runtime, tool: Tool, path: &Path) -> Open {
    match tool {
        Tool::OursSqlx => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);
            Open::Sqlx(rt.block_on(sqlx::SqlitePool::connect_with(options)).expect("sqlx opens"))
        }
        _ => Open::Rusqlite(rusqlite::Connection::open(path).expect("rusqlite opens")),
    }
}

/// One run of `tool` on `db`, timed around the tool's run call only.
fn run(rt: &tokio::runtime::Runtime, tool: Tool, db: &mut Open, rm: &rusqlite_migration::Migrations<'static>) -> Duration {
    let started = Instant::now();
    match (tool, db) {
        (Tool::OursRusqlite, Open::Rusqlite(conn)) => {
            OURS.run_blocking(&Rusqlite::new(conn)).expect("ours (rusqlite)");
        }
        (Tool::OursRusqliteGroup, Open::Rusqlite(conn)) => {
            OURS.with(Settings::default().group(true))
                .run_blocking(&Rusqlite::new(conn))
                .expect("ours (rusqlite, group)");
        }
        (Tool::OursSqlx, Open::Sqlx(pool)) => {
            rt.block_on(OURS.run(&*pool)).expect("ours (sqlx)");
        }
        (Tool::Refinery, Open::Rusqlite(conn)) => {
            refinery_set::migrations::runner().run(conn).expect("refinery");
        }
        (Tool::RefineryGrouped, Open::Rusqlite(conn)) => {
            refinery_set::migrations::runner().set_grouped(true).run(conn).expect("refinery grouped");
        }
        (Tool::RusqliteMigration, Open::Rusqlite(conn)) => {
            rm.to_latest(conn).expect("rusqlite_migration");
        }
        (tool, _) => panic!("{tool:?} on another connection"),
    }
    started.elapsed()
}

/// The row of `t_n` and the tool's record of n migrations: the run did it all.
fn check(tool: Tool, path: &Path, n: usize) {
    let conn = rusqlite::Connection::open(path).expect("check opens");
    let row: i64 = conn
        .query_row(&format!("SELECT count(*) FROM t_{n}"), [], |r| r.get(0))
        .expect("t_n");
    assert_eq!(row, 1, "{tool:?}: t_{n} holds its row");
    let recorded: i64 = match tool {
        Tool::Refinery | Tool::RefineryGrouped => conn
            .query_row("SELECT count(*) FROM refinery_schema_history", [], |r| r.get(0))
            .expect("refinery's table"),
        Tool::RusqliteMigration => conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version"),
        _ => conn
            .query_row("SELECT count(*) FROM _embedded_migrations", [], |r| r.get(0))
            .expect("our table"),
    };
    assert_eq!(recorded as usize, n, "{tool:?}: n migrations recorded");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let w1 = arg("--w1", 5);
    let w2 = arg("--w2", 20);
    let n = OURS.migrations().len();
    assert_eq!(refinery_set::migrations::runner().get_migrations().len(), n);
    let rm = rusqlite_migration_set(n);
    let rt = tokio::runtime::Runtime::new().expect("runtime for the sqlx reference");
    let dir = std::env::temp_dir().join(format!("em-drivers-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let mut w1_samples: Vec<(Tool, Vec<f64>)> = Tool::ALL.iter().map(|&t| (t, Vec::new())).collect();
    let mut w2_samples: Vec<(Tool, Vec<f64>)> = Vec::new();
    for round in 0..w1 {
        // The order rotates each round, so a slow spell of the disk hits
        // every tool alike.
        for k in 0..Tool::ALL.len() {
            let tool = Tool::ALL[(k + round) % Tool::ALL.len()];
            let path: PathBuf = dir.join(format!("{round}-{k}.db"));
            let mut db = open(&rt, tool, &path);
            let took = run(&rt, tool, &mut db, &rm);
            check(tool, &path, n);
            w1_samples.iter_mut().find(|(t, _)| *t == tool).expect("tool").1.push(ms(took));
            if round + 1 == w1 && tool.boots() {
                for _ in 0..3 {
                    run(&rt, tool, &mut db, &rm);
                }
                let samples = (0..w2).map(|_| ms(run(&rt, tool, &mut db, &rm))).collect();
                w2_samples.push((tool, samples));
            }
            if let Open::Sqlx(pool) = db {
                rt.block_on(pool.close());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    let ours_w1 = median(w1_samples[0].1.clone());
    println!("SQLite file, N = {n}, W1 median of {w1}, W2 median of {w2} after 3 warm-up calls\n");
    println!("| workload | tool | median | min | per migration | vs ours (rusqlite) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (tool, samples) in &w1_samples {
        let med = median(samples.clone());
        println!(
            "| W1 apply all | {} | {med:.1} ms | {:.1} ms | {:.3} ms | {:.2}x |",
            tool.name(),
            min(samples),
            med / n as f64,
            med / ours_w1
        );
    }
    let ours_w2 = w2_samples
        .iter()
        .find(|(t, _)| *t == Tool::OursRusqlite)
        .map(|(_, s)| median(s.clone()))
        .unwrap_or(f64::NAN);
    for (tool, samples) in &w2_samples {
        let med = median(samples.clone());
        println!(
            "| W2 boot, nothing pending | {} | {:.1} µs | {:.1} µs | | {:.2}x |",
            tool.name(),
            med * 1000.0,
            min(samples) * 1000.0,
            med / ours_w2
        );
    }
}
