//! The lint at run time: `Migrator::lint` and `migrate lint` on a real
//! SQLite database, the findings of applied migrations told apart from
//! those a deploy would run, and `migrate:allow` reasons in `status`.

#![cfg(feature = "sqlite")]

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Migrations, Settings};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// 002 drops a column, 003 renames one with an allowed reason, 004 rebuilds
/// a table without turning foreign keys off (its `DROP TABLE` cascades to
/// the posts).
static MIGRATIONS: Migrations = embed_migrations!("tests/fixtures/lint_sqlite");

async fn fresh(test: &str) -> SqlitePool {
    let dir = std::env::temp_dir().join("embedded-migrations-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = dir.join(format!("lint-{test}-{}-{nanos}.db", std::process::id()));
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
    SqlitePool::connect_with(options).await.unwrap()
}

/// `migrate lint`'s exit code, the command run in process.
async fn migrate_lint(pool: &SqlitePool) -> i32 {
    embedded_migrations::cli::from_args(&MIGRATIONS, Settings::default(), pool, ["migrate", "lint"]).await
}

#[tokio::test]
async fn applied_findings_are_information_and_pending_ones_fail_the_command() {
    let pool = fresh("apart").await;
    let report = MIGRATIONS.lint(&pool).await.unwrap();
    let found: Vec<(i64, &str, usize)> = report
        .findings
        .iter()
        .map(|f| (f.version, f.rule.name, f.line))
        .collect();
    assert_eq!(found, [(2, "drop-column", 1), (4, "table-rebuild", 3)]);
    assert!(report.applied.is_empty());
    assert_eq!(migrate_lint(&pool).await, 1);

    MIGRATIONS.run_to(&pool, 3).await.unwrap();
    let report = MIGRATIONS.lint(&pool).await.unwrap();
    assert_eq!(report.applied, [1, 2, 3]);
    let pending: Vec<i64> = report.pending().map(|f| f.version).collect();
    assert_eq!(pending, [4], "002's drop has run: information, not a blocker");
    let text = embedded_migrations::core::lint::text(&report.findings, &|v| report.is_applied(v));
    let (before, after) = text.split_once("already applied: informational").expect(&text);
    assert!(
        before.contains("[table-rebuild]") && !before.contains("[drop-column]"),
        "{text}"
    );
    assert!(after.contains("`002_drop_nick.up.sql` line 1: [drop-column]"), "{text}");
    assert_eq!(migrate_lint(&pool).await, 1);

    MIGRATIONS.run(&pool).await.unwrap();
    assert!(MIGRATIONS.lint(&pool).await.unwrap().pending().next().is_none());
    assert_eq!(
        migrate_lint(&pool).await,
        0,
        "every finding is applied: nothing to block"
    );
}

#[tokio::test]
async fn status_shows_what_a_file_allows_and_why() {
    let pool = fresh("status").await;
    MIGRATIONS.run_to(&pool, 3).await.unwrap();
    let status = MIGRATIONS.status(&pool).await.unwrap();
    let allowed: Vec<(i64, String, String)> = status
        .entries
        .iter()
        .flat_map(|e| {
            e.allowed
                .iter()
                .map(move |a| (e.version, a.rule.clone(), a.reason.clone()))
        })
        .collect();
    assert_eq!(
        allowed,
        [(
            3,
            "rename-column".to_string(),
            "every release since 1.4 reads both names through the users_v view".to_string()
        )]
    );
    let json = serde_json::to_value(&status).unwrap();
    let entry = &json["migrations"][2];
    assert_eq!(entry["version"], 3);
    assert_eq!(entry["allowed"][0]["rule"], "rename-column");
    assert!(
        json["migrations"][0].get("allowed").is_none(),
        "absent where nothing is allowed"
    );
}

/// The same kind of folder on PostgreSQL: the session says which database
/// it is, so PostgreSQL's rules apply (an index without `CONCURRENTLY` on a
/// table of an earlier migration, which SQLite's rules do not flag).
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_rules_apply_on_a_postgres_pool() {
    static PG: Migrations = embed_migrations!("tests/ui/folders/lint_postgres");
    let Some(db) = servers::dbs::PgDb::create("lint").await else {
        return;
    };
    let pool = &db.pool;

    PG.run_to(pool, 1).await.unwrap();
    let report = PG.lint(pool).await.unwrap();
    let found: Vec<(i64, &str, bool)> = report
        .findings
        .iter()
        .map(|f| (f.version, f.rule.name, report.is_applied(f.version)))
        .collect();
    assert_eq!(
        found,
        [
            (2, "not-null-column-without-default", false),
            (2, "index-without-concurrently", false)
        ],
        "001 indexes the table it creates; 003 allows its drop"
    );
    let lint = ["migrate", "lint", "--json"];
    assert_eq!(
        embedded_migrations::cli::from_args(&PG, Settings::default(), pool, lint).await,
        1
    );
}
