//! Demo: the example migrations compiled into an application.
//!
//! - `demo` applies them and prints their status, as an application does at
//!   boot. Without `DATABASE_URL` the application has two SQLite databases,
//!   each with its own migration set: `app` (`migrations/sqlite` in
//!   `demo.db`) and `events` (`migrations/events` in `demo-events.db`),
//!   applied in that order. `DATABASE_URL` names one database instead.
//! - `demo migrate [--only NAME] <command>` is the ops command line every
//!   application gets by nesting `embedded_migrations::cli::MigrateArgs` in
//!   its own CLI: `status [--json]`, `up [--to V] [--dry-run]`, `down [N |
//!   --to V] [--dry-run] [--reason TEXT]`, `validate`, `history`, `check
//!   [--json]`, `plan [--json]`, `force V`, `forget V`, `fresh --yes`.
//! - `DEMO_TENANTS=N` adds a tenant set `tenants` after those sets: the
//!   `migrations/sqlite` set on N SQLite files `tenants/tenant_01.db`... (no
//!   `DATABASE_URL`, or an `sqlite:` one), or the `migrations/postgres` set
//!   on N schemas `tenant_01`... of the PostgreSQL database; 4 at a time.
//!
//! `DATABASE_URL` picks the backend: `sqlite:`, and `postgres://` or
//! `mysql://` when built with those features.

use clap::{Parser, Subcommand};
use embedded_migrations::cli::{self, MigrateArgs};
use embedded_migrations::{Migrations, Settings, Targets, Tenants};
use std::io::Write as _;
use std::process::ExitCode;

static SQLITE: Migrations = embedded_migrations::embed_migrations!("migrations/sqlite", database = sqlite);
static EVENTS: Migrations = embedded_migrations::embed_migrations!("migrations/events");
#[cfg(feature = "postgres")]
static POSTGRES: Migrations = embedded_migrations::embed_migrations!("migrations/postgres", database = postgres);
#[cfg(feature = "mysql")]
static MYSQL: Migrations = embedded_migrations::embed_migrations!("migrations/mysql", database = mysql);

const APP_FILE: &str = "sqlite://demo.db";
const EVENTS_FILE: &str = "sqlite://demo-events.db";

#[derive(Parser, Debug)]
#[command(
    name = "demo",
    about = "Applies the example migrations and prints their status; `demo migrate --help` for operations",
    after_help = "Without DATABASE_URL: two SQLite files, demo.db (set `app`) and demo-events.db (set `events`). \
                  DATABASE_URL selects one database instead."
)]
struct Demo {
    #[command(subcommand)]
    command: Option<DemoCommand>,
}

#[derive(Subcommand, Debug)]
enum DemoCommand {
    /// Inspect, apply, preview and revert the database migrations.
    Migrate(MigrateArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let demo = Demo::parse();
    let command = demo.command.map(|DemoCommand::Migrate(args)| args);
    let code = match std::env::var("DATABASE_URL") {
        Ok(url) => one_database(&url, command).await,
        Err(_) => two_sqlite_files(command).await,
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

async fn two_sqlite_files(command: Option<MigrateArgs>) -> i32 {
    let app = match sqlite_pool(APP_FILE).await {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let events = match sqlite_pool(EVENTS_FILE).await {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let targets = Targets::new().add("app", &SQLITE, app).add("events", &EVENTS, events);
    match sqlite_tenants(targets).await {
        Ok(targets) => operate(&targets, command).await,
        Err(code) => code,
    }
}

async fn one_database(url: &str, command: Option<MigrateArgs>) -> i32 {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => match sqlite_pool(url).await {
            Ok(pool) => match sqlite_tenants(Targets::new().add("sqlite", &SQLITE, pool)).await {
                Ok(targets) => operate(&targets, command).await,
                Err(code) => code,
            },
            Err(code) => code,
        },
        Some("postgres" | "postgresql") => postgres(url, command).await,
        Some("mysql" | "mariadb") => mysql(url, command).await,
        _ => {
            eprintln!(
                "error: DATABASE_URL `{}` is not a sqlite:, postgres:// or mysql:// URL",
                redact(url)
            );
            2
        }
    }
}

/// Without a command: apply, then show the status, as at an application's boot.
async fn operate(targets: &Targets<'_>, command: Option<MigrateArgs>) -> i32 {
    if let Some(args) = command {
        return cli::run_targets(targets, args).await;
    }
    let up = cli::Command::Up {
        to: None,
        dry_run: false,
        concurrency: None,
        per_server: None,
        json: false,
    };
    let code = cli::run_targets(targets, up.into()).await;
    if code != 0 {
        return code;
    }
    // As the ops command line does: a closed pipe (`demo | head`) is no panic.
    let _ = writeln!(std::io::stdout());
    cli::run_targets(
        targets,
        cli::Command::Status {
            json: false,
            all: false,
        }
        .into(),
    )
    .await
}

/// `DEMO_TENANTS=N`: how many tenants the demo mounts (none when unset).
fn tenant_count() -> Result<usize, i32> {
    match std::env::var("DEMO_TENANTS") {
        Err(_) => Ok(0),
        Ok(text) => text.parse().map_err(|_| {
            eprintln!("error: DEMO_TENANTS is a number of tenants, not `{text}`");
            2
        }),
    }
}

fn tenant_name(i: usize) -> String {
    format!("tenant_{i:02}")
}

/// `targets` and, with `DEMO_TENANTS=N`, a tenant set of N SQLite files.
async fn sqlite_tenants(targets: Targets<'static>) -> Result<Targets<'static>, i32> {
    let count = tenant_count()?;
    if count == 0 {
        return Ok(targets);
    }
    let _ = std::fs::create_dir_all("tenants");
    let mut tenants = Tenants::new(&SQLITE).concurrency(4);
    for i in 1..=count {
        let pool = sqlite_pool(&format!("sqlite://tenants/{}.db", tenant_name(i))).await?;
        tenants = tenants.tenant(tenant_name(i), pool, Settings::default());
    }
    Ok(targets.tenants("tenants", tenants))
}

fn connect_failed(url: &str, err: impl std::fmt::Display) -> i32 {
    eprintln!("error: cannot open the database `{}`: {err}", redact(url));
    1
}

async fn sqlite_pool(url: &str) -> Result<sqlx::SqlitePool, i32> {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;
    let options = match SqliteConnectOptions::from_str(url) {
        Ok(options) => options.create_if_missing(true),
        Err(err) => return Err(connect_failed(url, err)),
    };
    SqlitePool::connect_with(options)
        .await
        .map_err(|err| connect_failed(url, err))
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str, command: Option<MigrateArgs>) -> i32 {
    let count = match tenant_count() {
        Ok(count) => count,
        Err(code) => return code,
    };
    // Lazy: the first migration step opens the connection, and the library
    // then reports why a server cannot be reached (refused, name not
    // resolved, TLS) after a second instead of sqlx's 30 s "pool timed out".
    match sqlx::PgPool::connect_lazy(url) {
        Ok(pool) => {
            let mut targets = Targets::new().add("postgres", &POSTGRES, pool.clone());
            if count > 0 {
                // One schema per tenant in the same database: its own tracking
                // tables, lock key and search_path.
                let mut tenants = Tenants::new(&POSTGRES).concurrency(4);
                for i in 1..=count {
                    let settings = Settings::default().schema(tenant_name(i));
                    tenants = tenants.tenant(tenant_name(i), pool.clone(), settings);
                }
                targets = targets.tenants("tenants", tenants);
            }
            operate(&targets, command).await
        }
        Err(err) => connect_failed(url, err),
    }
}

#[cfg(not(feature = "postgres"))]
async fn postgres(url: &str, _command: Option<MigrateArgs>) -> i32 {
    not_built(url, "postgres")
}

#[cfg(feature = "mysql")]
async fn mysql(url: &str, command: Option<MigrateArgs>) -> i32 {
    match sqlx::MySqlPool::connect_lazy(url) {
        Ok(pool) => operate(&Targets::new().add("mysql", &MYSQL, pool), command).await,
        Err(err) => connect_failed(url, err),
    }
}

#[cfg(not(feature = "mysql"))]
async fn mysql(url: &str, _command: Option<MigrateArgs>) -> i32 {
    not_built(url, "mysql")
}

#[allow(dead_code)] // unused when every backend feature is on
fn not_built(url: &str, feature: &str) -> i32 {
    eprintln!(
        "error: DATABASE_URL `{}` needs the `{feature}` feature; run `cargo run --features {feature}`",
        redact(url)
    );
    2
}

/// The URL with its password replaced, for messages: a DATABASE_URL often
/// carries a real credential, and terminals and CI logs are kept.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => out.push_str(&format!("{user}:***@{host}")),
            None => out.push_str(authority),
        },
        None => out.push_str(authority),
    }
    // Some drivers also take `?password=` in the query string.
    match tail.split_once('?') {
        Some((path, query)) => {
            let parts: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            out.push_str(&format!("{path}?{}", parts.join("&")));
        }
        None => out.push_str(tail),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(redact("mysql://root@localhost/test"), "mysql://root@localhost/test");
        assert_eq!(
            redact("postgres://db/app?user=a&password=s3cret"),
            "postgres://db/app?user=a&password=***"
        );
        assert_eq!(redact("postgres://u:p@ss:w@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact("sqlite://demo.db"), "sqlite://demo.db");
        assert_eq!(
            redact("postgres://a:b@h/d?password=c"),
            "postgres://a:***@h/d?password=***"
        );
    }
}
