//! Files as people really write them, run on the real databases:
//! a UTF-8 BOM, SQLite's table rebuild recipe, a PostgreSQL rule with two
//! actions and a `BEGIN ATOMIC` body, MySQL compound statements (a `CASE`
//! expression before an `IF` statement, labels, a trigger whose body is one
//! `IF`). The build-time refusals themselves are trybuild cases
//! (tests/ui/{delimiter,transaction_statements,sqlite_table_rebuild,
//! concurrently_in_transaction,...}.rs); here SQLite shows why the table
//! rebuilds among them are refused.
//!
//! SQLite runs everywhere; PostgreSQL and MySQL need `TEST_POSTGRES_URL` /
//! `TEST_MYSQL_URL` and their features, and skip loudly without them (fail
//! when `CI=true`). Each test uses its own database.

#[macro_use]
mod support;
mod servers;

use embedded_migrations::{embed_migrations, Migrations};

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

    static REBUILD: Migrations = embed_migrations!("tests/fixtures/files_sqlite_rebuild");

    async fn pool(dir: &std::path::Path) -> SqlitePool {
        // sqlx turns foreign keys on for every connection, as an application would.
        let options = SqliteConnectOptions::new()
            .filename(dir.join("app.db"))
            .create_if_missing(true)
            .foreign_keys(true);
        SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("open SQLite")
    }

    async fn count(pool: &SqlitePool, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .expect(sql)
    }

    fn temp_dir(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(crate::support::unique_name(test));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// The recipe as SQLite documents it, in a `no-transaction` file saved
    /// with a BOM: the directive is read, the BOM never reaches SQLite, and
    /// the children survive the parent's rebuild.
    #[tokio::test]
    async fn table_rebuild_keeps_the_children_with_no_transaction() {
        let dir = temp_dir("rebuild");
        let pool = pool(&dir).await;
        let second = &REBUILD.migrations()[1];
        assert!(second.up.text.starts_with('\u{feff}'), "the premise: a BOM");
        assert!(second.up.no_transaction, "the directive after the BOM is read");
        let report = REBUILD.run(&pool).await.expect("run");
        assert_eq!(report.steps.len(), 2);
        assert_eq!(count(&pool, "SELECT count(*) FROM child").await, 2);
        assert_eq!(count(&pool, "SELECT count(*) FROM parent WHERE name = 'a'").await, 1);
        REBUILD.validate(&pool).await.expect("recorded clean");
        pool.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Why the build refuses these table rebuilds: run as a migration in a
    /// transaction runs them, between `BEGIN IMMEDIATE` and `COMMIT`, each
    /// reports success and deletes every child. `PRAGMA foreign_keys`
    /// (however it is spelled) is a no-op there, `allow-in-transaction`
    /// included, and `defer_foreign_keys` defers the checks, not the
    /// cascade. The build refuses each file, naming the risk and the recipe.
    #[tokio::test]
    async fn table_rebuilds_in_a_transaction_lose_the_children() {
        for (case, refusals) in [
            ("files_sqlite_rebuild_in_transaction", 2),
            ("files_sqlite_rebuild_deferred", 1),
            ("files_sqlite_rebuild_quoted", 2),
        ] {
            let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(case);
            let problems = embedded_migrations::core::scan(&folder).expect_err(case);
            assert_eq!(problems.len(), refusals, "{case}: {problems:?}");
            for problem in &problems {
                assert_eq!(
                    problem.rule,
                    embedded_migrations::core::Rule::NotInTransaction,
                    "{case}"
                );
                assert!(problem.message.contains("ON DELETE CASCADE"), "{problem}");
                assert!(
                    problem.message.contains("PRAGMA foreign_key_check; COMMIT;"),
                    "{problem}"
                );
            }
            let dir = temp_dir(case);
            let pool = pool(&dir).await;
            for (file, wrap) in [("001_create_parent.up.sql", false), ("002_rebuild_parent.up.sql", true)] {
                let text = std::fs::read_to_string(folder.join(file)).expect(file);
                let text = if wrap {
                    format!("BEGIN IMMEDIATE;\n{text}\nCOMMIT;")
                } else {
                    text
                };
                sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                    .execute(&pool)
                    .await
                    .expect(file);
            }
            assert_eq!(count(&pool, "SELECT count(*) FROM parent").await, 1, "{case}");
            assert_eq!(count(&pool, "SELECT count(*) FROM child").await, 0, "{case}");
            pool.close().await;
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use crate::servers::dbs::PgDb;

    static RULE: Migrations = embed_migrations!("tests/fixtures/files_postgres");

    #[tokio::test]
    async fn rule_with_two_actions_and_a_bom() {
        let Some(db) = PgDb::create("rule").await else {
            return;
        };
        let pool = &db.pool;
        assert!(
            RULE.migrations()[0].up.text.starts_with('\u{feff}'),
            "the premise: a BOM"
        );
        let plan = RULE.plan(pool).await.expect("plan");
        assert_eq!(plan.steps[0].statements.len(), 6, "{:#?}", plan.steps[0].statements);
        RULE.run(pool).await.expect("run");
        sqlx::query("INSERT INTO v VALUES (3)")
            .execute(pool)
            .await
            .expect("insert through the rule");
        let b: i32 = sqlx::query_scalar("SELECT id FROM b").fetch_one(pool).await.expect("b");
        assert_eq!(b, 30, "both actions of the rule ran");
        let twice: i32 = sqlx::query_scalar("SELECT twice(4)")
            .fetch_one(pool)
            .await
            .expect("twice");
        assert_eq!(twice, 8);
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use crate::servers::dbs::MyDb;

    static COMPOUND: Migrations = embed_migrations!("tests/fixtures/files_mysql");

    /// `SET x = CASE ... END;` then `IF ... END IF;` in a procedure: the
    /// splitter once merged the rest of the file into one statement.
    #[tokio::test]
    async fn compound_statements_and_a_bom() {
        let Some(db) = MyDb::create("compound").await else {
            return;
        };
        let pool = &db.pool;
        assert!(
            COMPOUND.migrations()[0].up.text.starts_with('\u{feff}'),
            "the premise: a BOM"
        );
        let plan = COMPOUND.plan(pool).await.expect("plan");
        assert_eq!(plan.steps[0].statements.len(), 4, "{:#?}", plan.steps[0].statements);
        COMPOUND.run(pool).await.expect("run");
        sqlx::query("CALL bump(7)").execute(pool).await.expect("call");
        sqlx::query("CALL bump(700)").execute(pool).await.expect("call");
        let rows: Vec<(i32, i32, String)> = sqlx::query_as("SELECT id, n, label FROM totals ORDER BY id")
            .fetch_all(pool)
            .await
            .expect("totals");
        assert_eq!(rows, [(7, 1, "small".to_string()), (700, 10, "big".to_string())]);
    }
}
