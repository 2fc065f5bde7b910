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

/// One generated app: its tool, its N, and the realistic workload's database
/// (`None` for the app of W1 and W2).
type App = (Tool, usize, Option<Dialect>);

/// Whether `tool`'s apps run on `backend`: refinery has no async MySQL driver
/// that builds with this sqlx.
fn runs_on(tool: Tool, backend: &str) -> bool {
    !(tool == Tool::Refinery && backend == "mysql")
}

fn main() {
    let opts = parse_opts();
    let layout = Layout {
        bench: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let mut failures: Vec<String> = Vec::new();
    let mut series: Vec<Series> = if opts.reuse {
        previous_series(&layout)
    } else {
        Vec::new()
    };
    let (built, build_times) = build_apps(&layout, &opts, &mut failures);
    run_blocks(&layout, &opts, &built, &mut series, &mut failures);
    let w3 = run_w3_all(&layout, &opts, &mut failures);
    let report = compose_report(&series, &w3, &opts, &build_times, &failures);
    write_report(&layout, &opts, &series, &report);
}

/// The series of the last run, for `--reuse-w1w2`.
fn previous_series(layout: &Layout) -> Vec<Series> {
    let text =
        std::fs::read_to_string(layout.generated().join("results.json")).unwrap_or_else(|_| die("no results.json"));
    serde_json::from_str(&text).unwrap_or_else(|_| die("bad results.json"))
}

/// The apps to build, in build order: one per tool and N, and one per tool
/// and database for the realistic workload; smallest first, refinery's after
/// the others of its N (its 2,000-migration expansion is the slow one).
/// None with `--reuse-w1w2`.
fn build_order(opts: &Opts) -> Vec<App> {
    if opts.reuse {
        return Vec::new();
    }
    let mut order: Vec<App> = Vec::new();
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
    order
}

/// Generates and builds the apps of [`build_order`]. Returns the apps that
/// built and each one's build time; a failed build is a failure of the run,
/// and its app is left out of the workloads.
fn build_apps(layout: &Layout, opts: &Opts, failures: &mut Vec<String>) -> (Vec<App>, Vec<(String, f64)>) {
    let mut built: Vec<App> = Vec::new();
    let mut build_times: Vec<(String, f64)> = Vec::new();
    for (tool, n, real) in build_order(opts) {
        let dir = gen::write_app(layout, tool, n, real).expect("write app");
        let bin = layout.app_bin(tool, n, real);
        eprintln!("== build {bin} ...");
        match cargo_build(layout, &dir) {
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
    (built, build_times)
}

/// The runs of one database and N: W1 (and W2), or with `real`, R.
struct Block {
    backend: String,
    n: usize,
    real: Option<Dialect>,
}

/// The blocks in run order: W1/W2 on each database and N, then R on each
/// database. None with `--reuse-w1w2`.
fn blocks(opts: &Opts) -> Vec<Block> {
    if opts.reuse {
        return Vec::new();
    }
    let mut blocks: Vec<Block> = Vec::new();
    if opts.w1w2 {
        for backend in &opts.backends {
            blocks.extend(opts.ns.iter().map(|&n| Block {
                backend: backend.clone(),
                n,
                real: None,
            }));
        }
    }
    if opts.real_n > 0 {
        blocks.extend(opts.real.iter().map(|&d| Block {
            backend: d.name().to_string(),
            n: opts.real_n,
            real: Some(d),
        }));
    }
    blocks
}

/// R, W1 and W2, block by block. PostgreSQL and MySQL databases are dropped
/// between blocks, never right before a timed run.
fn run_blocks(layout: &Layout, opts: &Opts, built: &[App], series: &mut Vec<Series>, failures: &mut Vec<String>) {
    for block in blocks(opts) {
        if block.backend != "sqlite" {
            drop_bench_databases();
        }
        run_block(layout, opts, &block, built, series, failures);
    }
    if opts.backends.iter().any(|b| b != "sqlite") && !opts.reuse {
        drop_bench_databases();
    }
}

/// Drops the bench_ databases. A fresh runtime per drop, bounded: a drop that
/// cannot finish (another run's session on a database) must not stop the
/// benchmark.
fn drop_bench_databases() {
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
}

/// One block, interleaved: round r runs one repetition of every tool whose
/// app built (the order rotating), and the last round of W1 also runs W2, so
/// a slow spell of the shared disk hits every tool alike.
fn run_block(
    layout: &Layout,
    opts: &Opts,
    block: &Block,
    built: &[App],
    series: &mut Vec<Series>,
    failures: &mut Vec<String>,
) {
    let Block { backend, n, real } = block;
    let (n, real) = (*n, *real);
    let tools: Vec<Tool> = opts
        .tools
        .iter()
        .copied()
        .filter(|&t| built.contains(&(t, n, real)) && runs_on(t, backend))
        .collect();
    for round in 0..opts.w1 {
        let last = round + 1 == opts.w1 && real.is_none();
        for k in 0..tools.len() {
            let tool = tools[(k + round) % tools.len()];
            let name = layout.app_bin(tool, n, real);
            let bin = bin_path(layout, &name);
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
            collect_series(series, &out.stdout);
        }
    }
}

/// Merges the series an app printed (a JSON line each) into `series`; its
/// other lines go to stderr.
fn collect_series(series: &mut Vec<Series>, stdout: &[u8]) {
    for line in String::from_utf8_lossy(stdout).lines() {
        match serde_json::from_str::<Series>(line) {
            Ok(x) => merge(series, x),
            Err(_) => eprintln!("   {line}"),
        }
    }
}

/// W3 of every tool, without the build.rs line and then with it; none with
/// `--no-w3`. A tool whose W3 fails is a failure of the run and has no rows.
fn run_w3_all(layout: &Layout, opts: &Opts, failures: &mut Vec<String>) -> Vec<W3Row> {
    let mut w3: Vec<W3Row> = Vec::new();
    if !opts.w3 {
        return w3;
    }
    if opts.tools.contains(&Tool::Ours) {
        match run_w3_code(layout, opts.w3_reps) {
            Ok(rows) => w3.extend(rows),
            Err(e) => {
                eprintln!("W3 ours with a Rust migration failed: {e}");
                failures.push(format!("W3 ours-code failed: {}", e.lines().next().unwrap_or("")));
            }
        }
    }
    for build_script in [false, true] {
        for &tool in &opts.tools {
            match run_w3(layout, tool, opts.w3_reps, build_script) {
                Ok(rows) => w3.extend(rows),
                Err(e) => {
                    eprintln!("W3 {} failed: {e}", tool.name());
                    failures.push(format!("W3 {} failed: {}", tool.name(), e.lines().next().unwrap_or("")));
                }
            }
        }
    }
    w3
}

/// The report: the table, where its W1/W2 rows come from when reused, each
/// app's build time and what failed.
fn compose_report(
    series: &[Series],
    w3: &[W3Row],
    opts: &Opts,
    build_times: &[(String, f64)],
    failures: &[String],
) -> String {
    let mut report = render(series, w3);
    if opts.reuse {
        report.push_str(
            "\nW1/W2 rows: taken from the previous run (generated/results.json, `--reuse-w1w2`); W3 measured now.\n",
        );
    }
    report.push_str("\nBuild of each app crate in this run (cached artifacts are reused; a first build costs more):\n");
    for (name, secs) in build_times {
        report.push_str(&format!("- {name}: {}\n", fmt_secs(*secs)));
    }
    if !failures.is_empty() {
        report.push_str("\nFailures:\n");
        for f in failures {
            report.push_str(&format!("- {f}\n"));
        }
    }
    report
}

/// Prints the report and keeps it: the series in generated/results.json (what
/// `--reuse-w1w2` reads), the report in generated/table.md and, unless
/// `--no-md`, in BENCHMARKS.md.
fn write_report(layout: &Layout, opts: &Opts, series: &[Series], report: &str) {
    println!("{report}");
    let gen_dir = layout.generated();
    std::fs::create_dir_all(&gen_dir).ok();
    std::fs::write(
        gen_dir.join("results.json"),
        serde_json::to_string_pretty(series).unwrap(),
    )
    .ok();
    std::fs::write(gen_dir.join("table.md"), report).ok();
    if opts.md {
        update_benchmarks_md(layout, report);
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

/// The tools of the W1 and R rows, in the table's order.
const TOOLS_W1: [&str; 5] = ["ours", "ours (group)", "sqlx", "refinery", "refinery (grouped)"];
/// The tools of the W2 rows, and of their floors, in the table's order.
const TOOLS_W2: [&str; 3] = ["ours", "sqlx", "refinery"];

/// The series by (workload, database, N, tool).
type Index<'a> = BTreeMap<(String, String, usize, String), &'a Series>;

fn lookup<'a>(idx: &Index<'a>, workload: &str, backend: &str, n: usize, tool: &str) -> Option<&'a Series> {
    idx.get(&(workload.to_string(), backend.to_string(), n, tool.to_string()))
        .copied()
}

/// `med` against ours' median, or `-` when ours has no row there.
fn vs_ours(med: f64, ours: Option<f64>) -> String {
    ours.map(|o| format!("{:.2}x", med / o)).unwrap_or_else(|| "-".into())
}

/// The table: R, W1 and W2 (each by database, then N), then the W3 rows.
fn render(series: &[Series], w3: &[W3Row]) -> String {
    let mut s = String::new();
    s.push_str("| workload | db | N | tool | median | min | per migration | vs ours | note |\n");
    s.push_str("|---|---|---:|---|---:|---:|---:|---:|---|\n");
    let mut idx: Index = BTreeMap::new();
    for x in series {
        idx.insert((x.workload.clone(), x.backend.clone(), x.n, x.tool.clone()), x);
    }
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
            render_group(&mut s, &idx, workload, &backend, n);
        }
    }
    render_w3(&mut s, w3);
    s
}

/// The rows of one workload on one database and N, a tool each; for W2,
/// then its floors.
fn render_group(s: &mut String, idx: &Index, workload: &str, backend: &str, n: usize) {
    let ours = lookup(idx, workload, backend, n, "ours").map(|x| median(&x.samples));
    let list: &[&str] = if workload == "W2" { &TOOLS_W2 } else { &TOOLS_W1 };
    for &tool in list {
        let Some(x) = lookup(idx, workload, backend, n, tool) else {
            continue;
        };
        let med = median(&x.samples);
        let per = if workload == "W2" {
            String::new()
        } else {
            fmt_secs(med / n as f64)
        };
        let ratio = vs_ours(med, ours);
        let mut note = x.note.clone();
        if workload == "W2" {
            if let Some(f) = lookup(idx, "W2 floor: SELECT 1", backend, n, tool) {
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
        render_floors(s, idx, backend, n, ours);
    }
}

/// W2's floors on one database and N, against ours' W2: a `SELECT 1` and a
/// full read of the tracking table, each through the tool's own connection.
fn render_floors(s: &mut String, idx: &Index, backend: &str, n: usize, ours: Option<f64>) {
    for floor in ["W2 floor: SELECT 1", "W2 floor: tracking read"] {
        for &tool in &TOOLS_W2 {
            let Some(x) = lookup(idx, floor, backend, n, tool) else {
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
            let ratio = vs_ours(med, ours);
            s.push_str(&format!(
                "| {floor} | {backend} | {n} | ({tool}) | {} | {} | | {ratio} | {what} |\n",
                fmt_secs(med),
                fmt_secs(min(&x.samples))
            ));
        }
    }
}

/// The W3 rows, each against ours' row of the same step and build script.
fn render_w3(s: &mut String, w3: &[W3Row]) {
    let ours_w3: BTreeMap<(&str, bool), f64> = w3
        .iter()
        .filter(|r| r.tool == Tool::Ours)
        .map(|r| ((r.what, r.build_script), median(&r.samples)))
        .collect();
    for r in w3 {
        let med = median(&r.samples);
        let ratio = vs_ours(med, ours_w3.get(&(r.what, r.build_script)).copied());
        s.push_str(&format!(
            "| W3 {} | sqlite | 500 | {}{} | {} | {} | | {ratio} | {}{} |\n",
            r.what,
            r.tool.name(),
            if r.build_script { " + build.rs line" } else { "" },
            fmt_secs(med),
            fmt_secs(min(&r.samples)),
            noticed_note(&r.noticed),
            r.note
        ));
    }
}

/// How many of a W3 row's builds had the new SQL in the binary, as the
/// note's prefix.
fn noticed_note(noticed: &[bool]) -> String {
    if noticed.is_empty() {
        String::new()
    } else if noticed.iter().all(|&b| b) {
        "noticed: yes; ".into()
    } else if noticed.iter().any(|&b| b) {
        format!(
            "noticed: {}/{}; ",
            noticed.iter().filter(|&&b| b).count(),
            noticed.len()
        )
    } else {
        "noticed: NO; ".into()
    }
}

/// The migrations W3's crate embeds.
const W3_N: usize = 500;
/// The migration W3's edit step rewrites.
const W3_EDITED: usize = 250;

/// W3 for one tool: the tiny crate embedding 500 migrations, rebuilt after
/// editing one migration and after adding one (a pair where the format has
/// downs), several times each; "noticed" means the new SQL is in the binary.
fn run_w3(layout: &Layout, tool: Tool, reps: usize, build_script: bool) -> Result<Vec<W3Row>, String> {
    eprintln!("== W3 {} (build.rs line: {build_script})", tool.name());
    let dir = gen::write_w3(layout, tool, W3_N, build_script).map_err(|e| e.to_string())?;
    let bin = bin_path(layout, &layout.w3_bin(tool));
    let first = cargo_build(layout, &dir)?; // back to the base state; not reported as a sample
    let w3 = W3Crate {
        layout,
        tool,
        dir,
        bin,
        nonce: nonce(),
    };
    let noop = vec![w3.build()?, w3.build()?];
    let edit = w3.edit(reps)?;
    let add = w3.add(reps)?;
    let (size, ran) = w3.check_binary()?;
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
            samples: edit.secs,
            noticed: edit.noticed,
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
            samples: add.secs,
            noticed: add.noticed,
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

/// W3 for ours with a Rust code migration in the folder (500 SQL
/// migrations and one `.rs`): the rebuild after editing a SQL file against
/// the rebuild after editing the Rust migration, in the same crate and run.
fn run_w3_code(layout: &Layout, reps: usize) -> Result<Vec<W3Row>, String> {
    eprintln!("== W3 ours with a Rust migration");
    let dir = gen::write_w3_code(layout, W3_N).map_err(|e| e.to_string())?;
    let bin = bin_path(layout, "w3-ours-code");
    let first = cargo_build(layout, &dir)?;
    let w3 = W3Crate {
        layout,
        tool: Tool::Ours,
        dir,
        bin,
        nonce: nonce(),
    };
    // Interleaved, one SQL edit then one Rust edit per round, so that a
    // machine busy for a while weighs on both alike.
    let sql_file = w3
        .migrations()
        .join(gen::up_file_name(Tool::Ours, W3_EDITED, &format!("t_{W3_EDITED}")));
    let code_file = w3.migrations().join(gen::code_migration_file(W3_N));
    let (mut sql, mut rust) = (Rebuilds::default(), Rebuilds::default());
    for k in 0..reps {
        let one = |step: &str| w3.rebuilds(step, 1, |_, marker| {
            if step.starts_with("edit-sql") {
                std::fs::write(&sql_file, gen::up_sql_with(W3_EDITED, marker))
            } else {
                std::fs::write(&code_file, gen::code_migration_with(W3_N, marker))
            }
        });
        let (s, r) = (one(&format!("edit-sql{k}"))?, one(&format!("edit-rs{k}"))?);
        sql.extend(s);
        rust.extend(r);
    }
    let ratio = median(&rust.secs) / median(&sql.secs);
    Ok(vec![
        W3Row {
            tool: Tool::Ours,
            build_script: false,
            what: "edit one SQL file, a .rs migration in the folder",
            samples: sql.secs,
            noticed: sql.noticed,
            note: format!("500 SQL migrations and one Rust migration; base build before: {}", fmt_secs(first)),
        },
        W3Row {
            tool: Tool::Ours,
            build_script: false,
            what: "edit the .rs migration",
            samples: rust.secs,
            noticed: rust.noticed,
            note: format!("{ratio:.2}x the SQL-file edit above, same crate and run"),
        },
    ])
}

/// A part of this run's markers, so that no binary of an earlier run holds
/// them.
fn nonce() -> String {
    format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 1_000_000
    )
}

/// W3's crate of one tool, as its steps change and rebuild it.
struct W3Crate<'a> {
    layout: &'a Layout,
    tool: Tool,
    dir: PathBuf,
    bin: PathBuf,
    nonce: String,
}

/// One W3 step's rebuilds: each one's time, and whether its binary held the
/// new SQL.
#[derive(Default)]
struct Rebuilds {
    secs: Vec<f64>,
    noticed: Vec<bool>,
}

impl Rebuilds {
    fn extend(&mut self, other: Rebuilds) {
        self.secs.extend(other.secs);
        self.noticed.extend(other.noticed);
    }
}

impl W3Crate<'_> {
    fn build(&self) -> Result<f64, String> {
        cargo_build(self.layout, &self.dir)
    }

    /// Whether the built binary holds `marker`.
    fn contains(&self, marker: &str) -> bool {
        let bytes = std::fs::read(&self.bin).unwrap_or_default();
        let m = marker.as_bytes();
        bytes.windows(m.len()).any(|w| w == m)
    }

    /// `reps` rebuilds, each after the up file of migration [`W3_EDITED`] got
    /// a new marker.
    fn edit(&self, reps: usize) -> Result<Rebuilds, String> {
        let file = self
            .migrations()
            .join(gen::up_file_name(self.tool, W3_EDITED, &format!("t_{W3_EDITED}")));
        self.rebuilds("edit", reps, |_, marker| {
            std::fs::write(&file, gen::up_sql_with(W3_EDITED, marker))
        })
    }

    /// `reps` rebuilds, the k-th after migration `W3_N + 1 + k` was added (its
    /// up with a new marker).
    fn add(&self, reps: usize) -> Result<Rebuilds, String> {
        let mig = self.migrations();
        self.rebuilds("add", reps, |k, marker| {
            let version = W3_N + 1 + k;
            for (file, content) in gen::files(
                self.tool,
                version,
                &format!("t_{version}"),
                gen::up_sql_with(version, marker),
            ) {
                std::fs::write(mig.join(file), content)?;
            }
            Ok(())
        })
    }

    fn migrations(&self) -> PathBuf {
        self.dir.join("migrations")
    }

    /// `reps` rebuilds, the k-th after `change(k, marker)` put a new marker
    /// into the migrations; `step` names them in the markers and on stderr.
    fn rebuilds(
        &self,
        step: &str,
        reps: usize,
        change: impl Fn(usize, &str) -> std::io::Result<()>,
    ) -> Result<Rebuilds, String> {
        let mut r = Rebuilds {
            secs: Vec::new(),
            noticed: Vec::new(),
        };
        for k in 0..reps {
            let marker = format!("{step}_{}_{}_{k}", self.tool.name(), self.nonce);
            change(k, &marker).map_err(|e| e.to_string())?;
            let secs = self.build()?;
            r.secs.push(secs);
            r.noticed.push(self.contains(&marker));
            eprintln!("   {step} {k}: {} noticed={}", fmt_secs(secs), r.noticed[k]);
        }
        Ok(r)
    }

    /// The binary as built now (its size), and whether it really applies its
    /// set to a fresh SQLite file.
    fn check_binary(&self) -> Result<(u64, bool), String> {
        let size = std::fs::metadata(&self.bin).map(|m| m.len()).unwrap_or(0);
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let db = tmp.path().join("w3.db");
        let ran = Command::new(&self.bin)
            .arg(&db)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        Ok((size, ran))
    }
}
