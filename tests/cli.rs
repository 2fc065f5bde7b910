//! The ops command line end to end: the demo binary, as a user runs it,
//! against a fresh database per test.
//!
//! Every scenario runs on SQLite (a file in a scratch folder), and on
//! PostgreSQL and MySQL when their features are on and `TEST_POSTGRES_URL` /
//! `TEST_MYSQL_URL` name a server where a database can be created; each test
//! creates its own database and drops it at the end. Without a URL those tests
//! skip with a message, except under `CI=true`, where they fail.

#![cfg(feature = "sqlite")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------
// The database under test.

enum Backend {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
    #[cfg(feature = "mysql")]
    MySql,
}

struct Target {
    backend: Backend,
    url: String,
    /// Scratch folder: the SQLite file and the demo's working directory.
    dir: PathBuf,
    /// Server URL and database name to drop at the end.
    #[allow(dead_code)] // only read by the server backends
    server: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("em-cli-{test}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

impl Target {
    fn sqlite(test: &str) -> Target {
        let dir = scratch_dir(test);
        let url = format!("sqlite://{}", dir.join("demo.db").display());
        Target {
            backend: Backend::Sqlite,
            url,
            dir,
            server: None,
        }
    }

    /// A new database on the server named by `env`, or `None` (skip) when the
    /// variable is unset outside CI.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn server(test: &str, env: &str, backend: Backend) -> Option<Target> {
        let Ok(server) = std::env::var(env) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{env} is not set, and CI=true requires every backend to be tested");
            }
            // Past libtest's capture of eprintln!: a skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: set {env} to run it against a real server ***\n"
            );
            return None;
        };
        let name = unique("em_cli");
        let create = format!("CREATE DATABASE {name}");
        match backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres => block_on(async {
                let pool = sqlx::PgPool::connect(&server)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(create)).execute(&pool).await.unwrap();
            }),
            #[cfg(feature = "mysql")]
            Backend::MySql => block_on(async {
                let pool = sqlx::MySqlPool::connect(&server)
                    .await
                    .expect("connect to TEST_MYSQL_URL");
                sqlx::query(sqlx::AssertSqlSafe(create)).execute(&pool).await.unwrap();
            }),
            Backend::Sqlite => unreachable!("sqlite needs no server"),
        }
        Some(Target {
            backend,
            url: with_database(&server, &name),
            dir: scratch_dir(test),
            server: Some((server, name)),
        })
    }

    #[cfg(feature = "postgres")]
    fn postgres(test: &str) -> Option<Target> {
        Target::server(test, "TEST_POSTGRES_URL", Backend::Postgres)
    }

    #[cfg(feature = "mysql")]
    fn mysql(test: &str) -> Option<Target> {
        Target::server(test, "TEST_MYSQL_URL", Backend::MySql)
    }

    fn demo(&self, args: &[&str]) -> Run {
        self.demo_with(&[], args)
    }

    fn demo_with(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(args)
            .envs(env.iter().copied())
            .env("DATABASE_URL", &self.url)
            .env_remove("RUST_LOG")
            .current_dir(&self.dir)
            .output()
            .expect("the demo runs");
        Run::new(args, output)
    }

    fn migrate(&self, args: &[&str]) -> Run {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        self.demo(&all)
    }

    /// Runs `sql` and returns the rows, each cell as text.
    fn query(&self, sql: &str) -> Vec<Vec<String>> {
        use sqlx::Row;
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => block_on(async {
                let options = self.url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap();
                let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
                    .await
                    .unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                let out = rows
                    .iter()
                    .map(|row| (0..row.len()).map(|i| cell_sqlite(row, i)).collect())
                    .collect();
                pool.close().await;
                out
            }),
            #[cfg(feature = "postgres")]
            Backend::Postgres => block_on(async {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                let out = rows
                    .iter()
                    .map(|row| (0..row.len()).map(|i| cell_postgres(row, i)).collect())
                    .collect();
                pool.close().await;
                out
            }),
            #[cfg(feature = "mysql")]
            Backend::MySql => block_on(async {
                let pool = sqlx::MySqlPool::connect(&self.url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                let out = rows
                    .iter()
                    .map(|row| (0..row.len()).map(|i| cell_mysql(row, i)).collect())
                    .collect();
                pool.close().await;
                out
            }),
        }
    }

    fn execute(&self, sql: &str) {
        self.query(sql);
    }

    /// Every table, view, index and column: what a migration can change.
    fn schema(&self) -> Vec<Vec<String>> {
        match self.backend {
            Backend::Sqlite => {
                self.query("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let mut rows = self.query(
                    "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() ORDER BY 1, 2",
                );
                rows.extend(self.query(
                    "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1",
                ));
                rows
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                let mut rows = self.query(
                    "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(column_type AS CHAR) \
                     FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1, 2",
                );
                rows.extend(self.query(
                    "SELECT CAST(table_name AS CHAR), CAST(index_name AS CHAR), CAST(column_name AS CHAR) \
                     FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY 1, 2, 3",
                ));
                rows
            }
        }
    }

    /// The SQLite file's bytes and its write-ahead log's, if any (empty for
    /// the server backends).
    fn sqlite_bytes(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut bytes = std::fs::read(self.dir.join("demo.db")).unwrap();
                bytes.extend(std::fs::read(self.dir.join("demo.db-wal")).unwrap_or_default());
                bytes
            }
            #[allow(unreachable_patterns)]
            _ => Vec::new(),
        }
    }

    fn has_table(&self, table: &str) -> bool {
        self.schema().iter().any(|row| row.iter().any(|cell| cell == table))
    }
}

fn cell_sqlite(row: &sqlx::sqlite::SqliteRow, i: usize) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(i)
        .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
        .unwrap_or_default()
}

#[cfg(feature = "postgres")]
fn cell_postgres(row: &sqlx::postgres::PgRow, i: usize) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(i)
        .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
        .or_else(|_| row.try_get::<i32, _>(i).map(|v| v.to_string()))
        .unwrap_or_default()
}

#[cfg(feature = "mysql")]
fn cell_mysql(row: &sqlx::mysql::MySqlRow, i: usize) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(i)
        .or_else(|_| row.try_get::<i64, _>(i).map(|v| v.to_string()))
        .unwrap_or_default()
}

/// `scheme://user:pass@host:port/<database>?query` with the database replaced.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL with ://");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{database}{query}")
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        if let Some((server, name)) = self.server.take() {
            match self.backend {
                #[cfg(feature = "postgres")]
                Backend::Postgres => block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&server).await {
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await;
                    }
                }),
                #[cfg(feature = "mysql")]
                Backend::MySql => block_on(async {
                    if let Ok(pool) = sqlx::MySqlPool::connect(&server).await {
                        let drop = format!("DROP DATABASE IF EXISTS {name}");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&pool).await;
                    }
                }),
                Backend::Sqlite => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// One run of the demo.

struct Run {
    args: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn new(args: &[&str], output: Output) -> Run {
        Run {
            args: args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(expected),
            "`demo {}` exit code\n--- stdout\n{}--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn ok(&self) -> &Run {
        self.code(0)
    }

    #[track_caller]
    fn out(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "`demo {}`: expected `{needle}` on stdout\n--- stdout\n{}--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn err(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "`demo {}`: expected `{needle}` on stderr\n--- stdout\n{}--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Json {
        Json::parse(&self.stdout).unwrap_or_else(|err| panic!("`demo {}`: {err}\n{}", self.args, self.stdout))
    }
}

// ---------------------------------------------------------------------------
// A small JSON reader: enough to check what deploy scripts read.

#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser {
            bytes: text.as_bytes(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.blank();
        if parser.pos != parser.bytes.len() {
            return Err(format!("trailing text at byte {}", parser.pos));
        }
        Ok(value)
    }

    #[track_caller]
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(map) => map.get(key).unwrap_or_else(|| panic!("no `{key}` in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }

    #[track_caller]
    fn int(&self) -> i64 {
        match self {
            Json::Number(n) if n.fract() == 0.0 => *n as i64,
            _ => panic!("not an integer: {self:?}"),
        }
    }

    #[track_caller]
    fn str(&self) -> &str {
        match self {
            Json::String(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }

    #[track_caller]
    fn array(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => panic!("not an array: {self:?}"),
        }
    }
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn blank(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.blank();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", byte as char, self.pos))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(format!("unexpected text at byte {}", self.pos))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.blank();
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                self.blank();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(map));
                }
                loop {
                    self.blank();
                    let key = self.string()?;
                    self.expect(b':')?;
                    map.insert(key, self.value()?);
                    self.blank();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(map));
                        }
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.pos)),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.blank();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.blank();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(format!("expected `,` or `]` at byte {}", self.pos)),
                    }
                }
            }
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self.pos < self.bytes.len()
                    && matches!(self.bytes[self.pos], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap();
                text.parse()
                    .map(Json::Number)
                    .map_err(|_| format!("bad number `{text}`"))
            }
            _ => Err(format!("unexpected byte at {}", self.pos)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(format!("expected a string at byte {}", self.pos));
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err("unterminated string".to_string());
            };
            self.pos += 1;
            match byte {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let escaped = *self.bytes.get(self.pos).ok_or("unterminated escape")?;
                    self.pos += 1;
                    let c = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex =
                                std::str::from_utf8(&self.bytes[self.pos..self.pos + 4]).map_err(|e| e.to_string())?;
                            self.pos += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?)
                                .unwrap_or('\u{fffd}')
                        }
                        other => return Err(format!("bad escape `\\{}`", other as char)),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b if b < 0x20 => return Err("control character in a string".to_string()),
                b => out.push(b),
            }
        }
    }
}

#[test]
fn the_json_reader_reads_what_it_should() {
    let value = Json::parse(r#"{"a": [1, -2.5, true, null], "b": "x\"\\\n\u00e9"}"#).unwrap();
    assert_eq!(value.get("a").array().len(), 4);
    assert_eq!(value.get("b").str(), "x\"\\\né");
    assert!(Json::parse("{\"a\": 1,}").is_err());
    assert!(Json::parse("[1] 2").is_err());
}

// ---------------------------------------------------------------------------
// Scenarios, each run on every backend by `scenarios!` below.

/// Versions in `status --json` with their state, for compact assertions.
fn states(status: &Json) -> Vec<(i64, String)> {
    status
        .get("migrations")
        .array()
        .iter()
        .map(|m| (m.get("version").int(), m.get("state").str().to_string()))
        .collect()
}

fn applied_versions(t: &Target) -> Vec<i64> {
    states(&t.migrate(&["status", "--json"]).ok().json())
        .into_iter()
        .filter(|(_, state)| state == "applied")
        .map(|(v, _)| v)
        .collect()
}

fn no_arguments_applies_everything_then_nothing(t: &Target) {
    let first = t.demo(&[]);
    first
        .ok()
        .out("applying 8 migration(s)")
        .out("[1/8] 001 create_users ... ")
        .out("[8/8] 008 hash_user_emails ... ")
        .out("applied 8 migration(s); now at version 008")
        .out("current version 008, latest 008: 8 applied, 0 pending");
    // Each progress line ends with the step's duration.
    for line in first.stdout.lines().filter(|l| l.starts_with('[')) {
        assert!(line.ends_with(" ms") || line.ends_with(" s"), "{line}");
    }
    let second = t.demo(&[]);
    second.ok().out("nothing to apply; at version 008");
    assert!(!second.stdout.contains("[1/"), "{}", second.stdout);
}

fn status_table_lists_every_column(t: &Target) {
    let run = t.migrate(&["status"]);
    run.ok()
        .out("version  name")
        .out("description")
        .out("state")
        .out("applied at")
        .out("duration")
        .out("current version 0, latest 008: 0 applied, 8 pending");
    let line = run.stdout.lines().find(|l| l.starts_with("001 ")).unwrap();
    assert!(line.contains("create_users") && line.contains("Users who log in") && line.contains("pending"));
    t.migrate(&["up", "--to", "6"]).ok();
    let run = t.migrate(&["status"]);
    run.ok().out("current version 006, latest 008: 6 applied, 2 pending");
    let line = run.stdout.lines().find(|l| l.starts_with("006 ")).unwrap();
    assert!(line.contains("applied (irreversible)"), "{line}");
    assert!(line.contains(" ms"), "{line}");
    let line = run.stdout.lines().find(|l| l.starts_with("007 ")).unwrap();
    assert!(line.contains("pending"), "{line}");
}

fn status_json_is_what_deploy_scripts_read(t: &Target) {
    let status = t.migrate(&["status", "--json"]).ok().json();
    assert_eq!(status.get("current_version").int(), 0);
    assert_eq!(status.get("latest_version").int(), 8);
    assert_eq!(status.get("pending_count").int(), 8);
    assert_eq!(status.get("applied_count").int(), 0);
    assert_eq!(status.get("up_to_date"), &Json::Bool(false));
    assert_eq!(status.get("migrations").array().len(), 8);

    t.migrate(&["up", "--to", "3"]).ok();
    let status = t.migrate(&["status", "--json"]).ok().json();
    assert_eq!(status.get("current_version").int(), 3);
    assert_eq!(status.get("pending_count").int(), 5);
    assert_eq!(status.get("applied_count").int(), 3);
    let first = &status.get("migrations").array()[0];
    assert_eq!(first.get("name").str(), "create_users");
    assert_eq!(first.get("description").str(), "Users who log in");
    assert!(first.get("applied_at").str().contains('T'), "{first:?}");
    assert!(first.get("execution_ms").int() >= 0);
    assert_eq!(first.get("irreversible"), &Json::Bool(false));
    let sixth = &status.get("migrations").array()[5];
    assert_eq!(sixth.get("state").str(), "pending");
    assert_eq!(sixth.get("applied_at"), &Json::Null);
    assert_eq!(sixth.get("irreversible"), &Json::Bool(true));
    assert_eq!(
        states(&status).into_iter().map(|(_, s)| s).collect::<Vec<_>>(),
        ["applied", "applied", "applied", "pending", "pending", "pending", "pending", "pending"]
    );

    t.migrate(&["up"]).ok();
    let status = t.migrate(&["status", "--json"]).ok().json();
    assert_eq!(status.get("up_to_date"), &Json::Bool(true));
    assert_eq!(status.get("current_version").int(), 8);
}

/// How a dry run says a transactional file runs on `t`'s database: MySQL
/// commits DDL implicitly, so nothing runs in one transaction there.
fn transaction_mode(t: &Target) -> &'static str {
    match t.backend {
        #[cfg(feature = "mysql")]
        Backend::MySql => "statement by statement, no transaction",
        _ => "in one transaction",
    }
}

fn up_dry_run_prints_the_statements_and_changes_nothing(t: &Target) {
    let before = t.schema();
    let run = t.migrate(&["up", "--dry-run"]);
    let mode = transaction_mode(t);
    run.ok()
        .out("-- dry run: 8 migration(s) would be applied, in this order; nothing was changed")
        .out(&format!(
            "-- [1/8] up 001 create_users: 001_create_users.up.sql ({mode})"
        ))
        .out("CREATE TABLE IF NOT EXISTS users (")
        .out("-- [8/8] up 008 hash_user_emails: 008_hash_user_emails.rs")
        // No SQL to show for a Rust code migration: what runs instead.
        .out("-- Rust code migration, `008_hash_user_emails.rs`: its `up` function runs");
    let first = run.stdout.find("001_create_users.up.sql").unwrap();
    let last = run.stdout.find("008_hash_user_emails.rs").unwrap();
    assert!(first < last, "in version order");
    // Statements come out terminated, ready to paste.
    assert!(run.stdout.contains(");\n"), "{}", run.stdout);
    assert_eq!(
        t.schema(),
        before,
        "a dry run changes nothing, not even the tracking tables"
    );

    t.migrate(&["up", "--to", "4"]).ok();
    let before = t.schema();
    let run = t.migrate(&["up", "--to", "6", "--dry-run"]);
    run.ok()
        .out("2 migration(s) would be applied")
        .out("005_add_users_timezone.up.sql")
        .out("006_normalize_symbols.up.sql");
    assert!(!run.stdout.contains("007_"), "{}", run.stdout);
    assert_eq!(t.schema(), before);
    assert_eq!(applied_versions(t), [1, 2, 3, 4]);
}

fn down_dry_run_prints_the_statements_and_changes_nothing(t: &Target) {
    t.migrate(&["up"]).ok();
    let before = t.schema();
    let run = t.migrate(&["down", "--dry-run"]);
    run.ok()
        .out("1 migration(s) would be reverted")
        .out("-- [1/1] down 008 hash_user_emails: 008_hash_user_emails.rs")
        .out("-- Rust code migration, `008_hash_user_emails.rs`: its `down` function runs");
    assert_eq!(t.schema(), before);
    // Past an irreversible migration even the preview refuses.
    t.migrate(&["down", "3", "--dry-run"])
        .code(2)
        .err("cannot be reverted: `006_normalize_symbols.down.sql` says migrate:irreversible");
    assert_eq!(t.schema(), before);
    assert_eq!(applied_versions(t), [1, 2, 3, 4, 5, 6, 7, 8]);
    let history = t.migrate(&["history", "--json"]).ok().json();
    assert!(
        history.array().iter().all(|h| h.get("direction").str() == "up"),
        "no down recorded"
    );
}

fn up_to_down_n_and_down_to(t: &Target) {
    t.migrate(&["up", "--to", "3"])
        .ok()
        .out("applying 3 migration(s)")
        .out("[3/3] 003 create_portfolio_transactions ... ")
        .out("now at version 003");
    assert_eq!(applied_versions(t), [1, 2, 3]);
    t.migrate(&["up", "--to", "2"])
        .ok()
        .out("nothing to apply; at version 003");
    t.migrate(&["down", "2"])
        .ok()
        .out("reverting 2 migration(s)")
        .out("[1/2] 003 create_portfolio_transactions ... ")
        .out("[2/2] 002 create_portfolio_holdings ... ")
        .out("reverted 2 migration(s); now at version 001");
    assert!(!t.has_table("portfolio_holdings"));
    t.migrate(&["up", "--to", "5"]).ok();
    t.migrate(&["down", "--to", "2"])
        .ok()
        .out("reverted 3 migration(s); now at version 002");
    assert_eq!(applied_versions(t), [1, 2]);
    t.migrate(&["down"])
        .ok()
        .out("reverted 1 migration(s); now at version 001");
    t.migrate(&["down", "--to", "0"]).ok().out("now at version 0");
    t.migrate(&["down"]).ok().out("nothing to revert");
    assert!(!t.has_table("users"));
}

fn down_reason_is_kept_in_history(t: &Target) {
    t.migrate(&["up", "--to", "5"]).ok();
    t.migrate(&["down", "2", "--reason", "bad deploy: \"timezone\" broke reports"])
        .ok();
    let run = t.migrate(&["history"]);
    run.ok()
        .out("started at")
        .out("direction")
        .out("duration")
        .out("result")
        .out("reason")
        .out("bad deploy: \"timezone\" broke reports");
    let downs: Vec<&str> = run.stdout.lines().filter(|l| l.contains(" down ")).collect();
    assert_eq!(downs.len(), 2, "{}", run.stdout);
    assert!(
        downs.iter().all(|l| l.contains(" ok ") && l.contains("bad deploy")),
        "{downs:?}"
    );

    let history = t.migrate(&["history", "--json"]).ok().json();
    let entries = history.array();
    assert_eq!(entries.len(), 7, "5 up and 2 down");
    let last = &entries[6];
    assert_eq!(last.get("version").int(), 4);
    assert_eq!(last.get("direction").str(), "down");
    assert_eq!(last.get("success"), &Json::Bool(true));
    assert_eq!(last.get("reason").str(), "bad deploy: \"timezone\" broke reports");
    assert!(last.get("duration_ms").int() >= 0);
    assert_eq!(entries[0].get("reason"), &Json::Null);
}

fn irreversible_blocks_down_and_fresh_before_anything_changes(t: &Target) {
    t.migrate(&["up"]).ok();
    let before = t.schema();
    t.migrate(&["down", "3"])
        .code(2)
        .err("error: migration 6 (normalize_symbols) cannot be reverted")
        .err("nothing was changed");
    assert_eq!(t.schema(), before);
    assert_eq!(
        applied_versions(t),
        [1, 2, 3, 4, 5, 6, 7, 8],
        "not even 008 was reverted"
    );

    t.migrate(&["fresh", "--yes"])
        .code(2)
        .err("fresh refused before changing anything")
        .err("`006_normalize_symbols.down.sql` says migrate:irreversible");
    assert_eq!(t.schema(), before);
    assert_eq!(applied_versions(t), [1, 2, 3, 4, 5, 6, 7, 8]);
}

fn fresh_needs_yes_then_rebuilds(t: &Target) {
    t.migrate(&["up", "--to", "5"]).ok();
    t.execute("INSERT INTO users (email, display_name) VALUES ('a@example.com', 'A')");
    t.migrate(&["fresh"])
        .code(2)
        .err("fresh reverts every applied migration")
        .err("--yes");
    assert_eq!(t.query("SELECT COUNT(*) FROM users"), [["1"]], "refused: data kept");

    t.migrate(&["fresh", "--yes"])
        .ok()
        .out("reverting 5 migration(s)")
        .out("[1/5] 005 add_users_timezone ... ")
        .out("applying 8 migration(s)")
        .out("[8/8] 008 hash_user_emails ... ")
        .out("fresh: reverted 5, applied 8 migration(s)");
    assert_eq!(t.query("SELECT COUNT(*) FROM users"), [["0"]]);
    assert_eq!(applied_versions(t), [1, 2, 3, 4, 5, 6, 7, 8]);
    let history = t.migrate(&["history", "--json"]).ok().json();
    let downs: Vec<&Json> = history
        .array()
        .iter()
        .filter(|h| h.get("direction").str() == "down")
        .collect();
    assert_eq!(downs.len(), 5);
    assert!(downs.iter().all(|h| h.get("reason").str() == "fresh"));
}

fn validate_passes_then_lists_every_problem(t: &Target) {
    t.migrate(&["validate"]).ok().out("ok: 0 applied, 8 pending");
    t.migrate(&["up", "--to", "4"]).ok();
    t.migrate(&["validate"])
        .ok()
        .out("ok: 4 applied, 4 pending; at version 004, latest 008");
    // A hand edit: the recorded checksum of 002 no longer matches its file.
    t.execute(&format!(
        "UPDATE _embedded_migrations SET checksum = '{}' WHERE version = 2",
        "0".repeat(64)
    ));
    let run = t.migrate(&["validate"]);
    run.code(2)
        .err("validation found")
        .err("migration 2 (create_portfolio_holdings) was changed after it was applied");
    t.migrate(&["status"]).ok().out("1 drifted (see `migrate validate`)");
    let status = t.migrate(&["status", "--json"]).ok().json();
    assert_eq!(states(&status)[1], (2, "drifted".to_string()));
    t.migrate(&["up"]).code(2).err("was changed after it was applied");
    assert_eq!(applied_versions(t), [1, 3, 4], "nothing applied past drift");
}

fn force_forget_and_a_failing_migration(t: &Target) {
    t.migrate(&["up", "--to", "2"]).ok();
    // Forget 002 while its table stays: the next `up` runs it again and fails.
    t.migrate(&["forget", "2"])
        .ok()
        .out("removed the record of 002; nothing was run");
    assert_eq!(applied_versions(t), [1]);
    assert!(t.has_table("portfolio_holdings"), "forget runs nothing");
    let run = t.migrate(&["up"]);
    run.code(1)
        .out("[1/7] 002 create_portfolio_holdings ... failed after")
        .err("error: migration 2 (create_portfolio_holdings) failed up in `002_create_portfolio_holdings.up.sql`");
    assert_eq!(applied_versions(t), [1]);
    let history = t.migrate(&["history", "--json"]).ok().json();
    let last = history.array().last().unwrap();
    assert_eq!(last.get("success"), &Json::Bool(false));
    assert!(
        last.get("error").str().contains("create_portfolio_holdings"),
        "{last:?}"
    );
    t.migrate(&["history"]).ok().out("failed: migration 2");

    t.migrate(&["force", "2"])
        .ok()
        .out("marked 002 create_portfolio_holdings as applied; nothing was run");
    assert_eq!(applied_versions(t), [1, 2]);
    t.migrate(&["up"])
        .ok()
        .out("applied 6 migration(s); now at version 008");

    t.migrate(&["force", "42"])
        .code(2)
        .err("this binary has no migration 42");
    t.migrate(&["forget", "42"]).code(2).err("version 42");
}

/// Issue 13: a tracking row deleted by hand is never silently ignored —
/// `status` warns, `up` refuses naming `migrate repair` — and `repair`
/// rebuilds the state row, or accepts an intentional edit, writing history.
fn repair_after_hand_edits(t: &Target) {
    t.migrate(&["up", "--to", "3"]).ok();
    t.execute("DELETE FROM _embedded_migrations WHERE version = 3");
    t.migrate(&["status"])
        .ok()
        .out("WARNING: ")
        .out("holds 2 up to version 2")
        .out("migrate repair --reason");
    t.migrate(&["up"])
        .code(2)
        .err("the tracking state row says 3 migration(s) applied up to version 3, but the tracking table holds 2 up to version 2")
        .err("`migrate repair --reason '...'`");
    assert_eq!(applied_versions(t), [1, 2], "nothing ran");
    t.migrate(&["repair", "--reason", "re-run 003"])
        .ok()
        .out("repair: state row 3 applied up to 3 (chain ")
        .out(" -> 2 applied up to 2 (chain ")
        .out("; reason: re-run 003; nothing was run");
    t.migrate(&["validate"]).ok().out("ok: 2 applied, 6 pending");
    t.migrate(&["repair"])
        .ok()
        .out("repair: nothing to repair: the state row agrees with the tracking rows");

    // An intentional edit of an applied file (here: its recorded checksum).
    t.execute(&format!(
        "UPDATE _embedded_migrations SET checksum = '{}' WHERE version = 2",
        "0".repeat(64)
    ));
    t.migrate(&["up"])
        .code(2)
        .err("`migrate repair --accept-edit 2 --reason '...'`");
    t.migrate(&["repair", "--accept-edit", "2", "--reason", "comment only"])
        .ok()
        .out(&format!(
            "repair: accepted the edit of 2 (create_portfolio_holdings): checksum {} -> ",
            "0".repeat(64)
        ));
    t.migrate(&["validate"]).ok().out("ok: 2 applied, 6 pending");
    t.migrate(&["repair", "--accept-edit", "5"])
        .code(2)
        .err("migration 5 (add_users_timezone) is not applied");
    let history = t.migrate(&["history", "--json"]).ok().json();
    let reasons: Vec<String> = history
        .array()
        .iter()
        .filter_map(|h| match h.get("reason") {
            Json::String(reason) if reason.starts_with("repair:") => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[1].ends_with("reason: comment only"), "{reasons:?}");
}

fn bad_arguments_exit_2_with_usage(t: &Target) {
    for args in [
        vec!["migrate"],
        vec!["migrate", "bogus"],
        vec!["migrate", "down", "1", "--to", "2"],
        vec!["migrate", "down", "0"],
        vec!["migrate", "down", "-1"],
        vec!["migrate", "up", "--to", "abc"],
        vec!["migrate", "force"],
        vec!["migrate", "status", "--yaml"],
        vec!["frobnicate"],
    ] {
        let run = t.demo(&args);
        run.code(2);
        assert!(
            run.stderr.contains("Usage: demo") || run.stderr.contains("try '--help'"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    t.migrate(&["down", "0"]).code(2).err("a whole number from 1");
    t.migrate(&["up", "--to", "42"])
        .code(2)
        .err("this binary has no migration 42");
    assert!(!t.has_table("users"), "nothing ran");
    let help = t.migrate(&["--help"]);
    help.ok();
    for command in [
        "status", "up", "down", "validate", "history", "force", "forget", "fresh",
    ] {
        assert!(
            help.stdout.contains(&format!("  {command}")),
            "{command} in\n{}",
            help.stdout
        );
    }
    t.migrate(&["down", "--help"])
        .ok()
        .out("--dry-run")
        .out("--reason <TEXT>")
        .out("--to <VERSION>");
}

/// `check`: exit 0 only at exactly this binary's version with nothing wrong,
/// 3 while migrations are pending, 2 for drift; never a write.
fn check_gates_and_writes_nothing(t: &Target) {
    let before = t.schema();
    let run = t.migrate(&["check"]);
    run.code(3).out("not ready: 8 pending; at version 0, latest 008");
    assert_eq!(
        t.schema(),
        before,
        "check created nothing, not even the tracking tables"
    );

    t.migrate(&["up", "--to", "3"]).ok();
    let before = (
        t.schema(),
        t.query("SELECT version, checksum, applied_at FROM _embedded_migrations ORDER BY version"),
    );
    let file = t.sqlite_bytes();
    let readiness = t.migrate(&["check", "--json"]).code(3).json();
    assert_eq!(readiness.get("state").str(), "pending");
    assert_eq!(readiness.get("up_to_date"), &Json::Bool(false));
    assert_eq!(readiness.get("current_version").int(), 3);
    assert_eq!(readiness.get("latest_version").int(), 8);
    assert_eq!(readiness.get("pending_count").int(), 5);
    assert_eq!(readiness.get("drifted"), &Json::Bool(false));
    assert_eq!(readiness.get("dirty"), &Json::Bool(false));
    assert_eq!(readiness.get("ahead"), &Json::Bool(false));
    assert_eq!(readiness.get("error"), &Json::Null);
    let after = (
        t.schema(),
        t.query("SELECT version, checksum, applied_at FROM _embedded_migrations ORDER BY version"),
    );
    assert_eq!(after, before);
    assert_eq!(t.sqlite_bytes(), file, "not one byte of the SQLite file changed");

    t.migrate(&["up"]).ok();
    t.migrate(&["check"]).ok().out("ready: at version 008, the latest");
    let readiness = t.migrate(&["check", "--json"]).ok().json();
    assert_eq!(readiness.get("state").str(), "ready");
    assert_eq!(readiness.get("up_to_date"), &Json::Bool(true));

    t.execute(&format!(
        "UPDATE _embedded_migrations SET checksum = '{}' WHERE version = 2",
        "0".repeat(64)
    ));
    t.migrate(&["check"])
        .code(2)
        .out("not ready: drifted; at version 008, latest 008")
        .err("was changed after it was applied");
    let readiness = t.migrate(&["check", "--json"]).code(2).json();
    assert_eq!(readiness.get("state").str(), "drifted");
    assert_eq!(readiness.get("drifted"), &Json::Bool(true));
}

/// `plan`: what `up` would apply, statement by statement; exit 3 while
/// something is pending, 0 when nothing is, 2 for drift; never a write.
fn plan_says_what_up_would_apply_and_writes_nothing(t: &Target) {
    let before = t.schema();
    t.migrate(&["plan"])
        .code(3)
        .out("-- plan: 8 migration(s) would be applied, in this order; nothing was changed")
        .out(&format!(
            "-- [1/8] up 001 create_users: 001_create_users.up.sql ({})",
            transaction_mode(t)
        ))
        .out("-- [8/8] up 008 hash_user_emails");
    assert_eq!(t.schema(), before, "plan created nothing, not even the tracking tables");

    t.migrate(&["up", "--to", "3"]).ok();
    let before = (
        t.schema(),
        t.query("SELECT version, checksum, applied_at FROM _embedded_migrations ORDER BY version"),
        t.query("SELECT count(*) FROM _embedded_migrations_history"),
    );
    let file = t.sqlite_bytes();
    let plan = t.migrate(&["plan", "--json"]).code(3).json();
    let steps = plan.get("steps").array();
    let versions: Vec<i64> = steps.iter().map(|s| s.get("version").int()).collect();
    assert_eq!(versions, [4, 5, 6, 7, 8]);
    assert_eq!(steps[0].get("direction").str(), "up");
    assert!(!steps[0].get("statements").array().is_empty());
    t.migrate(&["plan", "--to", "5"])
        .code(3)
        .out("-- plan: 2 migration(s) would be applied");
    let after = (
        t.schema(),
        t.query("SELECT version, checksum, applied_at FROM _embedded_migrations ORDER BY version"),
        t.query("SELECT count(*) FROM _embedded_migrations_history"),
    );
    assert_eq!(after, before);
    assert_eq!(t.sqlite_bytes(), file, "not one byte of the SQLite file changed");

    t.migrate(&["up"]).ok();
    t.migrate(&["plan"]).ok().out("-- plan: nothing would be applied");
    assert_eq!(t.migrate(&["plan", "--json"]).ok().json().get("steps").array().len(), 0);

    t.execute(&format!(
        "UPDATE _embedded_migrations SET checksum = '{}' WHERE version = 2",
        "0".repeat(64)
    ));
    t.migrate(&["plan"]).code(2).err("was changed after it was applied");
}

/// A damaged state is judged alike by `plan`, `up --dry-run` and `up`:
/// check's exit code (2), and the plan says `up` will refuse and why; `up`
/// never reports "nothing to apply" while the rows show a pending migration.
fn plan_dry_run_and_up_agree_on_a_damaged_state(t: &Target) {
    // A row deleted below the state row: the state row disagrees with the rows.
    t.migrate(&["up", "--to", "3"]).ok();
    t.execute("DELETE FROM _embedded_migrations WHERE version = 3");
    t.migrate(&["check"]).code(2);
    for args in [vec!["plan"], vec!["up", "--dry-run"]] {
        t.migrate(&args)
            .code(2)
            .err("`up` will refuse")
            .err("the tracking state row says 3 migration(s) applied up to version 3");
    }
    t.migrate(&["up"]).code(2).err("`migrate repair --reason '...'`");
    t.migrate(&["repair"]).ok();
    t.migrate(&["force", "3"]).ok(); // its table is there: recorded again

    // The newest row deleted once everything was applied: the state row still
    // says up to date, the rows say one is pending.
    t.migrate(&["up"]).ok();
    t.execute("DELETE FROM _embedded_migrations WHERE version = 8");
    t.migrate(&["check"]).code(2);
    t.migrate(&["plan"]).code(2).err("`up` will refuse");
    t.migrate(&["up", "--dry-run"]).code(2).err("`up` will refuse");
    let up = t.migrate(&["up"]);
    up.code(2)
        .err("holds 7 up to version 7")
        .err("`migrate repair --reason '...'`");
    assert!(!up.stdout.contains("nothing to apply"), "{}", up.stdout);
    t.migrate(&["up", "--json"]).code(2).err("holds 7 up to version 7");
}

/// The state row's dirty flag set by hand is named as what differs, not
/// as checksums.
fn a_hand_set_dirty_flag_is_named_as_the_difference(t: &Target) {
    t.migrate(&["up", "--to", "2"]).ok();
    t.execute("UPDATE _embedded_migrations_state SET dirty = TRUE");
    let up = t.migrate(&["up"]);
    up.code(2)
        .err("the state row's dirty flag is set, and no tracking row is dirty");
    assert!(!up.stderr.contains("checksums other than"), "{}", up.stderr);
}

/// Another application's rows in this table (same versions, other names
/// and checksums) are named as such by every command, before any advice.
fn another_applications_table_is_named_before_any_advice(t: &Target) {
    t.migrate(&["up"]).ok();
    t.execute(&format!(
        "UPDATE _embedded_migrations SET name = 'other_app', checksum = '{}'",
        "0".repeat(64)
    ));
    let foreign = "belongs to another migration set";
    t.migrate(&["status"]).code(2).err(foreign);
    for args in [
        vec!["down"],
        vec!["fresh", "--yes"],
        vec!["repair", "--accept-edit", "2"],
        vec!["plan"],
    ] {
        let run = t.migrate(&args);
        run.code(2).err(foreign);
        assert!(!run.stderr.contains("--accept-edit"), "{args:?}: {}", run.stderr);
    }
    let versions = t.query("SELECT version FROM _embedded_migrations ORDER BY version");
    assert_eq!(versions.len(), 8, "nothing changed: {versions:?}");
    assert!(t.has_table("skill_progressions"), "nothing was reverted");
}

/// `verify` on a database where everything is applied checks nothing, and
/// says so with a refusal instead of a success.
fn verify_on_a_migrated_database_refuses(t: &Target) {
    t.migrate(&["up"]).ok();
    let run = t.migrate(&["verify", "--yes"]);
    run.code(2).err("verify checked nothing").err("empty scratch database");
    assert!(!run.stdout.contains("0 migration(s) checked"), "{}", run.stdout);
}

/// A state row whose chain is not hex: validate and repair fail with the
/// same error, so it must not send the user to them for the value; the fix
/// it names (the empty chain, then `repair`) works.
fn a_corrupt_chain_names_a_fix_that_works(t: &Target) {
    t.migrate(&["up", "--to", "3"]).ok();
    t.execute("UPDATE _embedded_migrations_state SET chain = 'zz'");
    for args in [vec!["validate"], vec!["repair"]] {
        let run = t.migrate(&args);
        run.code(2).err("reset the state row to the empty chain");
        assert!(!run.stderr.contains("`validate` names the value"), "{}", run.stderr);
    }
    t.execute(&format!(
        "UPDATE _embedded_migrations_state SET chain = '{}'",
        "0".repeat(64)
    ));
    t.migrate(&["repair", "--reason", "chain reset"]).ok();
    t.migrate(&["validate"]).ok().out("ok: 3 applied, 5 pending");
}

/// A version the binary has and the database lacks, or the reverse: the
/// message says which side lacks it.
fn an_unknown_version_says_which_side_lacks_it(t: &Target) {
    t.migrate(&["up", "--to", "3"]).ok();
    t.migrate(&["forget", "5"])
        .code(2)
        .err("migration 5 is in this binary, but the database has no record of it");
    t.migrate(&["force", "42"])
        .code(2)
        .err("this binary has no migration 42");
    t.migrate(&["down", "--to", "42"])
        .code(2)
        .err("version 42 is neither in this binary nor in the database");
}

/// A database whose schema was built before this binary tracked it (here:
/// applied, then its tracking tables dropped): `baseline` adopts it, `up`
/// applies what follows, `import` names what is missing.
fn baseline_and_import(t: &Target) {
    t.migrate(&["up", "--to", "3"]).ok();
    for table in [
        "_embedded_migrations",
        "_embedded_migrations_history",
        "_embedded_migrations_state",
    ] {
        t.execute(&format!("DROP TABLE {table}"));
    }
    let dry = t.migrate(&["baseline", "3", "--reason", "moved from scripts", "--dry-run"]);
    dry.ok()
        .out("would record 001 create_users as applied (not run)")
        .out("would record 3 migration(s) with history reason `baseline: moved from scripts`")
        .out("nothing was changed");
    assert!(!t.has_table("_embedded_migrations"), "a dry run creates nothing");
    t.migrate(&["baseline", "3", "--reason", "moved from scripts"])
        .ok()
        .out("recorded 003 create_portfolio_transactions as applied (not run)")
        .out("recorded 3 migration(s)");
    let line = t
        .migrate(&["status"])
        .ok()
        .stdout
        .lines()
        .find(|l| l.starts_with("002 "))
        .unwrap()
        .to_string();
    assert!(line.contains("applied (baseline)"), "{line}");
    let status = t.migrate(&["status", "--json"]).ok().json();
    let first = &status.get("migrations").array()[0];
    assert_eq!(first.get("baseline").str(), "baseline: moved from scripts");
    assert_eq!(status.get("migrations").array()[3].get("baseline"), &Json::Null);
    t.migrate(&["up"])
        .ok()
        .out("applied 5 migration(s); now at version 008");
    t.migrate(&["baseline", "3"])
        .code(2)
        .err("version 4")
        .err("nothing was written");
    t.migrate(&["import", "sqlx"]).code(1).err("_sqlx_migrations");
    t.migrate(&["import", "flyway"]).code(2).err("unknown tool `flyway`");
}

/// `down --backup PATH` writes the whole database to a new file first and
/// reverts only then, naming the file in the history; a backup that cannot
/// be written (the path taken, the dump program missing or failing, a file
/// SQLite cannot create) reverts nothing and says why.
fn down_backup_writes_first_then_reverts(t: &Target) {
    t.migrate(&["up", "--to", "3"]).ok();
    let backup = t.dir.join("before-down.backup");
    let path = backup.to_str().unwrap();
    t.migrate(&["down", "--backup", path, "--dry-run"])
        .ok()
        .out(&format!("a backup would be written first to {path}"));
    assert!(!backup.exists(), "a dry run writes no backup");
    t.migrate(&["down", "--backup", path, "--reason", "bad deploy"])
        .ok()
        .out(&format!("backup written to {path}"))
        .out("reverted 1 migration(s); now at version 002");
    assert!(!t.has_table("portfolio_transactions"));
    // The backup holds the table the down dropped, and the records of 3.
    match t.backend {
        Backend::Sqlite => {
            let rows = sqlite_rows(&backup, "SELECT max(version) FROM _embedded_migrations");
            assert_eq!(rows, [["3"]]);
            let tables = sqlite_rows(
                &backup,
                "SELECT count(*) FROM sqlite_master WHERE name = 'portfolio_transactions'",
            );
            assert_eq!(tables, [["1"]]);
        }
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        _ => {
            let dump = std::fs::read_to_string(&backup).unwrap();
            assert!(dump.contains("CREATE TABLE"), "{dump}");
            assert!(dump.contains("portfolio_transactions"), "{dump}");
            assert!(dump.contains("_embedded_migrations"), "{dump}");
        }
    }
    let history = t.migrate(&["history", "--json"]).ok().json();
    let last = history.array().last().unwrap();
    assert_eq!(last.get("direction").str(), "down");
    assert_eq!(last.get("reason").str(), format!("bad deploy; backup: {path}"));

    // The same path again: refused, nothing reverted, the old file kept.
    let before = std::fs::read(&backup).unwrap();
    t.migrate(&["down", "--backup", path])
        .code(1)
        .err("the backup before down")
        .err("exists already")
        .err("nothing was reverted");
    assert_eq!(std::fs::read(&backup).unwrap(), before);
    assert_eq!(applied_versions(t), [1, 2]);

    let second = t.dir.join("second.backup");
    match t.backend {
        Backend::Sqlite => {
            // A file SQLite itself cannot create (no one can, in /proc).
            t.migrate(&["down", "--backup", "/proc/em-backup.db"])
                .code(1)
                .err("VACUUM INTO")
                .err("nothing was reverted");
        }
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        _ => {
            // The dump program missing from PATH, then named and failing.
            let second_path = second.to_str().unwrap();
            let tool = match t.url.starts_with("postgres") {
                true => "`pg_dump`",
                false => "`mariadb-dump` or `mysqldump`",
            };
            let missing = t.demo_with(
                &[("PATH", "/nonexistent")],
                &["migrate", "down", "--backup", second_path],
            );
            missing
                .code(1)
                .err(&format!("{tool} was not found on PATH"))
                .err("--backup-tool")
                .err("nothing was reverted");
            t.migrate(&["down", "--backup", second_path, "--backup-tool", "/nonexistent/dump"])
                .code(1)
                .err("the program `/nonexistent/dump` was not found");
            t.migrate(&["down", "--backup", second_path, "--backup-tool", "false"])
                .code(1)
                .err("`false` failed (exit status: 1)");
        }
    }
    assert!(!second.exists(), "a failed backup leaves no file");
    assert!(!t.dir.join("second.backup.partial").exists(), "nor a partial one");
    assert_eq!(applied_versions(t), [1, 2]);
    assert!(t.has_table("portfolio_holdings"));
}

macro_rules! scenarios {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            scenarios!(@tests $make;
                no_arguments_applies_everything_then_nothing,
                status_table_lists_every_column,
                status_json_is_what_deploy_scripts_read,
                up_dry_run_prints_the_statements_and_changes_nothing,
                down_dry_run_prints_the_statements_and_changes_nothing,
                up_to_down_n_and_down_to,
                down_reason_is_kept_in_history,
                down_backup_writes_first_then_reverts,
                irreversible_blocks_down_and_fresh_before_anything_changes,
                fresh_needs_yes_then_rebuilds,
                validate_passes_then_lists_every_problem,
                force_forget_and_a_failing_migration,
                repair_after_hand_edits,
                bad_arguments_exit_2_with_usage,
                check_gates_and_writes_nothing,
                plan_says_what_up_would_apply_and_writes_nothing,
                baseline_and_import,
                plan_dry_run_and_up_agree_on_a_damaged_state,
                a_hand_set_dirty_flag_is_named_as_the_difference,
                another_applications_table_is_named_before_any_advice,
                verify_on_a_migrated_database_refuses,
                an_unknown_version_says_which_side_lacks_it,
                a_corrupt_chain_names_a_fix_that_works,
            );
        }
    };
    (@tests $make:expr; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                let make: fn(&str) -> Option<Target> = $make;
                if let Some(target) = make(stringify!($name)) {
                    super::$name(&target);
                }
            }
        )*
    };
}

scenarios!(sqlite, |test| Some(Target::sqlite(test)));
#[cfg(feature = "postgres")]
scenarios!(postgres, Target::postgres);
#[cfg(feature = "mysql")]
scenarios!(mysql, Target::mysql);

// ---------------------------------------------------------------------------
// The demo's own choices.

#[test]
fn database_url_passwords_never_show() {
    let t = Target::sqlite("password");
    // URLs the drivers reject before connecting: a refused connection would
    // cost the pool's whole acquire timeout.
    for url in [
        "postgres://app:s3cr3t-pw@127.0.0.1:notaport/app",
        "postgres://app:s3cr3t-pw@127.0.0.1:1/app?sslmode=bogus&password=s3cr3t-pw",
        "mysql://app:s3cr3t-pw@127.0.0.1:notaport/app",
        "oracle://app:s3cr3t-pw@127.0.0.1:1/app",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(["migrate", "status"])
            .env("DATABASE_URL", url)
            .current_dir(&t.dir)
            .output()
            .unwrap();
        let run = Run::new(&["migrate", "status"], output);
        assert_ne!(run.code, Some(0), "{url}");
        assert!(run.stderr.contains("app:***@127.0.0.1:"), "{url}: {}", run.stderr);
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "{url}: {}{}",
            run.stdout,
            run.stderr
        );
    }
}

/// A server that refuses the connection is reported with that cause, not
/// after sqlx's 30 s acquire timeout as "pool timed out", and the password
/// stays out of it.
#[test]
fn a_refused_connection_is_reported_with_its_cause() {
    let t = Target::sqlite("refused");
    for url in [
        "postgres://app:s3cr3t-pw@127.0.0.1:1/app",
        "mysql://app:s3cr3t-pw@127.0.0.1:1/app",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(["migrate", "status"])
            .env("DATABASE_URL", url)
            .current_dir(&t.dir)
            .output()
            .unwrap();
        let run = Run::new(&["migrate", "status"], output);
        assert_ne!(run.code, Some(0), "{url}");
        assert!(run.stderr.contains("Connection refused"), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("timed out"), "{url}: {}", run.stderr);
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "{url}: {}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn the_demo_defaults_to_demo_db_in_the_working_directory() {
    let dir = Scratch(scratch_dir("default-url"));
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env_remove("DATABASE_URL")
        .current_dir(&*dir)
        .output()
        .unwrap();
    let run = Run::new(&[], output);
    run.ok().out("applied 8 migration(s)");
    assert!(dir.join("demo.db").is_file());
}

/// `check` on a PostgreSQL session where every transaction is read-only: the
/// server itself refuses any write, and `check` still answers.
#[cfg(feature = "postgres")]
#[test]
fn check_needs_no_write_access() {
    let Some(t) = Target::postgres("check_read_only") else {
        return;
    };
    let read_only = Target {
        backend: Backend::Postgres,
        url: format!("{}?options=-c%20default_transaction_read_only%3Don", t.url),
        dir: scratch_dir("check_read_only"),
        server: None,
    };
    // The premise: this session cannot write.
    read_only.migrate(&["up"]).code(1).err("read-only transaction");
    read_only.migrate(&["check"]).code(3).out("not ready: 8 pending");
    t.migrate(&["up", "--to", "5"]).ok();
    read_only
        .migrate(&["check"])
        .code(3)
        .out("not ready: 3 pending; at version 005, latest 008");
    t.migrate(&["up"]).ok();
    read_only
        .migrate(&["check"])
        .ok()
        .out("ready: at version 008, the latest");
    assert_eq!(
        read_only.migrate(&["check", "--json"]).ok().json().get("state").str(),
        "ready"
    );
}

// ---------------------------------------------------------------------------
// Several migration sets: the demo without DATABASE_URL has two SQLite files,
// `app` (demo.db) and `events` (demo-events.db).

/// A scratch folder removed when the test ends, passed or failed.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn two_files(test: &str) -> (Scratch, impl Fn(&[&str]) -> Run) {
    with_env(test, &[])
}

/// The demo without DATABASE_URL in a scratch folder, with `env` set.
fn with_env(test: &str, env: &[(&str, &str)]) -> (Scratch, impl Fn(&[&str]) -> Run) {
    let dir = Scratch(scratch_dir(test));
    let cwd = dir.0.clone();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let demo = move |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(&cwd)
            .output()
            .expect("the demo runs");
        Run::new(args, output)
    };
    (dir, demo)
}

#[test]
fn several_sets_status_shows_each_then_a_total_and_only_narrows() {
    let (dir, demo) = two_files("sets-status");
    let boot = demo(&[]);
    boot.ok()
        .out("== app ==\napplying 8 migration(s)")
        .out("== events ==\napplying 2 migration(s)")
        .out("[2/2] 002 index_events_by_user ... ")
        .out("total: 2 sets, 2 up to date: 10 applied, 0 pending");
    assert!(
        boot.stdout.find("== app ==") < boot.stdout.find("== events =="),
        "declared order"
    );
    assert!(dir.join("demo.db").is_file() && dir.join("demo-events.db").is_file());

    let status = demo(&["migrate", "status"]);
    status
        .ok()
        .out("== app ==\nversion  name")
        .out("current version 008, latest 008: 8 applied, 0 pending")
        .out("== events ==\nversion  name")
        .out("current version 002, latest 002: 2 applied, 0 pending");
    assert!(status
        .stdout
        .trim_end()
        .ends_with("total: 2 sets, 2 up to date: 10 applied, 0 pending"));

    let only = demo(&["migrate", "status", "--only", "events"]);
    only.ok().out("== events ==").out("001      create_events");
    assert!(!only.stdout.contains("== app =="), "{}", only.stdout);
    assert!(!only.stdout.contains("create_users"), "{}", only.stdout);
    // Before the command too.
    demo(&["migrate", "--only", "app", "history"]).ok().out("create_users");

    demo(&["migrate", "--only", "nope", "status"])
        .code(2)
        .err("no migration set is named `nope`; the sets are: app, events");
}

#[test]
fn several_sets_down_needs_only_and_check_and_json_cover_every_set() {
    let (_dir, demo) = two_files("sets-down");
    demo(&[]).ok();
    demo(&["migrate", "down"])
        .code(2)
        .err("with several migration sets it needs --only NAME")
        .err("the sets are: app, events");
    demo(&["migrate", "fresh", "--yes"]).code(2).err("needs --only NAME");
    demo(&["migrate", "force", "1"])
        .code(2)
        .err("works on one migration set");
    demo(&["migrate", "up", "--to", "1"])
        .code(2)
        .err("names a version of one migration set");
    demo(&["migrate", "check"]).ok().out("app: ready").out("events: ready");

    demo(&["migrate", "--only", "events", "down"])
        .ok()
        .out("== events ==")
        .out("reverted 1 migration(s); now at version 001");
    demo(&["migrate", "check"])
        .code(3)
        .out("app: ready: at version 008, the latest")
        .out("events: not ready: 1 pending; at version 001, latest 002");
    demo(&["migrate", "check", "--only", "app"]).ok();

    let check = demo(&["migrate", "check", "--json"]).code(3).json();
    assert_eq!(check.get("ready"), &Json::Bool(false));
    let sets = check.get("targets").array();
    assert_eq!(sets[0].get("name").str(), "app");
    assert_eq!(sets[0].get("state").str(), "ready");
    assert_eq!(sets[1].get("name").str(), "events");
    assert_eq!(sets[1].get("state").str(), "pending");
    assert_eq!(sets[1].get("pending_count").int(), 1);

    let status = demo(&["migrate", "status", "--json"]).ok().json();
    assert_eq!(status.get("up_to_date"), &Json::Bool(false));
    assert_eq!(status.get("applied_count").int(), 9);
    assert_eq!(status.get("pending_count").int(), 1);
    let sets = status.get("targets").array();
    assert_eq!(sets[0].get("name").str(), "app");
    assert_eq!(sets[0].get("current_version").int(), 8);
    assert_eq!(sets[0].get("migrations").array().len(), 8);
    assert_eq!(sets[1].get("name").str(), "events");
    assert_eq!(
        states(&sets[1]),
        [(1, "applied".to_string()), (2, "pending".to_string())]
    );

    let history = demo(&["migrate", "history", "--json", "--only", "events"]).ok().json();
    let sets = history.get("targets").array();
    assert_eq!(sets.len(), 1);
    let directions: Vec<&str> = sets[0]
        .get("history")
        .array()
        .iter()
        .map(|h| h.get("direction").str())
        .collect();
    assert_eq!(directions, ["up", "up", "down"]);

    // up across sets applies what each one lacks, in order.
    demo(&["migrate", "up"])
        .ok()
        .out("== app ==\nnothing to apply; at version 008")
        .out("== events ==\napplying 1 migration(s)");
    demo(&["migrate", "validate"])
        .ok()
        .out("== app ==\nok: 8 applied")
        .out("== events ==\nok: 2 applied");
    demo(&["migrate", "up", "--dry-run"])
        .ok()
        .out("-- dry run: nothing would be applied");
}

/// `plan` across sets: a section each, one JSON document, and nothing
/// written to either file.
#[test]
fn several_sets_plan_covers_every_set_and_writes_nothing() {
    let (dir, demo) = two_files("sets-plan");
    demo(&["migrate", "plan"])
        .code(3)
        .out("== app ==\n-- plan: 8 migration(s) would be applied")
        .out("== events ==\n-- plan: 2 migration(s) would be applied");
    let plan = demo(&["migrate", "plan", "--json"]).code(3).json();
    assert_eq!(plan.get("pending_count").int(), 10);
    let sets = plan.get("targets").array();
    assert_eq!(sets[0].get("name").str(), "app");
    assert_eq!(sets[1].get("name").str(), "events");
    assert_eq!(sets[1].get("steps").array().len(), 2);
    for file in ["demo.db", "demo-events.db"] {
        assert_eq!(
            sqlite_rows(&dir.join(file), "SELECT name FROM sqlite_master"),
            Vec::<Vec<String>>::new()
        );
    }
    demo(&["migrate", "up", "--only", "app"]).ok();
    demo(&["migrate", "plan"])
        .code(3)
        .out("== app ==\n-- plan: nothing would be applied")
        .out("== events ==\n-- plan: 2 migration(s)");
    demo(&["migrate", "plan", "--only", "app"]).ok();
}

/// Rows of `sql` on the SQLite file at `path`, each cell as text.
fn sqlite_rows(path: &std::path::Path, sql: &str) -> Vec<Vec<String>> {
    use sqlx::Row;
    block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&pool)
            .await
            .unwrap();
        let out = rows
            .iter()
            .map(|row| (0..row.len()).map(|i| cell_sqlite(row, i)).collect())
            .collect();
        pool.close().await;
        out
    })
}

// ---------------------------------------------------------------------------
// A tenant set: `DEMO_TENANTS=N` mounts the demo's migrations on N SQLite
// files (or N PostgreSQL schemas) after its sets.

/// A tenant whose newest tracking row was deleted by hand: the boot check
/// trusts its state row, but `up` does not count it as having nothing to
/// apply; it is refused as `up` refuses one set, and named.
#[test]
fn a_tenant_with_a_stale_state_row_is_refused_not_counted_as_up_to_date() {
    let (dir, demo) = with_env("tenants-stale", &[("DEMO_TENANTS", "2")]);
    demo(&["migrate", "up"]).ok();
    sqlite_rows(
        &dir.join("tenants/tenant_02.db"),
        "DELETE FROM _embedded_migrations WHERE version = 8",
    );
    let up = demo(&["migrate", "--only", "tenants", "up"]);
    up.code(2)
        .out("tenant_02: failed (see the error below)")
        .out("2 tenants: 1 migrated (1 had nothing to apply), 1 failed, 0 skipped")
        .err("error: tenant `tenant_02`: SQLite: the tracking state row says 8 migration(s) applied up to version 8");
}

/// Twenty-five tenants needing attention: `status` and `check` name the
/// first twenty and count the rest by state; `--all` names every one.
#[test]
fn many_tenants_needing_attention_are_named_up_to_twenty_and_counted() {
    let (_dir, demo) = with_env("tenants-many", &[("DEMO_TENANTS", "25")]);
    let status = demo(&["migrate", "--only", "tenants", "status"]);
    status
        .ok()
        .out("0 up to date, 25 pending, 0 failed, 0 dirty, 0 drifted\n")
        .out("tenant_20: not ready: 8 pending; at version 0, latest 008\n")
        .out("... and 5 more: 5 pending (`status --all` lists every tenant)\n");
    assert!(!status.stdout.contains("tenant_21:"), "{}", status.stdout);
    let check = demo(&["migrate", "--only", "tenants", "check"]);
    check
        .code(3)
        .out("tenant_20: not ready: 8 pending")
        .out("... and 5 more: 5 pending (`status --all` lists every tenant)\n");
    assert!(!check.stdout.contains("tenant_21:"), "{}", check.stdout);
    let all = demo(&["migrate", "--only", "tenants", "status", "--all"]);
    all.ok().out("tenant_25: not ready: 8 pending");
    assert!(!all.stdout.contains("more:"), "{}", all.stdout);
}

#[test]
fn tenants_on_sqlite_files_one_broken() {
    let (dir, demo) = with_env("tenants-sqlite", &[("DEMO_TENANTS", "6")]);
    // tenant_04 is broken on purpose: its file holds the table 002 creates.
    std::fs::create_dir_all(dir.join("tenants")).unwrap();
    let broken = dir.join("tenants/tenant_04.db");
    sqlite_rows(&broken, "CREATE TABLE portfolio_holdings (id INTEGER)");

    demo(&["migrate", "status"])
        .ok()
        .out("== tenants (6 tenants) ==\n0 up to date, 6 pending, 0 failed, 0 dirty, 0 drifted\n")
        .out("tenant_01: not ready: 8 pending; at version 0, latest 008");

    let up = demo(&["migrate", "up", "--concurrency", "3"]);
    up.code(1)
        .out("== app ==\napplying 8 migration(s)")
        .out("== events ==\napplying 2 migration(s)")
        .out("== tenants (6 tenants, 3 at a time) ==\n")
        .out("tenant_01: applied 8 migration(s); now at version 008")
        .out("tenant_06: applied 8 migration(s); now at version 008")
        .out("tenant_04: failed (see the error below)")
        .out("6 tenants: 5 migrated (0 had nothing to apply), 1 failed, 0 skipped")
        .err("error: tenant `tenant_04`: migration 2 (create_portfolio_holdings) failed");
    assert_eq!(
        up.stderr.matches("error: ").count(),
        1,
        "only tenant_04 failed: {}",
        up.stderr
    );
    // Really applied in each file; tenant_04 stopped after 001.
    for i in 1..=6 {
        let file = dir.join(format!("tenants/tenant_{i:02}.db"));
        let applied = sqlite_rows(&file, "SELECT count(*) FROM _embedded_migrations");
        assert_eq!(applied, [[if i == 4 { "1" } else { "8" }]], "tenant_{i:02}");
    }

    let check = demo(&["migrate", "check"]);
    check
        .code(3)
        .out("app: ready")
        .out("tenant_04: not ready: 7 pending; at version 001, latest 008\n")
        .out("5 tenant(s) ready: at the latest version");
    assert!(!check.stdout.contains("tenant_01"), "{}", check.stdout);
    let plan = demo(&["migrate", "plan"]);
    plan.code(3)
        .out("== tenant_04 ==\n-- plan: 7 migration(s) would be applied")
        .out("5 tenant(s) with nothing to apply are not listed");
    assert!(!plan.stdout.contains("tenant_01"), "{}", plan.stdout);

    let status = demo(&["migrate", "status"]);
    status
        .ok()
        .out("5 up to date, 1 pending, 0 failed, 0 dirty, 0 drifted\n")
        .out("tenant_04: not ready: 7 pending; at version 001, latest 008\n")
        .out("total: 2 sets, 2 up to date: 10 applied, 0 pending; tenants: 5 of 6 tenants up to date");
    assert!(
        !status.stdout.contains("tenant_01:"),
        "up-to-date tenants are counted, not listed"
    );
    demo(&["migrate", "status", "--all"])
        .ok()
        .out("tenant_01: ready: at version 008, the latest\n")
        .out("tenant_04: not ready: 7 pending");

    let json = demo(&["migrate", "status", "--json"]).ok().json();
    assert_eq!(json.get("up_to_date"), &Json::Bool(false));
    let set = &json.get("tenant_sets").array()[0];
    assert_eq!(set.get("name").str(), "tenants");
    assert_eq!((set.get("total").int(), set.get("up_to_date").int()), (6, 5));
    assert_eq!(set.get("pending").int(), 1);
    let tenants = set.get("tenants").array();
    assert_eq!(tenants.len(), 6);
    assert_eq!(tenants[3].get("name").str(), "tenant_04");
    assert_eq!(tenants[3].get("state").str(), "pending");
    assert_eq!(tenants[3].get("pending_count").int(), 7);

    // Again as JSON: the failure is named there too.
    let json = demo(&["migrate", "up", "--json"]).code(1).json();
    let set = &json.get("tenant_sets").array()[0];
    assert_eq!((set.get("applied").int(), set.get("failed").int()), (5, 1));
    let failed = &set.get("tenants").array()[3];
    assert_eq!(failed.get("outcome").str(), "failed");
    assert!(failed.get("error").str().contains("create_portfolio_holdings"));

    // `--only TENANT` narrows to one tenant; repaired, it catches up.
    sqlite_rows(&broken, "DROP TABLE portfolio_holdings");
    let only = demo(&["migrate", "--only", "tenant_04", "up"]);
    only.ok()
        .out("tenant_04: applied 7 migration(s); now at version 008")
        .out("1 tenants: 1 migrated");
    assert!(!only.stdout.contains("== app =="), "{}", only.stdout);
    demo(&["migrate", "--only", "tenant_04", "check"])
        .ok()
        .out("1 tenant(s) ready: at the latest version");
    demo(&["migrate", "plan", "--only", "tenants"])
        .ok()
        .out("6 tenant(s) with nothing to apply are not listed");
    demo(&["migrate", "status"]).ok().out("6 up to date, 0 pending");
    demo(&["migrate", "--only", "nope", "status"])
        .code(2)
        .err("the sets are: app, events, tenants (a tenant set of 6)");
}

/// The same on PostgreSQL: one schema per tenant in one database, with the
/// public schema's set first.
#[cfg(feature = "postgres")]
#[test]
fn tenants_on_postgresql_schemas_one_broken() {
    let Some(t) = Target::postgres("tenants_pg") else {
        return;
    };
    t.execute("CREATE SCHEMA tenant_03");
    t.execute("CREATE TABLE tenant_03.portfolio_holdings (id INTEGER)");
    let env = [("DEMO_TENANTS", "8")];
    let up = t.demo_with(&env, &["migrate", "up", "--concurrency", "4"]);
    up.code(1)
        .out("== postgres ==\napplying 8 migration(s)")
        .out("== tenants (8 tenants, 4 at a time) ==\n")
        .out("tenant_08: applied 8 migration(s); now at version 008")
        .out("8 tenants: 7 migrated (0 had nothing to apply), 1 failed, 0 skipped")
        .err("error: tenant `tenant_03`: migration 2 (create_portfolio_holdings) failed");
    for i in (1..=8).filter(|i| *i != 3) {
        let applied = t.query(&format!("SELECT count(*) FROM tenant_{i:02}._embedded_migrations"));
        assert_eq!(applied, [["8"]], "tenant_{i:02}");
    }
    // A new tenant is provisioned in one transaction: its failure at 002
    // took back 001 and the tracking tables.
    let tracking = t.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'tenant_03'");
    assert_eq!(tracking, [["1"]], "only the test's own table is left in tenant_03");
    t.demo_with(&env, &["migrate", "status"])
        .ok()
        .out("7 up to date, 1 pending, 0 failed, 0 dirty, 0 drifted\n")
        .out("tenant_03: not ready: 8 pending; at version 0, latest 008\n");
    t.demo_with(&env, &["migrate", "check"])
        .code(3)
        .out("tenant_03: not ready")
        .out("7 tenant(s) ready");
    let json = t.demo_with(&env, &["migrate", "status", "--json"]).ok().json();
    assert_eq!(json.get("tenant_sets").array()[0].get("up_to_date").int(), 7);

    t.execute("DROP TABLE tenant_03.portfolio_holdings");
    t.demo_with(&env, &["migrate", "up", "--only", "tenant_03"])
        .ok()
        .out("tenant_03: applied 8 migration(s)");
    t.demo_with(&env, &["migrate", "check"]).ok();
}

// ---------------------------------------------------------------------------
// Output to a reader that went away.

/// `app migrate history --json | head -1`: the reader closes the pipe. Here
/// the pipe's read end is closed before the demo starts, so every write to
/// stdout fails (no timing involved): the command ends with its own exit
/// code and no panic.
#[test]
fn a_closed_stdout_pipe_is_no_panic() {
    let (dir, demo) = two_files("closed-pipe");
    demo(&[]).ok();
    for args in [
        &["migrate", "history", "--json"][..],
        &["migrate", "status"],
        &["migrate", "--only", "app", "history"],
        &["migrate", "plan"],
        &["migrate", "check", "--json"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .current_dir(&*dir)
            .stdout(writer)
            .output()
            .expect("the demo runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------
// Every command, flag and API call that a message or a page names exists.

/// The texts a user reads: the error messages, the demo's own help, the
/// README and every guide chapter.
fn texts_that_name_commands() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("runtime/src/error/mod.rs"),
        root.join("runtime/src/error/display.rs"),
        root.join("src/main.rs"),
        root.join("README.md"),
    ];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    chapters.sort();
    files.extend(chapters);
    for dir in ["runtime/src/cli", "runtime/src/cli/commands"] {
        let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
            .collect();
        sources.sort();
        files.extend(sources);
    }
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.strip_prefix(root).unwrap().display().to_string(), text)
        })
        .collect()
}

/// Each `migrate <command> [--flag ...]` a text names, as (where, command,
/// flags): after `app `, `demo `, `cargo run -- ` or a backtick, so that
/// prose ("to migrate the database") is not read as one.
fn named_commands(file: &str, text: &str) -> Vec<(String, String, Vec<String>)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("migrate ") {
            let before = &rest[..at];
            let after = &rest[at + "migrate ".len()..];
            rest = after;
            if !(before.ends_with("app ")
                || before.ends_with("demo ")
                || before.ends_with("-- ")
                || before.ends_with('`')
                || before.ends_with("\\\""))
            {
                continue;
            }
            let end = after
                .find(['`', '|', '#', '"', ')', ';', ':', ','])
                .unwrap_or(after.len());
            // `status|up|down` lists several; `|` ends the span otherwise.
            let span = match after[..end].trim().is_empty() {
                true => "",
                false => &after[..end],
            };
            let mut tokens = span.split_whitespace().peekable();
            let mut flags = Vec::new();
            // `migrate --only NAME <command>`: a flag of `migrate` itself
            // first (marked `^`: `migrate --help` or the command's lists it).
            while tokens
                .peek()
                .is_some_and(|t| t.trim_start_matches('[').starts_with("--"))
            {
                let flag = tokens.next().unwrap().trim_start_matches('[');
                flags.push(format!("^{}", flag.split('=').next().unwrap_or(flag)));
                tokens.next();
            }
            let Some(command) = tokens.next() else { continue };
            let command = command.trim_matches(['[', ']', '.']);
            // The `...` after `[--only NAME]`, repeatable.
            let command = match command {
                "" => match tokens.next() {
                    Some(next) => next,
                    None => continue,
                },
                other => other,
            };
            if command.starts_with('<') || command.is_empty() {
                continue;
            }
            for token in tokens {
                let token = token.trim_matches(['[', ']', '.', '\'']);
                if let Some(flag) = token.strip_prefix("--") {
                    let flag = flag.split(['=', '[', ']']).next().unwrap_or(flag);
                    if !flag.is_empty() {
                        flags.push(format!("--{flag}"));
                    }
                }
            }
            let mut commands = vec![command.to_string()];
            // `app migrate status|up|down|plan|check|...` on one line.
            if let Some(rest_of_list) = after.strip_prefix(command).filter(|r| r.starts_with('|')) {
                commands.extend(
                    rest_of_list
                        .split(['|', '`', ' '])
                        .take_while(|c| !c.is_empty())
                        .filter(|c| *c != "...")
                        .map(str::to_string),
                );
            }
            for command in commands {
                found.push((format!("{file}:{}", n + 1), command, flags.clone()));
            }
        }
    }
    found
}

/// `--flag`s a message names without a command (`error/`): each must be
/// a flag of some command.
fn bare_flags(text: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for span in text.split('`').skip(1).step_by(2) {
        if span.contains("migrate ") {
            continue;
        }
        for token in span.split_whitespace() {
            if let Some(flag) = token.strip_prefix("--") {
                let flag: String = flag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !flag.is_empty() {
                    flags.push(format!("--{flag}"));
                }
            }
        }
    }
    flags
}

#[test]
fn every_command_and_flag_a_message_or_page_names_exists() {
    let t = Target::sqlite("names");
    let mut helps: BTreeMap<String, (Option<i32>, String)> = BTreeMap::new();
    // `""`: `migrate --help`, the flags given before the command.
    let mut help = |command: &str| {
        helps
            .entry(command.to_string())
            .or_insert_with(|| {
                let run = match command {
                    "" => t.migrate(&["--help"]),
                    command => t.migrate(&[command, "--help"]),
                };
                (run.code, run.stdout)
            })
            .clone()
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    let texts = texts_that_name_commands();
    for (file, text) in &texts {
        for (place, command, flags) in named_commands(file, text) {
            let (code, out) = help(&command);
            checked += 1;
            if code != Some(0) {
                problems.push(format!("{place}: `migrate {command}` is not a command"));
                continue;
            }
            let top = help("").1;
            for flag in flags {
                let (flag, out) = match flag.strip_prefix('^') {
                    Some(flag) => (flag.to_string(), format!("{out}{top}")),
                    None => (flag, out.clone()),
                };
                if !out.contains(&format!("{flag} ")) && !out.contains(&format!("{flag}\n")) {
                    problems.push(format!("{place}: `migrate {command}` has no flag {flag}"));
                }
            }
        }
    }
    assert!(checked > 50, "the premise: the texts name commands ({checked} found)");

    // Flags a message names on their own.
    let all_help: String = [
        "", "up", "plan", "down", "status", "repair", "verify", "fresh", "baseline", "import", "check", "history",
    ]
    .iter()
    .map(|c| help(c).1)
    .collect();
    let errors: String = texts
        .iter()
        .filter(|(file, _)| file.starts_with("runtime/src/error/"))
        .map(|(_, text)| text.as_str())
        .collect();
    assert!(!errors.is_empty(), "the error messages were not read");
    let errors = errors.as_str();
    for flag in bare_flags(errors) {
        if !all_help.contains(&format!("{flag} ")) {
            problems.push(format!("runtime/src/error/: names {flag}, which no command has"));
        }
    }

    // API calls the messages name: `Settings::x(...)`, "set allow_x", "API: `x`".
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let settings = std::fs::read_to_string(root.join("runtime/src/settings.rs")).unwrap();
    let migrator = std::fs::read_to_string(root.join("runtime/src/migrator.rs")).unwrap();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for piece in errors.split("Settings::").skip(1) {
        let name = ident(piece);
        if !settings.contains(&format!("pub fn {name}(")) {
            problems.push(format!(
                "runtime/src/error/: names Settings::{name}, which does not exist"
            ));
        }
    }
    for piece in errors.split("set allow_").skip(1) {
        let name = format!("allow_{}", ident(piece));
        if !settings.contains(&format!("pub fn {name}(")) {
            problems.push(format!(
                "runtime/src/error/: names the setting {name}, which does not exist"
            ));
        }
    }
    for piece in errors.split("API: `").skip(1) {
        let name = ident(piece);
        if !migrator.contains(&format!("pub async fn {name}(")) && !migrator.contains(&format!("pub async fn {name}<"))
        {
            problems.push(format!(
                "runtime/src/error/: names the call {name}, which Migrator lacks"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
