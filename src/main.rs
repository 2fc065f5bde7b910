//! Demo: the example migrations compiled into an application.
//!
//! - `demo` applies them to an embedded SQLite file (`demo.db`, or the
//!   database `DATABASE_URL` names) and prints their status;
//! - `demo migrate <command>` is the ops command line every application gets
//!   by nesting `embedded_migrations::cli::Command` in its own CLI:
//!   `status [--json]`, `up [--to V] [--dry-run]`, `down [N | --to V]
//!   [--dry-run] [--reason TEXT]`, `validate`, `history`, `force V`,
//!   `forget V`, `fresh --yes`.
//!
//! `DATABASE_URL` picks the backend: `sqlite:` (the default), and
//! `postgres://` or `mysql://` when built with those features.

use clap::{Parser, Subcommand};
use embedded_migrations::backend::Database;
use embedded_migrations::cli;
use embedded_migrations::Migrations;
use std::process::ExitCode;

static SQLITE: Migrations = embedded_migrations::embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
static POSTGRES: Migrations = embedded_migrations::embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
static MYSQL: Migrations = embedded_migrations::embed_migrations!("migrations/mysql");

const DEFAULT_URL: &str = "sqlite://demo.db";

#[derive(Parser, Debug)]
#[command(
    name = "demo",
    about = "Applies the example migrations and prints their status; `demo migrate --help` for operations",
    after_help = "DATABASE_URL selects the database (default sqlite://demo.db)."
)]
struct Demo {
    #[command(subcommand)]
    command: Option<DemoCommand>,
}

#[derive(Subcommand, Debug)]
enum DemoCommand {
    /// Inspect, apply, preview and revert the database migrations.
    #[command(subcommand)]
    Migrate(cli::Command),
}

#[tokio::main]
async fn main() -> ExitCode {
    let demo = Demo::parse();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
    let command = demo.command.map(|DemoCommand::Migrate(command)| command);
    let code = match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => sqlite(&url, command).await,
        Some("postgres" | "postgresql") => postgres(&url, command).await,
        Some("mysql" | "mariadb") => mysql(&url, command).await,
        _ => {
            eprintln!(
                "error: DATABASE_URL `{}` is not a sqlite:, postgres:// or mysql:// URL",
                redact(&url)
            );
            2
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Without a command: apply, then show the status, as at an application's boot.
async fn operate<D: Database<Language = embedded_migrations::Sql>>(
    migrations: &Migrations,
    db: &D,
    command: Option<cli::Command>,
) -> i32 {
    match command {
        Some(command) => cli::run(migrations, db, command).await,
        None => {
            let code = cli::run(
                migrations,
                db,
                cli::Command::Up {
                    to: None,
                    dry_run: false,
                },
            )
            .await;
            if code != 0 {
                return code;
            }
            println!();
            cli::run(migrations, db, cli::Command::Status { json: false }).await
        }
    }
}

fn connect_failed(url: &str, err: impl std::fmt::Display) -> i32 {
    eprintln!("error: cannot open the database `{}`: {err}", redact(url));
    1
}

async fn sqlite(url: &str, command: Option<cli::Command>) -> i32 {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;
    let options = match SqliteConnectOptions::from_str(url) {
        Ok(options) => options.create_if_missing(true),
        Err(err) => return connect_failed(url, err),
    };
    match SqlitePool::connect_with(options).await {
        Ok(pool) => operate(&SQLITE, &pool, command).await,
        Err(err) => connect_failed(url, err),
    }
}

#[cfg(feature = "postgres")]
async fn postgres(url: &str, command: Option<cli::Command>) -> i32 {
    match sqlx::PgPool::connect(url).await {
        Ok(pool) => operate(&POSTGRES, &pool, command).await,
        Err(err) => connect_failed(url, err),
    }
}

#[cfg(not(feature = "postgres"))]
async fn postgres(url: &str, _command: Option<cli::Command>) -> i32 {
    not_built(url, "postgres")
}

#[cfg(feature = "mysql")]
async fn mysql(url: &str, command: Option<cli::Command>) -> i32 {
    match sqlx::MySqlPool::connect(url).await {
        Ok(pool) => operate(&MYSQL, &pool, command).await,
        Err(err) => connect_failed(url, err),
    }
}

#[cfg(not(feature = "mysql"))]
async fn mysql(url: &str, _command: Option<cli::Command>) -> i32 {
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
