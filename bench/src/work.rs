//! The workloads, run inside each generated app on the set its macro embedded.
//!
//! An app is called as `app-<tool>-<n> <sqlite|postgres> [W1 reps] [W2 reps] [keep]`
//! and prints one JSON line ([`Series`]) per measured series on stdout;
//! `BENCH_ONLY=<variant label>` runs that variant alone (for a profiler).
//!
//! - W1: fresh database to all N applied, timed around the tool's run call
//!   only (the database exists and the connection is open before the clock
//!   starts).
//! - W2: on the last W1 database, with the pool/connection still open, the
//!   tool's run call again with nothing pending; beside it, through the same
//!   pool/connection, a `SELECT 1` and a full read of the tool's tracking
//!   table. Each after 3 untimed warm-up calls.
//!
//! PostgreSQL: every database of the app is created first, then `CHECKPOINT`,
//! then the timed runs, and all are dropped at the end (a drop right before a
//! timed run slowed it by up to 3x on this disk).

use crate::stats::Series;
use std::error::Error;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Instant;

pub type BoxError = Box<dyn Error + Send + Sync>;
pub type Result<T, E = BoxError> = std::result::Result<T, E>;

const PG_HOST: &str = "127.0.0.1";
const PG_PORT: u16 = 5432;
const PG_USER: &str = "postgres";
const WARMUP: usize = 3;
const MY_URL: &str = "mysql://root@127.0.0.1:3306";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// Where a fresh database lives.
#[derive(Debug, Clone)]
pub enum Loc {
    Sqlite(PathBuf),
    Postgres(String),
    /// A MySQL/MariaDB database. Refinery is not run on it: its MySQL support
    /// needs the `mysql` or `mysql_async` crate, which this bench does not build.
    MySql(String),
}

impl Loc {
    fn sqlx_pg_url(db: &str) -> String {
        format!("postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}")
    }
    fn tokio_pg_config(db: &str) -> String {
        format!("host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={db}")
    }
}

/// What a workload needs from a tool: open a connection or pool on a database
/// (untimed), the tool's run call, and the two floors through the same
/// connection or pool.
pub trait Target: Sized {
    fn open(loc: &Loc) -> impl Future<Output = Result<Self>>;
    /// The tool's own call that applies whatever is pending.
    fn migrate(&mut self) -> impl Future<Output = Result<()>>;
    fn select1(&mut self) -> impl Future<Output = Result<()>>;
    /// Reads every row and column of the tool's tracking table; returns the row count.
    fn read_tracking(&mut self) -> impl Future<Output = Result<usize>>;
    /// The value of `t_<n>` row 1, to check that everything was applied.
    fn last_value(&mut self, n: usize) -> impl Future<Output = Result<String>>;
    fn close(self) -> impl Future<Output = ()>;
}

// ---------------------------------------------------------------- sqlx pools

pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// A tool that runs on a sqlx pool (ours and sqlx's `Migrator`).
pub struct PoolTarget<F> {
    pool: Pool,
    run: F,
    table: &'static str,
}

async fn open_pool(loc: &Loc) -> Result<Pool> {
    use sqlx::pool::PoolOptions;
    Ok(match loc {
        Loc::Sqlite(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true);
            Pool::Sqlite(PoolOptions::new().max_connections(4).connect_with(options).await?)
        }
        Loc::Postgres(db) => Pool::Postgres(
            PoolOptions::new()
                .max_connections(4)
                .connect(&Loc::sqlx_pg_url(db))
                .await?,
        ),
        Loc::MySql(db) => Pool::MySql(
            PoolOptions::new()
                .max_connections(4)
                .connect(&format!("{MY_URL}/{db}"))
                .await?,
        ),
    })
}

impl<F> PoolTarget<F>
where
    F: for<'a> Fn(&'a Pool) -> RunFuture<'a>,
{
    pub async fn open_with(loc: &Loc, table: &'static str, run: F) -> Result<Self> {
        Ok(PoolTarget {
            pool: open_pool(loc).await?,
            run,
            table,
        })
    }
}

/// Opening needs the run function, so `Target::open` is provided through a
/// small wrapper type per tool; this helper implements the rest.
macro_rules! pool_target_methods {
    () => {
        async fn migrate(&mut self) -> Result<()> {
            (self.0.run)(&self.0.pool).await
        }
        async fn select1(&mut self) -> Result<()> {
            match &self.0.pool {
                Pool::Sqlite(p) => {
                    let _: (i32,) = sqlx::query_as("SELECT 1").fetch_one(p).await?;
                }
                Pool::Postgres(p) => {
                    let _: (i32,) = sqlx::query_as("SELECT 1").fetch_one(p).await?;
                }
                Pool::MySql(p) => {
                    let _: (i64,) = sqlx::query_as("SELECT 1").fetch_one(p).await?;
                }
            }
            Ok(())
        }
        async fn read_tracking(&mut self) -> Result<usize> {
            let sql = format!("SELECT * FROM {}", self.0.table);
            Ok(match &self.0.pool {
                Pool::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(p)
                    .await?
                    .len(),
                Pool::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(p)
                    .await?
                    .len(),
                Pool::MySql(p) => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .fetch_all(p)
                    .await?
                    .len(),
            })
        }
        async fn last_value(&mut self, n: usize) -> Result<String> {
            let sql = format!("SELECT v FROM t_{n} WHERE id = 1");
            Ok(match &self.0.pool {
                Pool::Sqlite(p) => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_one(p)
                        .await?
                }
                Pool::Postgres(p) => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_one(p)
                        .await?
                }
                Pool::MySql(p) => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_one(p)
                        .await?
                }
            })
        }
        async fn close(self) {
            match self.0.pool {
                Pool::Sqlite(p) => p.close().await,
                Pool::Postgres(p) => p.close().await,
                Pool::MySql(p) => p.close().await,
            }
        }
    };
}

// ---------------------------------------------------------------- sqlx

static SQLX: std::sync::OnceLock<&'static sqlx::migrate::Migrator> = std::sync::OnceLock::new();

fn sqlx_run(pool: &Pool) -> RunFuture<'_> {
    let m = *SQLX.get().expect("migrator set");
    Box::pin(async move {
        match pool {
            Pool::Sqlite(p) => m.run(p).await?,
            Pool::Postgres(p) => m.run(p).await?,
            Pool::MySql(p) => m.run(p).await?,
        }
        Ok(())
    })
}

pub struct SqlxTarget(PoolTarget<fn(&Pool) -> RunFuture<'_>>);

impl Target for SqlxTarget {
    async fn open(loc: &Loc) -> Result<Self> {
        Ok(SqlxTarget(
            PoolTarget::open_with(loc, "_sqlx_migrations", sqlx_run as _).await?,
        ))
    }
    pool_target_methods!();
}

/// Entry point of the sqlx app.
pub fn main_sqlx(m: &'static sqlx::migrate::Migrator, n: usize) {
    SQLX.set(m).ok();
    // sqlx embeds reversible pairs as 2N migrations and skips the downs.
    assert_eq!(
        m.iter().count(),
        2 * n,
        "sqlx embedded an unexpected number of migrations"
    );
    app_main(n, |args| async move {
        let mut out = Vec::new();
        out.extend(run_variant::<SqlxTarget>("sqlx", n, &args, true, "").await?);
        Ok(out)
    });
}

// ---------------------------------------------------------------- refinery

/// The app's refinery runner, and whether W1 runs it grouped.
type RefineryRunner = (fn() -> refinery::Runner, bool);

thread_local! {
    static REFINERY: std::cell::Cell<Option<RefineryRunner>> = const { std::cell::Cell::new(None) };
}

pub enum RefineryConn {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client, tokio::task::JoinHandle<()>),
}

/// refinery on rusqlite (SQLite) or tokio-postgres (PostgreSQL); the runner
/// is built from the embedded set on every run call, as a user's boot does.
pub struct RefineryTarget {
    conn: RefineryConn,
    runner: fn() -> refinery::Runner,
    grouped: bool,
}

const REFINERY_TABLE: &str = "refinery_schema_history";

impl Target for RefineryTarget {
    async fn open(loc: &Loc) -> Result<Self> {
        let (runner, grouped) = REFINERY.with(|c| c.get()).expect("runner set");
        let conn = match loc {
            Loc::Sqlite(path) => RefineryConn::Sqlite(rusqlite::Connection::open(path)?),
            Loc::Postgres(db) => {
                let (client, connection) =
                    tokio_postgres::connect(&Loc::tokio_pg_config(db), tokio_postgres::NoTls).await?;
                let handle = tokio::spawn(async move {
                    let _ = connection.await;
                });
                RefineryConn::Postgres(client, handle)
            }
            Loc::MySql(_) => return Err("refinery has no async MySQL driver compatible with this build".into()),
        };
        Ok(RefineryTarget { conn, runner, grouped })
    }
    async fn migrate(&mut self) -> Result<()> {
        let runner = (self.runner)().set_grouped(self.grouped);
        match &mut self.conn {
            RefineryConn::Sqlite(c) => {
                runner.run(c)?;
            }
            RefineryConn::Postgres(c, _) => {
                runner.run_async(c).await?;
            }
        }
        Ok(())
    }
    async fn select1(&mut self) -> Result<()> {
        match &mut self.conn {
            RefineryConn::Sqlite(c) => {
                let _: i32 = c.query_row("SELECT 1", [], |r| r.get(0))?;
            }
            RefineryConn::Postgres(c, _) => {
                let _: i32 = c.query_one("SELECT 1", &[]).await?.get(0);
            }
        }
        Ok(())
    }
    async fn read_tracking(&mut self) -> Result<usize> {
        let sql = format!("SELECT * FROM {REFINERY_TABLE}");
        match &mut self.conn {
            RefineryConn::Sqlite(c) => {
                let mut stmt = c.prepare_cached(&sql)?;
                let cols = stmt.column_count();
                let mut rows = stmt.query([])?;
                let mut count = 0;
                while let Some(row) = rows.next()? {
                    for i in 0..cols {
                        // Copy every value out, as a driver that returns owned rows does.
                        let _ = row.get::<_, rusqlite::types::Value>(i)?;
                    }
                    count += 1;
                }
                Ok(count)
            }
            RefineryConn::Postgres(c, _) => Ok(c.query(&sql, &[]).await?.len()),
        }
    }
    async fn last_value(&mut self, n: usize) -> Result<String> {
        let sql = format!("SELECT v FROM t_{n} WHERE id = 1");
        Ok(match &mut self.conn {
            RefineryConn::Sqlite(c) => c.query_row(&sql, [], |r| r.get(0))?,
            RefineryConn::Postgres(c, _) => c.query_one(&sql, &[]).await?.get(0),
        })
    }
    async fn close(self) {
        match self.conn {
            RefineryConn::Sqlite(c) => drop(c),
            RefineryConn::Postgres(c, h) => {
                drop(c);
                let _ = h.await;
            }
        }
    }
}

/// Entry point of the refinery app: default (one transaction per migration)
/// and grouped (all in one transaction) for W1; W2 on the default.
pub fn main_refinery(runner: fn() -> refinery::Runner, n: usize) {
    assert_eq!(
        runner().get_migrations().len(),
        n,
        "refinery embedded an unexpected number of migrations"
    );
    app_main(n, move |args| async move {
        let mut out = Vec::new();
        REFINERY.with(|c| c.set(Some((runner, false))));
        out.extend(run_variant::<RefineryTarget>("refinery", n, &args, true, "").await?);
        REFINERY.with(|c| c.set(Some((runner, true))));
        out.extend(run_variant::<RefineryTarget>("refinery (grouped)", n, &args, false, "set_grouped(true)").await?);
        Ok(out)
    });
}

// ---------------------------------------------------------------- ours

#[cfg(feature = "ours")]
mod ours {
    use super::*;

    pub(super) static OURS: std::sync::OnceLock<&'static embedded_migrations::Migrations> = std::sync::OnceLock::new();
    pub(super) static GROUP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    pub(super) fn ours_run(pool: &Pool) -> RunFuture<'_> {
        let m = *OURS.get().expect("migrations set");
        let group = GROUP.load(std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            if group {
                let m = m.with(embedded_migrations::Settings::default().group(true));
                match pool {
                    Pool::Sqlite(p) => {
                        m.run(p).await?;
                    }
                    Pool::Postgres(p) => {
                        m.run(p).await?;
                    }
                    Pool::MySql(_) => return Err("group mode does not run on MySQL".into()),
                }
            } else {
                match pool {
                    Pool::Sqlite(p) => {
                        m.run(p).await?;
                    }
                    Pool::Postgres(p) => {
                        m.run(p).await?;
                    }
                    Pool::MySql(p) => {
                        m.run(p).await?;
                    }
                }
            }
            Ok(())
        })
    }

    pub struct OursTarget(pub(super) PoolTarget<fn(&Pool) -> RunFuture<'_>>);

    impl Target for OursTarget {
        async fn open(loc: &Loc) -> Result<Self> {
            let table = ours_table();
            Ok(OursTarget(PoolTarget::open_with(loc, table, ours_run as _).await?))
        }
        pool_target_methods!();
    }

    /// Our tracking table's name (for the W2 floor that reads it whole).
    pub(super) fn ours_table() -> &'static str {
        let settings = embedded_migrations::Settings::default();
        Box::leak(settings.table_name().to_string().into_boxed_str())
    }
}

/// Entry point of our app: per-migration and group mode for W1; W2 on the default.
#[cfg(feature = "ours")]
pub fn main_ours(m: &'static embedded_migrations::Migrations, n: usize) {
    ours::OURS.set(m).ok();
    eprintln!("  ours: {} migrations embedded for N={n}", m.migrations().len());
    app_main(n, |args| async move {
        let mut out = Vec::new();
        ours::GROUP.store(false, std::sync::atomic::Ordering::SeqCst);
        out.extend(run_variant::<ours::OursTarget>("ours", n, &args, true, "").await?);
        // MySQL refuses group mode (DDL commits implicitly there).
        if args.backend != Backend::MySql {
            ours::GROUP.store(true, std::sync::atomic::Ordering::SeqCst);
            out.extend(run_variant::<ours::OursTarget>("ours (group)", n, &args, false, "group(true)").await?);
        }
        Ok(out)
    });
}

// ---------------------------------------------------------------- driver

#[derive(Debug, Clone)]
pub struct Args {
    pub backend: Backend,
    pub w1_reps: usize,
    /// 0: W1 only.
    pub w2_reps: usize,
    /// Leave the PostgreSQL databases for the caller to drop (the harness
    /// drops them between blocks, not right before another app's timed run).
    pub keep: bool,
    /// Unique per app run (PostgreSQL database names, temp files).
    pub tag: String,
    /// What the W1 series is called ("W1", or "R" for the realistic workload).
    pub workload: String,
}

fn parse_args(n: usize) -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let backend = match argv.first().map(String::as_str) {
        Some("sqlite") => Backend::Sqlite,
        Some("postgres") => Backend::Postgres,
        Some("mysql") => Backend::MySql,
        other => {
            eprintln!("usage: app <sqlite|postgres> [W1 reps] [W2 reps, 0: none] [keep]  (got {other:?})");
            std::process::exit(2);
        }
    };
    let w1_reps = argv.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let w2_reps = argv.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let keep = argv.get(3).map(String::as_str) == Some("keep");
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().replace('-', "_")))
        .unwrap_or_else(|| "app".into());
    // The series' name: "W1" unless the harness runs the realistic workload.
    let workload = std::env::var("BENCH_WORKLOAD").unwrap_or_else(|_| "W1".into());
    Args {
        backend,
        w1_reps,
        w2_reps,
        keep,
        tag: format!("{exe}_{n}_{}", std::process::id()),
        workload,
    }
}

fn app_main<F, Fut>(n: usize, body: F)
where
    F: FnOnce(Args) -> Fut,
    Fut: Future<Output = Result<Vec<Series>>>,
{
    let args = parse_args(n);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async {
        let cleanup = PgCleanup;
        let r = body(args.clone()).await;
        cleanup.drop_all(&args).await;
        r
    });
    match result {
        Ok(series) => {
            for s in series {
                println!("{}", serde_json::to_string(&s).unwrap());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// Drops every PostgreSQL database this app created, at the end.
#[derive(Default)]
struct PgCleanup;

impl PgCleanup {
    async fn drop_all(&self, args: &Args) {
        if args.backend == Backend::Sqlite || args.keep {
            return;
        }
        drop_databases(&format!("bench_{}_", args.tag)).await;
    }
}

/// Drops every PostgreSQL database whose name starts with `prefix`, then
/// `CHECKPOINT`s, so the next timed run does not pay for the drops.
pub async fn drop_databases(prefix: &str) {
    {
        if let Ok(admin) = pg_admin().await {
            let like = format!("{prefix}%");
            if let Ok(rows) = admin
                .query("SELECT datname FROM pg_database WHERE datname LIKE $1", &[&like])
                .await
            {
                for row in rows {
                    let name: String = row.get(0);
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                        .await;
                }
            }
            let _ = admin.batch_execute("CHECKPOINT").await;
        }
    }
    if let Ok(admin) = my_admin().await {
        let like = format!("{prefix}%");
        let names: Vec<String> =
            sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")
                .bind(like)
                .fetch_all(&admin)
                .await
                .unwrap_or_default();
        for name in names {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                .execute(&admin)
                .await;
        }
        admin.close().await;
    }
}

async fn my_admin() -> Result<sqlx::MySqlPool> {
    Ok(sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .connect(MY_URL)
        .await?)
}

async fn pg_admin() -> Result<tokio_postgres::Client> {
    let (client, connection) =
        tokio_postgres::connect(&Loc::tokio_pg_config("postgres"), tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Fresh databases for one variant's W1 repetitions, all created before any
/// timing starts.
async fn fresh_databases(args: &Args, variant: &str, count: usize) -> Result<(Vec<Loc>, Option<tempfile::TempDir>)> {
    let slug: String = variant
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    match args.backend {
        Backend::Sqlite => {
            let dir = tempfile::Builder::new().prefix("emb-bench-").tempdir()?;
            let locs = (0..count)
                .map(|i| Loc::Sqlite(dir.path().join(format!("{slug}_{i}.db"))))
                .collect();
            Ok((locs, Some(dir)))
        }
        Backend::Postgres => {
            let admin = pg_admin().await?;
            let mut locs = Vec::new();
            for i in 0..count {
                let name = format!("bench_{}_{slug}_{i}", args.tag).to_lowercase();
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                    .await?;
                admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
                locs.push(Loc::Postgres(name));
            }
            admin.batch_execute("CHECKPOINT").await?;
            Ok((locs, None))
        }
        Backend::MySql => {
            let admin = my_admin().await?;
            let mut locs = Vec::new();
            for i in 0..count {
                let name = format!("bench_{}_{slug}_{i}", args.tag).to_lowercase();
                for sql in [
                    format!("DROP DATABASE IF EXISTS `{name}`"),
                    format!("CREATE DATABASE `{name}`"),
                ] {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&admin).await?;
                }
                locs.push(Loc::MySql(name));
            }
            admin.close().await;
            Ok((locs, None))
        }
    }
}

fn series(tool: &str, args: &Args, n: usize, workload: &str, samples: Vec<f64>, note: &str) -> Series {
    Series {
        tool: tool.into(),
        backend: args.backend.name().into(),
        n,
        workload: workload.into(),
        samples,
        note: note.into(),
    }
}

/// Times `reps` calls of `$call` after `WARMUP` untimed ones.
macro_rules! time_reps {
    ($reps:expr, $call:expr) => {{
        for _ in 0..WARMUP {
            $call.await?;
        }
        let mut samples = Vec::with_capacity($reps);
        for _ in 0..$reps {
            let start = Instant::now();
            $call.await?;
            samples.push(start.elapsed().as_secs_f64());
        }
        samples
    }};
}

/// W1 for one variant of a tool, and W2 (with its floors) if `w2`.
async fn run_variant<T: Target>(label: &str, n: usize, args: &Args, w2: bool, note: &str) -> Result<Vec<Series>> {
    // BENCH_ONLY=<label>: that variant alone (for a profiler).
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only != label) {
        return Ok(Vec::new());
    }
    let (locs, _tmp) = fresh_databases(args, label, args.w1_reps).await?;
    let mut w1 = Vec::new();
    let mut kept: Option<T> = None;
    for (i, loc) in locs.iter().enumerate() {
        let mut t = T::open(loc).await?;
        t.select1().await?; // the connection is open before the clock starts
        let start = Instant::now();
        t.migrate().await?;
        w1.push(start.elapsed().as_secs_f64());
        let v = t.last_value(n).await?;
        if v != "x" {
            return Err(format!("{label}: t_{n} holds {v:?} after W1").into());
        }
        let rows = t.read_tracking().await?;
        if rows != n {
            return Err(format!("{label}: tracking table has {rows} rows after applying {n}").into());
        }
        if i + 1 == locs.len() && w2 && args.w2_reps > 0 {
            kept = Some(t);
        } else {
            t.close().await;
        }
    }
    eprintln!("  {label} {} N={n} W1: {:?}", args.backend.name(), w1);
    let mut out = vec![series(label, args, n, &args.workload, w1, note)];
    if let (Some(mut t), true) = (kept, args.w2_reps > 0) {
        let boot = time_reps!(args.w2_reps, t.migrate());
        let rows = t.read_tracking().await?;
        if rows != n {
            return Err(format!("{label}: tracking table has {rows} rows after W2").into());
        }
        let one = time_reps!(args.w2_reps, t.select1());
        let read = time_reps!(args.w2_reps, t.read_tracking());
        t.close().await;
        out.push(series(label, args, n, "W2", boot, note));
        out.push(series(
            label,
            args,
            n,
            "W2 floor: SELECT 1",
            one,
            "same pool/connection",
        ));
        out.push(series(
            label,
            args,
            n,
            "W2 floor: tracking read",
            read,
            "SELECT * of the tracking table, same pool/connection",
        ));
    }
    Ok(out)
}
