//! The ops CLI's runners as an application calls them: arguments in, exit
//! code out, with the application's own settings.

#![cfg(all(feature = "cli", feature = "sqlite"))]

use embedded_migrations::{cli, Migrations, Settings};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use std::path::PathBuf;

static MIGRATIONS: Migrations = embedded_migrations::embed_migrations!("../migrations/sqlite", database = sqlite);

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn pool(test: &str) -> (Scratch, SqlitePool) {
    let dir = std::env::temp_dir().join(format!("em-cli-runner-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.join("app.db"))
        .create_if_missing(true);
    (Scratch(dir), SqlitePool::connect_with(options).await.unwrap())
}

async fn tables(pool: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn from_args_runs_commands_with_the_applications_settings() {
    let (_dir, pool) = pool("settings").await;
    let settings = || Settings::default().table("app_migrations");
    assert_eq!(
        cli::from_args(&MIGRATIONS, settings(), &pool, ["app", "up", "--to", "2"]).await,
        0
    );
    let names = tables(&pool).await;
    assert!(names.contains(&"app_migrations".to_string()), "{names:?}");
    assert!(!names.contains(&"_embedded_migrations".to_string()), "{names:?}");
    assert!(names.contains(&"portfolio_holdings".to_string()), "{names:?}");

    // The same database seen with the default table has nothing applied.
    let status = MIGRATIONS.status(&pool).await.unwrap();
    assert_eq!(status.current_version(), 0);
    let status = MIGRATIONS.with(settings()).status(&pool).await.unwrap();
    assert_eq!(status.current_version(), 2);

    let down = cli::Command::Down {
        steps: None,
        to: Some(0),
        dry_run: false,
        reason: Some("test".to_string()),
        backup: None,
        backup_tool: None,
    };
    assert_eq!(cli::run_with(&MIGRATIONS, settings(), &pool, down).await, 0);
    assert!(!tables(&pool).await.contains(&"users".to_string()));
    let history = MIGRATIONS.with(settings()).history(&pool).await.unwrap();
    assert_eq!(
        history.iter().filter(|h| h.reason.as_deref() == Some("test")).count(),
        2
    );
}

#[tokio::test]
async fn exit_codes_for_usage_validation_and_help() {
    let (_dir, pool) = pool("codes").await;
    let run = |args: &'static [&'static str]| {
        let pool = pool.clone();
        async move { cli::from_args(&MIGRATIONS, Settings::default(), &pool, args.iter().copied()).await }
    };
    assert_eq!(run(&["app", "bogus"]).await, 2);
    assert_eq!(run(&["app", "down", "0"]).await, 2);
    assert_eq!(run(&["app", "fresh"]).await, 2);
    assert_eq!(run(&["app", "up", "--to", "99"]).await, 2);
    assert_eq!(run(&["app", "--help"]).await, 0);
    assert_eq!(run(&["app", "status", "--json"]).await, 0);
    assert!(tables(&pool).await.is_empty(), "none of these changed the database");
    // Settings are checked before anything runs.
    let bad = Settings::default().table("no such table");
    assert_eq!(cli::run_with(&MIGRATIONS, bad, &pool, cli::Command::Validate).await, 2);
}
