//! The lint at run time: `Migrator::lint` and `migrate lint` on a real
//! SQLite database, the findings of applied migrations told apart from
//! those a deploy would run, and `migrate:allow` reasons in `status` and
//! `history --json`.

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
    // A fresh database: 001 creates the tables the others change, in the
    // same deploy, so nothing reads them yet and nothing is flagged.
    let report = MIGRATIONS.lint(&pool).await.unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(migrate_lint(&pool).await, 0);

    MIGRATIONS.run_to(&pool, 1).await.unwrap();
    let report = MIGRATIONS.lint(&pool).await.unwrap();
    let found: Vec<(i64, &str, usize)> = report
        .findings
        .iter()
        .map(|f| (f.version, f.rule.name, f.line))
        .collect();
    assert_eq!(found, [(2, "drop-column", 1), (4, "table-rebuild", 3)]);
    assert_eq!(report.applied, [1]);
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

/// A deploy runs its pending migrations one after the other: a table one of
/// them creates is new for the pending ones after it, so dropping its column
/// is not flagged (the build, which cannot know what is applied, flags it).
/// Once the table's migration is applied, it holds rows and is read: the
/// same drop is flagged.
#[tokio::test]
async fn a_table_a_pending_migration_creates_is_new_for_the_pending_ones_after_it() {
    static DEPLOY: Migrations = embed_migrations!("tests/fixtures/lint_sqlite_deploy");
    let pending = |report: &embedded_migrations::LintReport| -> Vec<(i64, &'static str, usize)> {
        report.pending().map(|f| (f.version, f.rule.name, f.line)).collect()
    };
    let pool = fresh("deploy").await;
    DEPLOY.run_to(&pool, 1).await.unwrap();
    let report = DEPLOY.lint(&pool).await.unwrap();
    assert_eq!(
        pending(&report),
        [(3, "drop-column", 3)],
        "002 creates `tags` in the same deploy: only `users`' column counts"
    );

    DEPLOY.run_to(&pool, 2).await.unwrap();
    let report = DEPLOY.lint(&pool).await.unwrap();
    assert_eq!(
        pending(&report),
        [(3, "drop-column", 2), (3, "drop-column", 3)],
        "`tags` is applied now: its column is read"
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

/// `migrate history --json` says what each up run's file allows and why, as
/// the text table's reason column does; a down run, and a file that allows
/// nothing, carry no `allowed`. The command prints to stdout, so a child
/// process runs it ([`history_json_child`]) and the parent reads its output.
#[tokio::test]
async fn history_json_carries_what_an_up_runs_file_allows() {
    let dir = std::env::temp_dir().join("embedded-migrations-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("lint-history-json-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    MIGRATIONS.run_to(&pool, 3).await.unwrap();
    MIGRATIONS.down(&pool, 1).await.unwrap();
    pool.close().await;

    let child = servers::spawn_child(
        "history_json_child",
        &[("EM_LINT_HISTORY_DB", path.display().to_string())],
    );
    let output = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // libtest's own words come before the document (on its first line:
    // `test history_json_child ... [`) and after it.
    let start = stdout.find("[\n").expect("a JSON array on stdout");
    let end = stdout.rfind("\n]").expect("the array's end") + 2;
    let rows: serde_json::Value = serde_json::from_str(&stdout[start..end]).expect("history --json is JSON");
    let seen: Vec<(i64, &str, Option<&str>)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["version"].as_i64().unwrap(),
                row["direction"].as_str().unwrap(),
                row.get("allowed").map(|a| a[0]["rule"].as_str().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "up", None),
            (2, "up", None),
            (3, "up", Some("rename-column")),
            (3, "down", None)
        ]
    );
    let up3 = &rows[2]["allowed"][0];
    assert_eq!(
        up3["reason"],
        "every release since 1.4 reads both names through the users_v view"
    );
}

#[tokio::test]
#[ignore = "a child process of history_json_carries_what_an_up_runs_file_allows"]
async fn history_json_child() {
    let path = servers::child_role("EM_LINT_HISTORY_DB");
    let options = SqliteConnectOptions::new().filename(path);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    let history = ["migrate", "history", "--json"];
    assert_eq!(
        embedded_migrations::cli::from_args(&MIGRATIONS, Settings::default(), &pool, history).await,
        0
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
