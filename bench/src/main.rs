//! The harness: generate, build, run, and print one table.
//!
//! ```text
//! harness [--tools ours,sqlx,refinery] [--n 500,2000] [--backends sqlite,postgres,mysql]
//!         [--w1 5] [--w2 20] [--w3-reps 3] [--no-w3] [--no-md] [--reuse-w1w2]
//!         [--real-n 200] [--real sqlite,postgres,mysql] [--no-real] [--no-w1w2]
//! R is the realistic workload (src/real.rs), W1 reps each, interleaved.
//! `--reuse-w1w2` takes W1/W2 from the last run's generated/results.json.
//! ```
//! `bash bench/run.sh` runs it with the defaults. The generated crates share
//! bench/target with the harness; CARGO_TARGET_DIR must not point elsewhere.

use embedded_migrations_bench::gen::{self, Layout, Tool};
use embedded_migrations_bench::real::Dialect;
use embedded_migrations_bench::stats::{fmt_bytes, fmt_secs, median, min, Series};
use embedded_migrations_bench::work;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Opts {
    tools: Vec<Tool>,
    ns: Vec<usize>,
    backends: Vec<String>,
    w1: usize,
    w2: usize,
    w3_reps: usize,
    w3: bool,
    md: bool,
    reuse: bool,
    real_n: usize,
    real: Vec<Dialect>,
    w1w2: bool,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        tools: Tool::ALL.to_vec(),
        ns: vec![500, 2000],
        backends: vec!["sqlite".into(), "postgres".into(), "mysql".into()],
        w1: 5,
        w2: 20,
        w3_reps: 3,
        w3: true,
        md: true,
        reuse: false,
        real_n: 200,
        real: Dialect::ALL.to_vec(),
        w1w2: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| die(&format!("{a} needs a value")));
        match a.as_str() {
            "--tools" => {
                o.tools = val()
                    .split(',')
                    .map(|s| Tool::parse(s).unwrap_or_else(|| die(&format!("unknown tool {s}"))))
                    .collect()
            }
            "--n" => {
                o.ns = val()
                    .split(',')
                    .map(|s| s.parse().unwrap_or_else(|_| die("bad --n")))
                    .collect()
            }
            "--backends" => o.backends = val().split(',').map(String::from).collect(),
            "--w1" => o.w1 = val().parse().unwrap_or_else(|_| die("bad --w1")),
            "--w2" => o.w2 = val().parse().unwrap_or_else(|_| die("bad --w2")),
            "--w3-reps" => o.w3_reps = val().parse().unwrap_or_else(|_| die("bad --w3-reps")),
            "--no-w3" => o.w3 = false,
            "--no-md" => o.md = false,
            "--reuse-w1w2" => o.reuse = true,
            "--real-n" => o.real_n = val().parse().unwrap_or_else(|_| die("bad --real-n")),
            "--real" => {
                o.real = val()
                    .split(',')
                    .map(|s| Dialect::parse(s).unwrap_or_else(|| die(&format!("unknown database {s}"))))
                    .collect()
            }
            "--no-real" => o.real.clear(),
            "--no-w1w2" => o.w1w2 = false,
            "-h" | "--help" => {
                println!(
                    "{}",
                    include_str!("main.rs").lines().take(8).collect::<Vec<_>>().join("\n")
                );
                std::process::exit(0);
            }
            other => die(&format!("unknown argument {other}")),
        }
    }
    o
}

fn die(msg: &str) -> ! {
    eprintln!("harness: {msg}");
    std::process::exit(2)
}

fn cargo_build(layout: &Layout, dir: &Path) -> Result<f64, String> {
    let start = Instant::now();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", layout.target())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    if out.status.success() {
        Ok(secs)
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().collect();
        let from = tail.len().saturating_sub(40);
        Err(tail[from..].join("\n"))
    }
}

fn bin_path(layout: &Layout, name: &str) -> PathBuf {
    layout.target().join("release").join(name)
}

/// Adds a series' samples to the one of the same tool, workload, database and N.
fn merge(all: &mut Vec<Series>, x: Series) {
    match all
        .iter_mut()
        .find(|s| s.tool == x.tool && s.workload == x.workload && s.backend == x.backend && s.n == x.n)
    {
        Some(s) => s.samples.extend(x.samples),
        None => all.push(x),
    }
}

/// One W3 result row.
struct W3Row {
    tool: Tool,
    build_script: bool,
    what: &'static str,
    samples: Vec<f64>,
    noticed: Vec<bool>,
    note: String,
}

fn main() {
    let opts = parse_opts();
    let layout = Layout {
        bench: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let mut failures: Vec<String> = Vec::new();
    let mut build_times: Vec<(String, f64)> = Vec::new();
    let mut series: Vec<Series> = Vec::new();

    // 1. Generate and build one app per tool and N (smallest first: refinery's
    //    2,000-migration expansion is the slow one), and one per tool and
    //    database for the realistic workload (none of refinery on MySQL: it
    //    has no async MySQL driver that builds with this sqlx).
    let mut built: Vec<(Tool, usize, Option<Dialect>)> = Vec::new();
    if opts.reuse {
        let text =
            std::fs::read_to_string(layout.generated().join("results.json")).unwrap_or_else(|_| die("no results.json"));
        series = serde_json::from_str(&text).unwrap_or_else(|_| die("bad results.json"));
    }
    let runs_on = |tool: Tool, backend: &str| !(tool == Tool::Refinery && backend == "mysql");
    let mut order: Vec<(Tool, usize, Option<Dialect>)> = Vec::new();
    if opts.w1w2 {
        order.extend(
            opts.ns
                .iter()
                .flat_map(|&n| opts.tools.iter().map(move |&t| (t, n, None))),
        );
    }
    if opts.real_n > 0 {
        for &d in &opts.real {
            order.extend(
                opts.tools
                    .iter()
                    .filter(|&&t| runs_on(t, d.name()))
                    .map(|&t| (t, opts.real_n, Some(d))),
            );
        }
    }
    order.sort_by_key(|&(t, n, real)| (n, t == Tool::Refinery, real.is_some()));
    if opts.reuse {
        order.clear();
    }
    for (tool, n, real) in order {
        let dir = gen::write_app(&layout, tool, n, real).expect("write app");
        let bin = layout.app_bin(tool, n, real);
        eprintln!("== build {bin} ...");
        match cargo_build(&layout, &dir) {
            Ok(secs) => {
                eprintln!("   {}", fmt_secs(secs));
                build_times.push((bin, secs));
                built.push((tool, n, real));
            }
            Err(e) => {
                eprintln!("   FAILED:\n{e}");
                failures.push(format!("build of {bin} failed"));
            }
        }
    }

    // 2. R, W1 and W2, interleaved: round r runs one repetition of every tool
    //    (the order rotating), and the last round of W1 also runs W2, so a
    //    slow spell of the shared disk hits every tool alike. PostgreSQL and
    //    MySQL databases are dropped between blocks, never right before a
    //    timed run.
    // A fresh runtime per drop, bounded: a drop that cannot finish (another
    // run's session on a database) must not stop the benchmark.
    let drop_all = || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dropped = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(60), work::drop_databases("bench_")).await
        });
        if dropped.is_err() {
            eprintln!("   dropping the bench_ databases took over 60 s; going on");
        }
    };
    let mut blocks: Vec<(String, usize, Option<Dialect>)> = Vec::new();
    if opts.w1w2 {
        for backend in &opts.backends {
            blocks.extend(opts.ns.iter().map(|&n| (backend.clone(), n, None)));
        }
    }
    if opts.real_n > 0 {
        blocks.extend(opts.real.iter().map(|&d| (d.name().to_string(), opts.real_n, Some(d))));
    }
    if opts.reuse {
        blocks.clear();
    }
    for (backend, n, real) in blocks {
        if backend != "sqlite" {
            drop_all();
        }
        let tools: Vec<Tool> = opts
            .tools
            .iter()
            .copied()
            .filter(|&t| built.contains(&(t, n, real)) && runs_on(t, &backend))
            .collect();
        for round in 0..opts.w1 {
            let last = round + 1 == opts.w1 && real.is_none();
            for k in 0..tools.len() {
                let tool = tools[(k + round) % tools.len()];
                let name = layout.app_bin(tool, n, real);
                let bin = bin_path(&layout, &name);
                eprintln!("== {name} {backend} round {}/{}", round + 1, opts.w1);
                let w2 = if last { opts.w2 } else { 0 };
                let out = Command::new(&bin)
                    .args([backend.as_str(), "1", &w2.to_string(), "keep"])
                    .env("BENCH_WORKLOAD", if real.is_some() { "R" } else { "W1" })
                    .stderr(Stdio::inherit())
                    .output()
                    .expect("run app");
                if !out.status.success() {
                    failures.push(format!("{name} {backend} round {round} failed ({})", out.status));
                }
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    match serde_json::from_str::<Series>(line) {
                        Ok(x) => merge(&mut series, x),
                        Err(_) => eprintln!("   {line}"),
                    }
                }
            }
        }
    }
    if opts.backends.iter().any(|b| b != "sqlite") && !opts.reuse {
        drop_all();
    }

    // 3. W3.
    let mut w3: Vec<W3Row> = Vec::new();
    if opts.w3 {
        for build_script in [false, true] {
            for &tool in &opts.tools {
                match run_w3(&layout, tool, opts.w3_reps, build_script) {
                    Ok(rows) => w3.extend(rows),
                    Err(e) => {
                        eprintln!("W3 {} failed: {e}", tool.name());
                        failures.push(format!("W3 {} failed: {}", tool.name(), e.lines().next().unwrap_or("")));
                    }
                }
            }
        }
    }

    // 4. The table.
    let table = render(&series, &w3, &opts);
    let mut report = String::new();
    report.push_str(&table);
    if opts.reuse {
        report.push_str(
            "\nW1/W2 rows: taken from the previous run (generated/results.json, `--reuse-w1w2`); W3 measured now.\n",
        );
    }
    report.push_str("\nBuild of each app crate in this run (cached artifacts are reused; a first build costs more):\n");
    for (name, secs) in &build_times {
        report.push_str(&format!("- {name}: {}\n", fmt_secs(*secs)));
    }
    if !failures.is_empty() {
        report.push_str("\nFailures:\n");
        for f in &failures {
            report.push_str(&format!("- {f}\n"));
        }
    }
    println!("{report}");
    let gen_dir = layout.generated();
    std::fs::create_dir_all(&gen_dir).ok();
    std::fs::write(
        gen_dir.join("results.json"),
        serde_json::to_string_pretty(&series).unwrap(),
    )
    .ok();
    std::fs::write(gen_dir.join("table.md"), &report).ok();
    if opts.md {
        update_benchmarks_md(&layout, &report);
    }
}

/// Replaces the text between the table markers of /BENCHMARKS.md.
fn update_benchmarks_md(layout: &Layout, report: &str) {
    let path = layout.bench.join("..").join("BENCHMARKS.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("no BENCHMARKS.md at {}; table not recorded", path.display());
        return;
    };
    let (start, end) = ("<!-- table:start -->", "<!-- table:end -->");
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        eprintln!("BENCHMARKS.md has no table markers; table not recorded");
        return;
    };
    let stamp = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let new = format!("{}{start}\n_Measured {stamp}._\n\n{report}\n{}", &text[..a], &text[b..]);
    std::fs::write(&path, new).ok();
    eprintln!("table recorded in {}", path.display());
}

fn render(series: &[Series], w3: &[W3Row], opts: &Opts) -> String {
    let mut s = String::new();
    s.push_str("| workload | db | N | tool | median | min | per migration | vs ours | note |\n");
    s.push_str("|---|---|---:|---|---:|---:|---:|---:|---|\n");
    // Index: (workload, backend, n, tool) -> series
    let mut idx: BTreeMap<(String, String, usize, String), &Series> = BTreeMap::new();
    for x in series {
        idx.insert((x.workload.clone(), x.backend.clone(), x.n, x.tool.clone()), x);
    }
    let tools_w1 = ["ours", "ours (group)", "sqlx", "refinery", "refinery (grouped)"];
    let tools_w2 = ["ours", "sqlx", "refinery"];
    let _ = opts;
    let backend_rank = |b: &str| {
        ["sqlite", "postgres", "mysql"]
            .iter()
            .position(|x| *x == b)
            .unwrap_or(9)
    };
    for workload in ["R", "W1", "W2"] {
        let mut keys: Vec<(String, usize)> = series
            .iter()
            .filter(|x| x.workload == workload)
            .map(|x| (x.backend.clone(), x.n))
            .collect();
        keys.sort_by_key(|(b, n)| (backend_rank(b), *n));
        keys.dedup();
        for (backend, n) in keys {
            let backend = &backend;
            {
                let ours = idx
                    .get(&(workload.to_string(), backend.clone(), n, "ours".to_string()))
                    .map(|x| median(&x.samples));
                let list: &[&str] = if workload == "W2" { &tools_w2 } else { &tools_w1 };
                for &tool in list {
                    let Some(x) = idx.get(&(workload.to_string(), backend.clone(), n, tool.to_string())) else {
                        continue;
                    };
                    let med = median(&x.samples);
                    let per = if workload == "W2" {
                        String::new()
                    } else {
                        fmt_secs(med / n as f64)
                    };
                    let ratio = ours.map(|o| format!("{:.2}x", med / o)).unwrap_or_else(|| "-".into());
                    let mut note = x.note.clone();
                    if workload == "W2" {
                        if let Some(f) = idx.get(&("W2 floor: SELECT 1".into(), backend.clone(), n, tool.to_string())) {
                            let f = median(&f.samples);
                            note = format!("{:.2}x its SELECT 1 floor", med / f);
                        }
                    }
                    s.push_str(&format!(
                        "| {workload} | {backend} | {n} | {tool} | {} | {} | {per} | {ratio} | {note} |\n",
                        fmt_secs(med),
                        fmt_secs(min(&x.samples))
                    ));
                }
                if workload == "W2" {
                    for floor in ["W2 floor: SELECT 1", "W2 floor: tracking read"] {
                        for &tool in &tools_w2 {
                            let Some(x) = idx.get(&(floor.to_string(), backend.clone(), n, tool.to_string())) else {
                                continue;
                            };
                            let via = match tool {
                                "refinery" => "refinery's rusqlite/tokio-postgres connection",
                                "sqlx" => "sqlx pool",
                                _ => "our run's sqlx pool",
                            };
                            let what = if floor.ends_with("SELECT 1") {
                                format!("SELECT 1 via {via}")
                            } else {
                                format!("full read of {tool}'s tracking table via {via}")
                            };
                            let med = median(&x.samples);
                            let ratio = ours.map(|o| format!("{:.2}x", med / o)).unwrap_or_else(|| "-".into());
                            s.push_str(&format!(
                                "| {floor} | {backend} | {n} | ({tool}) | {} | {} | | {ratio} | {what} |\n",
                                fmt_secs(med),
                                fmt_secs(min(&x.samples))
                            ));
                        }
                    }
                }
            }
        }
    }
    let ours_w3: BTreeMap<(&str, bool), f64> = w3
        .iter()
        .filter(|r| r.tool == Tool::Ours)
        .map(|r| ((r.what, r.build_script), median(&r.samples)))
        .collect();
    for r in w3 {
        let med = median(&r.samples);
        let ratio = ours_w3
            .get(&(r.what, r.build_script))
            .map(|o| format!("{:.2}x", med / o))
            .unwrap_or_else(|| "-".into());
        let noticed = if r.noticed.is_empty() {
            String::new()
        } else if r.noticed.iter().all(|&b| b) {
            "noticed: yes; ".into()
        } else if r.noticed.iter().any(|&b| b) {
            format!(
                "noticed: {}/{}; ",
                r.noticed.iter().filter(|&&b| b).count(),
                r.noticed.len()
            )
        } else {
            "noticed: NO; ".into()
        };
        s.push_str(&format!(
            "| W3 {} | sqlite | 500 | {}{} | {} | {} | | {ratio} | {noticed}{} |\n",
            r.what,
            r.tool.name(),
            if r.build_script { " + build.rs line" } else { "" },
            fmt_secs(med),
            fmt_secs(min(&r.samples)),
            r.note
        ));
    }
    s
}

/// W3 for one tool: the tiny crate embedding 500 migrations, rebuilt after
/// editing one migration and after adding one (a pair where the format has
/// downs), several times each; "noticed" means the new SQL is in the binary.
fn run_w3(layout: &Layout, tool: Tool, reps: usize, build_script: bool) -> Result<Vec<W3Row>, String> {
    const N: usize = 500;
    const EDITED: usize = 250;
    eprintln!("== W3 {} (build.rs line: {build_script})", tool.name());
    let dir = gen::write_w3(layout, tool, N, build_script).map_err(|e| e.to_string())?;
    let mig = dir.join("migrations");
    let bin = bin_path(layout, &layout.w3_bin(tool));
    let first = cargo_build(layout, &dir)?; // back to the base state; not reported as a sample
    let nonce = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 1_000_000
    );
    let contains = |marker: &str| -> bool {
        let bytes = std::fs::read(&bin).unwrap_or_default();
        let m = marker.as_bytes();
        bytes.windows(m.len()).any(|w| w == m)
    };
    let noop = vec![cargo_build(layout, &dir)?, cargo_build(layout, &dir)?];

    let mut edit = (Vec::new(), Vec::new());
    let edited_file = mig.join(gen::up_file_name(tool, EDITED, &format!("t_{EDITED}")));
    for k in 0..reps {
        let marker = format!("edit_{}_{nonce}_{k}", tool.name());
        std::fs::write(&edited_file, gen::up_sql_with(EDITED, &marker)).map_err(|e| e.to_string())?;
        let secs = cargo_build(layout, &dir)?;
        edit.0.push(secs);
        edit.1.push(contains(&marker));
        eprintln!("   edit {k}: {} noticed={}", fmt_secs(secs), edit.1[k]);
    }
    let mut add = (Vec::new(), Vec::new());
    for k in 0..reps {
        let version = N + 1 + k;
        let marker = format!("add_{}_{nonce}_{k}", tool.name());
        for (file, content) in gen::files(
            tool,
            version,
            &format!("t_{version}"),
            gen::up_sql_with(version, &marker),
        ) {
            std::fs::write(mig.join(file), content).map_err(|e| e.to_string())?;
        }
        let secs = cargo_build(layout, &dir)?;
        add.0.push(secs);
        add.1.push(contains(&marker));
        eprintln!("   add {k}: {} noticed={}", fmt_secs(secs), add.1[k]);
    }
    // The binary as built now, and a check that it really applies its set.
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = tmp.path().join("w3.db");
    let ran = Command::new(&bin)
        .arg(&db)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let add_kind = if tool == Tool::Refinery {
        "one file (no downs in its format)"
    } else {
        "an up/down pair"
    };
    Ok(vec![
        W3Row {
            tool,
            build_script,
            what: "edit one file",
            samples: edit.0,
            noticed: edit.1,
            note: format!(
                "no-op build {}; binary {}; app ran its set: {}",
                fmt_secs(median(&noop)),
                fmt_bytes(size),
                if ran { "yes" } else { "NO" }
            ),
        },
        W3Row {
            tool,
            build_script,
            what: "add a migration",
            samples: add.0,
            noticed: add.1,
            note: format!(
                "added {add_kind}; {}; base build before: {}",
                if build_script {
                    "build.rs: cargo:rerun-if-changed=migrations"
                } else {
                    "no build script"
                },
                fmt_secs(first)
            ),
        },
    ])
}
