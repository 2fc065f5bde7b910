//! Fresh migrated databases per test, on the realistic 232-migration sets:
//!
//! - **per database**: the time from nothing to a pool on a database migrated
//!   to the last version, median and min of `--reps`: ours from the template
//!   (`TestDatabase::*_from`; the one build is timed apart), ours by a full run
//!   (`TestDatabase::*` then `migrated`), and what `#[sqlx::test(migrations =
//!   …)]` does (a `CREATE DATABASE` on a kept admin connection, or a new SQLite
//!   file, a pool, then `Migrator::run`). On PostgreSQL also the template copy
//!   with `STRATEGY WAL_LOG` beside `FILE_COPY`.
//! - **suite**: `--suite` tests (each: a fresh database, one query, the
//!   database dropped) two at a time, as `cargo test` on this 2-core machine
//!   runs them; the wall time of the whole suite.
//! - **limit** (`--no-limit` to skip): our apply path against the server's own
//!   time for the same statements. PostgreSQL: the run with
//!   `log_min_duration_statement = 0` set on its database, the durations the
//!   server logged summed; the same file sent by psql. SQLite: the same
//!   statements, each migration in its transaction, run by the sqlite3 shell.
//!
//! Prints one line per row, in Markdown.

use embedded_migrations::template::{self, PostgresCopy, Template};
use embedded_migrations::testkit::TestDatabase;
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The PostgreSQL server, `BENCH_PG_URL` or the CI one: a second server
/// (one whose data directory is on tmpfs, say) is measured by pointing
/// this at it.
fn pg() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    })
}

/// `database` on the server of [`pg`].
fn pg_db(database: &str) -> String {
    let base = pg();
    format!("{}/{database}", &base[..base.rfind('/').unwrap()])
}
const MY: &str = "mysql://root@127.0.0.1:3306/test";

struct Opts {
    reps: usize,
    suite: usize,
    backends: Vec<String>,
    limit: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        reps: 15,
        suite: 100,
        backends: vec!["postgres".into(), "sqlite".into(), "mysql".into()],
        limit: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().expect("a value");
        match a.as_str() {
            "--reps" => o.reps = val().parse().expect("--reps N"),
            "--suite" => o.suite = val().parse().expect("--suite N"),
            "--backends" => o.backends = val().split(',').map(String::from).collect(),
            "--no-limit" => o.limit = false,
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ms(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// One row: label, median, min, and the ratio of `base` (a median) to this median.
fn row(backend: &str, what: &str, samples: &[f64], base: Option<f64>, note: &str) {
    let m = median(samples);
    let min = samples.iter().cloned().fold(f64::INFINITY, f64::min);
    let ratio = base.map(|b| format!("{:.1}x", b / m)).unwrap_or_default();
    println!(
        "| {backend} | {what} | {} | {} | {ratio} | {note} |",
        ms(m),
        ms(min)
    );
}

/// Times `make` `reps` times; `dispose` (untimed) gets what it made.
async fn time<T, F: Future<Output = T>, D: Future<Output = ()>>(
    reps: usize,
    mut make: impl FnMut() -> F,
    mut dispose: impl FnMut(T) -> D,
) -> Vec<f64> {
    let mut samples = Vec::new();
    for _ in 0..reps {
        let started = Instant::now();
        let made = make().await;
        samples.push(started.elapsed().as_secs_f64());
        dispose(made).await;
    }
    samples
}

/// `tests` tests two at a time; each makes its database, runs `query`, and
/// drops the database. The suite's wall time.
async fn suite<T, F>(tests: usize, make: impl Fn() -> F + Clone + Send + 'static) -> f64
where
    F: Future<Output = T> + Send,
    T: Test + Send,
{
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let next = next.clone();
            let make = make.clone();
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < tests {
                    let db = make().await;
                    db.touch().await;
                    db.dispose().await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// What a test of the suite does with its database.
trait Test {
    fn touch(&self) -> impl Future<Output = ()> + Send;
    fn dispose(self) -> impl Future<Output = ()> + Send;
}

const TOUCH: &str = "SELECT count(*) FROM t_232";

impl<DB: sqlx::Database> Test for TestDatabase<sqlx::Pool<DB>>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    TestDatabase<sqlx::Pool<DB>>: Send,
{
    fn touch(&self) -> impl Future<Output = ()> + Send {
        // TestDatabase is not Sync (its cleanup is a boxed FnOnce): hold the pool.
        let pool = self.pool().clone();
        async move {
            sqlx::raw_sql(TOUCH).execute(&pool).await.unwrap();
        }
    }
    async fn dispose(self) {
        self.close().await.unwrap();
    }
}

/// A database made as `#[sqlx::test]` makes it, with how to drop it.
struct SqlxTest<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    drop: Option<(String, String)>,
}

impl<DB: sqlx::Database> Test for SqlxTest<DB>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    async fn touch(&self) {
        sqlx::raw_sql(TOUCH).execute(&self.pool).await.unwrap();
    }
    async fn dispose(self) {
        self.pool.close().await;
        match self.drop {
            Some((url, sql)) if url.starts_with("sqlite:") => {
                let _ = std::fs::remove_file(&sql);
            }
            Some((url, sql)) => {
                let options: <DB::Connection as Connection>::Options = url.parse().unwrap();
                let mut admin = options.connect().await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
            }
            None => {}
        }
    }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// `#[sqlx::test]` on a server: `CREATE DATABASE` through an admin
/// connection, a pool on it, the migrator run.
async fn sqlx_server<DB: sqlx::Database>(url: &str, m: &'static sqlx::migrate::Migrator, drop_suffix: &str) -> SqlxTest<DB>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
    <DB::Connection as Connection>::Options: Clone,
{
    let name = unique("sqlxtest");
    let options: <DB::Connection as Connection>::Options = url.parse().unwrap();
    let mut admin = options.connect().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let db_url = format!("{}/{name}", url.rsplit_once('/').unwrap().0);
    let pool = sqlx::pool::PoolOptions::<DB>::new().connect(&db_url).await.unwrap();
    m.run(&pool).await.unwrap();
    SqlxTest {
        pool,
        drop: Some((url.to_string(), format!("DROP DATABASE IF EXISTS {name}{drop_suffix}"))),
    }
}

async fn sqlx_sqlite(m: &'static sqlx::migrate::Migrator) -> SqlxTest<sqlx::Sqlite> {
    let path = std::env::temp_dir().join(format!("{}.sqlite3", unique("sqlxtest")));
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    m.run(&pool).await.unwrap();
    SqlxTest {
        pool,
        drop: Some(("sqlite:".into(), path.display().to_string())),
    }
}

#[tokio::main]
async fn main() {
    let o = opts();
    // Templates of an earlier run stay valid (same checksums); start from none,
    // so the build is measured.
    template::drop_all_postgres(&pg().parse().unwrap()).await.unwrap();
    template::drop_all_mysql(&MY.parse().unwrap()).await.unwrap();
    template::drop_all_sqlite().unwrap();
    println!("| db | fresh migrated database | median | min | full run / this | note |");
    println!("|---|---|---:|---:|---:|---|");
    for b in &o.backends {
        match b.as_str() {
            "postgres" => postgres(&o).await,
            "sqlite" => sqlite(&o).await,
            "mysql" => mysql(&o).await,
            "none" => {}
            "pipeline" => pipeline(o.reps).await,
            other => panic!("unknown backend {other}"),
        }
    }
    if o.limit {
        limit_postgres().await;
        limit_sqlite().await;
    }
}

async fn checkpoint() {
    let mut c = pg().parse::<sqlx::postgres::PgConnectOptions>().unwrap().connect().await.unwrap();
    sqlx::raw_sql("CHECKPOINT").execute(&mut c).await.unwrap();
}

async fn postgres(o: &Opts) {
    let m = &ours_p::M;
    let t = Template::of(m);
    let build = time(1, || TestDatabase::postgres_from(pg(), &t), |d| async { d.unwrap().close().await.unwrap() }).await;
    checkpoint().await;
    let full = time(o.reps.min(7), || async { TestDatabase::postgres(pg()).await.unwrap().migrated(m).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let base = Some(median(&full));
    checkpoint().await;
    let copy = time(o.reps, || async { TestDatabase::postgres_from(pg(), &t).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let server: sqlx::postgres::PgConnectOptions = pg().parse().unwrap();
    let mut wal = Vec::new();
    let mut file = Vec::new();
    for i in 0..o.reps {
        for (strategy, into) in [(PostgresCopy::WalLog, &mut wal), (PostgresCopy::FileCopy, &mut file)] {
            let name = format!("fresh_copy_{i}_{}", into.len());
            let started = Instant::now();
            template::postgres_from_template(&server, &t, &name, strategy).await.unwrap();
            into.push(started.elapsed().as_secs_f64());
            let mut c = server.connect().await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(&mut c).await.unwrap();
        }
    }
    let sqlx = time(o.reps.min(7), || sqlx_server::<sqlx::Postgres>(pg(), &sqlx_p::MIGRATOR, " WITH (FORCE)"), |d| d.dispose()).await;
    row("PostgreSQL", "ours, full run (`postgres` + `migrated`)", &full, base, "");
    row("PostgreSQL", "ours, template (`postgres_from`)", &copy, base, "pool ready");
    row("PostgreSQL", "template copy, `STRATEGY FILE_COPY`", &file, base, "the CREATE DATABASE alone");
    row("PostgreSQL", "template copy, `STRATEGY WAL_LOG`", &wal, base, "the CREATE DATABASE alone");
    row("PostgreSQL", "`#[sqlx::test]` (create + `Migrator::run`)", &sqlx, base, "");
    row("PostgreSQL", "the template's one build", &build, None, "once per set and version");
    if o.suite > 0 {
        checkpoint().await;
        let tmpl = suite(o.suite, move || async move { TestDatabase::postgres_from(pg(), &Template::of(&ours_p::M)).await.unwrap() }).await;
        checkpoint().await;
        let sqlx = suite(o.suite, || sqlx_server::<sqlx::Postgres>(pg(), &sqlx_p::MIGRATOR, " WITH (FORCE)")).await;
        suite_rows("PostgreSQL", o.suite, tmpl, sqlx);
    }
}

fn suite_rows(backend: &str, n: usize, tmpl: f64, sqlx: f64) {
    println!(
        "| {backend} | suite of {n} tests, 2 at a time: ours from the template | {} | | {:.1}x faster than sqlx | |",
        ms(tmpl),
        sqlx / tmpl
    );
    println!("| {backend} | suite of {n} tests, 2 at a time: `#[sqlx::test]` | {} | | | |", ms(sqlx));
}

async fn sqlite(o: &Opts) {
    let m = &ours_s::M;
    let t = Template::of(m);
    let build = time(1, || TestDatabase::sqlite_from(&t), |d| async { d.unwrap().close().await.unwrap() }).await;
    let full = time(o.reps.min(7), || async { TestDatabase::sqlite().await.unwrap().migrated(m).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let base = Some(median(&full));
    let copy = time(o.reps, || async { TestDatabase::sqlite_from(&t).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let sqlx = time(o.reps.min(7), || sqlx_sqlite(&sqlx_s::MIGRATOR), |d| d.dispose()).await;
    row("SQLite", "ours, full run (`sqlite` + `migrated`)", &full, base, "");
    row("SQLite", "ours, template (`sqlite_from`)", &copy, base, "file copy, pool ready");
    row("SQLite", "`#[sqlx::test]` (new file + `Migrator::run`)", &sqlx, base, "");
    row("SQLite", "the template's one build", &build, None, "once per set and version");
    if o.suite > 0 {
        let tmpl = suite(o.suite, move || async move { TestDatabase::sqlite_from(&Template::of(&ours_s::M)).await.unwrap() }).await;
        let sqlx = suite(o.suite, || sqlx_sqlite(&sqlx_s::MIGRATOR)).await;
        suite_rows("SQLite", o.suite, tmpl, sqlx);
    }
}

async fn mysql(o: &Opts) {
    let m = &ours_m::M;
    let t = Template::of(m);
    let build = time(1, || TestDatabase::mysql_from(MY, &t), |d| async { d.unwrap().close().await.unwrap() }).await;
    let full = time(o.reps.min(5), || async { TestDatabase::mysql(MY).await.unwrap().migrated(m).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let base = Some(median(&full));
    let copy = time(o.reps, || async { TestDatabase::mysql_from(MY, &t).await.unwrap() }, |d| async { d.close().await.unwrap() }).await;
    let sqlx = time(o.reps.min(5), || sqlx_server::<sqlx::MySql>(MY, &sqlx_m::MIGRATOR, ""), |d| d.dispose()).await;
    row("MariaDB", "ours, full run (`mysql` + `migrated`)", &full, base, "");
    row("MariaDB", "ours, template (`mysql_from`)", &copy, base, "tables, rows, views, triggers, routines replayed");
    row("MariaDB", "`#[sqlx::test]` (create + `Migrator::run`)", &sqlx, base, "");
    row("MariaDB", "the template's one build", &build, None, "a full run, then one replay");
    if o.suite > 0 {
        let tmpl = suite(o.suite, move || async move { TestDatabase::mysql_from(MY, &Template::of(&ours_m::M)).await.unwrap() }).await;
        let sqlx = suite(o.suite, || sqlx_server::<sqlx::MySql>(MY, &sqlx_m::MIGRATOR, "")).await;
        suite_rows("MariaDB", o.suite, tmpl, sqlx);
    }
}

/// The generated folder of a set, for psql and the sqlite3 shell.
fn folder(app: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/apps").join(app).join("embed/migrations")
}

/// Every up file in order, each in its own transaction: what the tools do.
fn one_file(app: &str) -> PathBuf {
    let mut ups: Vec<PathBuf> = std::fs::read_dir(folder(app))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    let mut text = String::new();
    for up in ups {
        text.push_str("BEGIN;\n");
        text.push_str(&std::fs::read_to_string(up).unwrap());
        text.push_str("\nCOMMIT;\n");
    }
    let path = std::env::temp_dir().join(format!("{app}-all.sql"));
    std::fs::write(&path, text).unwrap();
    path
}

fn pg_log() -> PathBuf {
    if let Ok(p) = std::env::var("PG_LOG") {
        return p.into();
    }
    let dir = Path::new("/var/log/postgresql");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-main.log"))
        .expect("the PostgreSQL log (set PG_LOG)")
}

/// The durations (seconds) the server logged after byte `from`.
fn logged(log: &Path, from: u64) -> (f64, usize) {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(log).unwrap();
    f.seek(std::io::SeekFrom::Start(from)).unwrap();
    let mut text = String::new();
    f.read_to_string(&mut text).unwrap();
    let mut total = 0.0;
    let mut count = 0;
    for line in text.lines() {
        if let Some(rest) = line.split("duration: ").nth(1) {
            if let Some(ms) = rest.split(" ms").next().and_then(|v| v.trim().parse::<f64>().ok()) {
                total += ms / 1e3;
                count += 1;
            }
        }
    }
    (total, count)
}

/// A database with every statement's duration logged by the server.
async fn logged_database(name: &str) {
    let mut c = pg().parse::<sqlx::postgres::PgConnectOptions>().unwrap().connect().await.unwrap();
    // Two messages: CREATE DATABASE refuses the implicit transaction of one.
    for sql in [
        format!("CREATE DATABASE {name}"),
        format!("ALTER DATABASE {name} SET log_min_duration_statement = 0"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
    }
    sqlx::raw_sql("CHECKPOINT").execute(&mut c).await.unwrap();
}

async fn drop_pg(name: &str) {
    let mut c = pg().parse::<sqlx::postgres::PgConnectOptions>().unwrap().connect().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut c).await.unwrap();
}

/// Several migrations per round trip, as an upper bound of what it could
/// save: the 232 migrations, each `BEGIN; <up>; <a tracking row>; COMMIT;`,
/// sent to a fresh database as one simple-query message each (what our
/// PostgreSQL session sends today, one per migration), or `group` to a
/// message (the server runs each block in its own transaction and skips the
/// rest of a message after an error). Variants interleaved per round, so the
/// machine's noise falls on each alike.
async fn pipeline(reps: usize) {
    let mut ups: Vec<PathBuf> = std::fs::read_dir(folder("app-ours-rp-232"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    ups.sort();
    let blocks: Vec<String> = ups
        .iter()
        .enumerate()
        .map(|(i, up)| {
            format!(
                "BEGIN;\n{}\nINSERT INTO _rt (version, name, checksum) VALUES ({i}, 'm{i}', '{:064}');\n\
                 UPDATE _rt_state SET n = {i};\nCOMMIT;\n",
                std::fs::read_to_string(up).unwrap(),
                i
            )
        })
        .collect();
    let groups = [1usize, 4, 16, 64, 232];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); groups.len()];
    for round in 0..reps {
        for (g, &group) in groups.iter().enumerate() {
            let name = format!("fresh_rt_{round}_{group}_{}", std::process::id());
            let mut admin = pg().parse::<sqlx::postgres::PgConnectOptions>().unwrap().connect().await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
            let mut c = pg_db(&name)
                .parse::<sqlx::postgres::PgConnectOptions>()
                .unwrap()
                .connect()
                .await
                .unwrap();
            sqlx::raw_sql(
                "CREATE TABLE _rt (version BIGINT PRIMARY KEY, name TEXT, checksum TEXT); \
                 CREATE TABLE _rt_state (n BIGINT); INSERT INTO _rt_state VALUES (0)",
            )
            .execute(&mut c)
            .await
            .unwrap();
            let started = Instant::now();
            for chunk in blocks.chunks(group) {
                sqlx::raw_sql(sqlx::AssertSqlSafe(chunk.concat())).execute(&mut c).await.unwrap();
            }
            walls[g].push(started.elapsed().as_secs_f64());
            c.close().await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
    println!();
    println!("| PostgreSQL, 232 migrations | messages | median | min | against one per migration |");
    println!("|---|---:|---:|---:|---:|");
    let base = median(&walls[0]);
    for (g, &group) in groups.iter().enumerate() {
        println!(
            "| {group} migration(s) per message | {} | {:.1} ms | {:.1} ms | {:.3}x |",
            blocks.len().div_ceil(group),
            median(&walls[g]) * 1e3,
            walls[g].iter().cloned().fold(f64::INFINITY, f64::min) * 1e3,
            median(&walls[g]) / base
        );
    }
}

async fn limit_postgres() {
    let log = pg_log();
    println!();
    println!("| PostgreSQL, 232 migrations | wall | server's logged durations | statements logged | overhead over the server |");
    println!("|---|---:|---:|---:|---:|");
    let file = one_file("app-ours-rp-232");
    for round in 0..3 {
        let name = format!("fresh_limit_ours_{round}_{}", std::process::id());
        logged_database(&name).await;
        let pool = sqlx::PgPool::connect(&pg_db(&name)).await.unwrap();
        let from = std::fs::metadata(&log).unwrap().len();
        let started = Instant::now();
        ours_p::M.run(&pool).await.unwrap();
        let wall = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (server, count) = logged(&log, from);
        limit_row("ours `run`", wall, server, count);
        pool.close().await;
        drop_pg(&name).await;

        let name = format!("fresh_limit_sqlx_{round}_{}", std::process::id());
        logged_database(&name).await;
        let pool = sqlx::PgPool::connect(&pg_db(&name)).await.unwrap();
        let from = std::fs::metadata(&log).unwrap().len();
        let started = Instant::now();
        sqlx_p::MIGRATOR.run(&pool).await.unwrap();
        let wall = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (server, count) = logged(&log, from);
        limit_row("sqlx `Migrator::run`", wall, server, count);
        pool.close().await;
        drop_pg(&name).await;

        let name = format!("fresh_limit_psql_{round}_{}", std::process::id());
        logged_database(&name).await;
        let from = std::fs::metadata(&log).unwrap().len();
        let started = Instant::now();
        let status = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f"])
            .arg(&file)
            .arg(pg_db(&name))
            .status()
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (server, count) = logged(&log, from);
        limit_row("psql -f, one file (a round trip per statement)", wall, server, count);
        drop_pg(&name).await;
    }
}

fn limit_row(what: &str, wall: f64, server: f64, count: usize) {
    println!(
        "| {what} | {} | {} | {count} | {:.0} % |",
        ms(wall),
        ms(server),
        (wall - server) / server * 100.0
    );
}

async fn limit_sqlite() {
    println!();
    println!("| SQLite, 232 migrations | ours `run` | sqlx `Migrator::run` | sqlite3 shell, one file | ours over the shell |");
    println!("|---|---:|---:|---:|---:|");
    let file = one_file("app-ours-rs-232");
    for _ in 0..3 {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("{}.sqlite3", unique("limit")));
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options.clone()).await.unwrap();
        let started = Instant::now();
        ours_s::M.run(&pool).await.unwrap();
        let ours = started.elapsed().as_secs_f64();
        pool.close().await;
        let _ = std::fs::remove_file(&path);

        let db = sqlx_sqlite(&sqlx_s::MIGRATOR);
        let started = Instant::now();
        let db = db.await;
        let sqlx = started.elapsed().as_secs_f64();
        db.dispose().await;

        let path = dir.join(format!("{}.sqlite3", unique("limit")));
        let started = Instant::now();
        let status = std::process::Command::new("sqlite3")
            .arg(&path)
            .stdin(std::fs::File::open(&file).unwrap())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        let shell = started.elapsed().as_secs_f64();
        assert!(status.success());
        let _ = std::fs::remove_file(&path);
        println!(
            "| round | {} | {} | {} | {:.0} % |",
            ms(ours),
            ms(sqlx),
            ms(shell),
            (ours - shell) / shell * 100.0
        );
    }
}
