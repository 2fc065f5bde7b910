//! W1 (a fresh SQLite file to all N applied) and W2 (the boot with nothing
//! pending, on the last W1 file, the connection still open) for the tools a
//! rusqlite program would pick: ours through rusqlite (`run_blocking`, no
//! runtime), refinery's rusqlite driver, rusqlite_migration, and ours
//! through sqlx as the reference. Interleaved rounds, as the harness does.
//! Then the same on PostgreSQL (`--postgres URL`, a server where the user
//! may create databases; each W1 run gets a fresh one): ours through a
//! tokio-postgres client, refinery's tokio-postgres driver, and ours
//! through sqlx.
//!
//!     drivers [--w1 5] [--w2 20] [--postgres postgres://postgres@127.0.0.1:5432/postgres]

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
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true);
            Open::Sqlx(
                rt.block_on(sqlx::SqlitePool::connect_with(options))
                    .expect("sqlx opens"),
            )
        }
        _ => Open::Rusqlite(rusqlite::Connection::open(path).expect("rusqlite opens")),
    }
}

/// One run of `tool` on `db`, timed around the tool's run call only.
fn run(
    rt: &tokio::runtime::Runtime,
    tool: Tool,
    db: &mut Open,
    rm: &rusqlite_migration::Migrations<'static>,
) -> Duration {
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
            refinery_set::migrations::runner()
                .set_grouped(true)
                .run(conn)
                .expect("refinery grouped");
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
        Tool::RusqliteMigration => conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("user_version"),
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
    sqlite(w1, w2);
    let args: Vec<String> = std::env::args().collect();
    if let Some(url) = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1))
    {
        postgres::bench(url, w1, w2);
    }
}

fn sqlite(w1: usize, w2: usize) {
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
            w1_samples
                .iter_mut()
                .find(|(t, _)| *t == tool)
                .expect("tool")
                .1
                .push(ms(took));
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

    let named = |samples: Vec<(Tool, Vec<f64>)>| samples.into_iter().map(|(t, s)| (t.name(), s)).collect::<Vec<_>>();
    println!("SQLite file, N = {n}, W1 median of {w1}, W2 median of {w2} after 3 warm-up calls\n");
    print_table(n, &named(w1_samples), &named(w2_samples));
}

/// W1 and W2 rows, `w1[0]` and its W2 the tool the others are compared with.
fn print_table(n: usize, w1: &[(&str, Vec<f64>)], w2: &[(&str, Vec<f64>)]) {
    let (base, ours_w1) = (w1[0].0, median(w1[0].1.clone()));
    println!("| workload | tool | median | min | per migration | vs {base} |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (tool, samples) in w1 {
        let med = median(samples.clone());
        println!(
            "| W1 apply all | {tool} | {med:.1} ms | {:.1} ms | {:.3} ms | {:.2}x |",
            min(samples),
            med / n as f64,
            med / ours_w1
        );
    }
    let ours_w2 = w2
        .iter()
        .find(|(t, _)| *t == base)
        .map(|(_, s)| median(s.clone()))
        .unwrap_or(f64::NAN);
    for (tool, samples) in w2 {
        let med = median(samples.clone());
        println!(
            "| W2 boot, nothing pending | {tool} | {:.1} µs | {:.1} µs | | {:.2}x |",
            med * 1000.0,
            min(samples) * 1000.0,
            med / ours_w2
        );
    }
}

/// The PostgreSQL half: ours through tokio-postgres (the driver session)
/// and through sqlx, refinery through its tokio-postgres driver.
mod postgres {
    use super::{ms, print_table, refinery_set, OURS};
    use std::time::{Duration, Instant};
    use tokio_postgres::{Client, NoTls};

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Tool {
        OursTokioPostgres,
        OursSqlx,
        Refinery,
        RefineryGrouped,
    }

    const ALL: [Tool; 4] = [
        Tool::OursTokioPostgres,
        Tool::OursSqlx,
        Tool::Refinery,
        Tool::RefineryGrouped,
    ];

    fn name(tool: Tool) -> &'static str {
        match tool {
            Tool::OursTokioPostgres => "ours (tokio-postgres)",
            Tool::OursSqlx => "ours (sqlx, reference)",
            Tool::Refinery => "refinery (tokio-postgres)",
            Tool::RefineryGrouped => "refinery (tokio-postgres, grouped)",
        }
    }

    /// A database open with its tool's connection.
    enum Open {
        Client(Client),
        Sqlx(sqlx::PgPool),
    }

    async fn client(url: &str) -> Client {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .expect("tokio-postgres connects");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// `url` with its database replaced by `database`.
    fn on(url: &str, database: &str) -> String {
        format!("{}/{database}", &url[..url.rfind('/').expect("a database in the URL")])
    }

    async fn run(tool: Tool, db: &mut Open) -> Duration {
        let started = Instant::now();
        match (tool, db) {
            (Tool::OursTokioPostgres, Open::Client(c)) => {
                OURS.run(&*c).await.expect("ours (tokio-postgres)");
            }
            (Tool::OursSqlx, Open::Sqlx(pool)) => {
                OURS.run(&*pool).await.expect("ours (sqlx)");
            }
            (Tool::Refinery, Open::Client(c)) => {
                refinery_set::migrations::runner().run_async(c).await.expect("refinery");
            }
            (Tool::RefineryGrouped, Open::Client(c)) => {
                refinery_set::migrations::runner()
                    .set_grouped(true)
                    .run_async(c)
                    .await
                    .expect("refinery grouped");
            }
            (tool, _) => panic!("{tool:?} on another connection"),
        }
        started.elapsed()
    }

    /// The row of `t_n` and the tool's record of n migrations.
    async fn check(tool: Tool, url: &str, n: usize) {
        let c = client(url).await;
        let row: i64 = c
            .query_one(&format!("SELECT count(*) FROM t_{n}"), &[])
            .await
            .expect("t_n")
            .get(0);
        assert_eq!(row, 1, "{tool:?}: t_{n} holds its row");
        let table = match tool {
            Tool::Refinery | Tool::RefineryGrouped => "refinery_schema_history",
            _ => "_embedded_migrations",
        };
        let recorded: i64 = c
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("records")
            .get(0);
        assert_eq!(recorded as usize, n, "{tool:?}: n migrations recorded");
    }

    pub(super) fn bench(url: &str, w1: usize, w2: usize) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let n = OURS.migrations().len();
            let admin = client(url).await;
            let mut w1_samples: Vec<(Tool, Vec<f64>)> = ALL.iter().map(|&t| (t, Vec::new())).collect();
            let mut w2_samples: Vec<(Tool, Vec<f64>)> = Vec::new();
            for round in 0..w1 {
                for k in 0..ALL.len() {
                    let tool = ALL[(k + round) % ALL.len()];
                    let name = format!("em_drivers_{round}_{k}_{}", std::process::id());
                    admin
                        .batch_execute(&format!("CREATE DATABASE {name}"))
                        .await
                        .expect("create");
                    let db_url = on(url, &name);
                    let mut db = match tool {
                        Tool::OursSqlx => Open::Sqlx(sqlx::PgPool::connect(&db_url).await.expect("sqlx connects")),
                        _ => Open::Client(client(&db_url).await),
                    };
                    let took = run(tool, &mut db).await;
                    check(tool, &db_url, n).await;
                    w1_samples
                        .iter_mut()
                        .find(|(t, _)| *t == tool)
                        .expect("tool")
                        .1
                        .push(ms(took));
                    if round + 1 == w1 && tool != Tool::RefineryGrouped {
                        for _ in 0..3 {
                            run(tool, &mut db).await;
                        }
                        let mut samples = Vec::new();
                        for _ in 0..w2 {
                            samples.push(ms(run(tool, &mut db).await));
                        }
                        w2_samples.push((tool, samples));
                    }
                    match db {
                        Open::Sqlx(pool) => pool.close().await,
                        Open::Client(c) => drop(c),
                    }
                    admin
                        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                        .await
                        .expect("drop");
                }
            }
            let named =
                |samples: Vec<(Tool, Vec<f64>)>| samples.into_iter().map(|(t, s)| (name(t), s)).collect::<Vec<_>>();
            println!("\nPostgreSQL ({url}), N = {n}, W1 median of {w1}, W2 median of {w2} after 3 warm-up calls\n");
            print_table(n, &named(w1_samples), &named(w2_samples));
        });
    }
}
