//! A test's own database: an SQLite file, or a database on the PostgreSQL
//! or MySQL/MariaDB server of its URL variable, created under a unique
//! name, with a pool on it, dropped when the test passes (a server's is
//! kept for inspection when it fails). Each is a `TestDb` and a
//! `SqlFaults`, so the shared scenarios and the fault suite run on them,
//! here and in compat/sqlx08 (the same suites on sqlx 0.8).

// Each test crate takes the one it needs.
#[cfg(feature = "mysql")]
#[allow(unused_imports)]
pub use self::mysql::MyDb;
#[cfg(feature = "postgres")]
#[allow(unused_imports)]
pub use self::postgres::PgDb;
#[cfg(feature = "sqlite")]
#[allow(unused_imports)]
pub use self::sqlite::SqliteDb;

pub const POSTGRES_URL: &str = "TEST_POSTGRES_URL";
pub const MYSQL_URL: &str = "TEST_MYSQL_URL";

#[cfg(feature = "sqlite")]
pub mod sqlite {
    use crate::support::faults::SqlFaults;
    use crate::support::TestDb;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::path::PathBuf;

    pub struct SqliteDb {
        pub pool: SqlitePool,
        pub path: PathBuf,
    }

    pub fn scratch_file(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join("embedded-migrations-tests");
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join(format!("{}.db", crate::support::unique_name(test)))
    }

    pub async fn open(path: &PathBuf) -> SqlitePool {
        let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
        SqlitePool::connect_with(options).await.expect("open sqlite file")
    }

    impl TestDb for SqliteDb {
        type Pool = SqlitePool;
        const TRANSACTIONAL_DDL: bool = true;

        async fn fresh(test: &str) -> Option<Self> {
            let path = scratch_file(test);
            Some(SqliteDb {
                pool: open(&path).await,
                path,
            })
        }

        fn pool(&self) -> &SqlitePool {
            &self.pool
        }

        async fn tables(&self) -> Vec<String> {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&self.pool)
            .await
            .expect("list tables")
        }

        async fn exec(&self, sql: &str) {
            crate::servers::exec(&self.pool, sql).await
        }

        async fn count(&self, sql: &str) -> i64 {
            crate::servers::count(&self.pool, sql.to_string()).await
        }
    }

    impl Drop for SqliteDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm", "-migrations.lock"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
            }
        }
    }

    impl SqlFaults for SqliteDb {
        const ENDS_ITS_TRANSACTION: &'static str =
            "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nEND;\nINSERT INTO nosuch (id) VALUES (1);\n";
        const ENDED_AT: (&'static str, u32) = ("END", 1);
        const POISON: &'static str =
            "PRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE t_new (id INTEGER PRIMARY KEY);\n\
                                      INSERT INTO nosuch (id) VALUES (1);\nCOMMIT;\nPRAGMA foreign_keys = ON;\n";

        const SLOW: &'static str =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000000) SELECT count(*) FROM n";

        async fn one_connection(&self) -> SqlitePool {
            let options = SqliteConnectOptions::new().filename(&self.path);
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("open sqlite file")
        }

        async fn exec_on(pool: &SqlitePool, sql: &str) {
            crate::servers::exec(pool, sql).await
        }

        async fn count_on(pool: &SqlitePool, sql: &str) -> i64 {
            crate::servers::count(pool, sql.to_string()).await
        }

        async fn close(pool: SqlitePool) {
            pool.close().await
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::POSTGRES_URL;
    use crate::support::faults::SqlFaults;
    use crate::support::{self, TestDb};
    use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

    pub struct PgDb {
        pub pool: PgPool,
        pub name: String,
        pub server: PgConnectOptions,
    }

    impl PgDb {
        /// On the server of `TEST_POSTGRES_URL`, or `None` after saying
        /// why (or failing, when `CI=true`).
        pub async fn create(test: &str) -> Option<PgDb> {
            let server: PgConnectOptions = crate::servers::server(POSTGRES_URL, test)?;
            let name = support::unique_name(test);
            crate::servers::admin(&server, format!("CREATE DATABASE \"{name}\"")).await;
            let pool = PgPoolOptions::new()
                .max_connections(5)
                .connect_with(server.clone().database(&name))
                .await
                .expect("connect to the test database");
            Some(PgDb { pool, name, server })
        }

        /// How to connect to this database (another pool, a child process).
        pub fn options(&self) -> PgConnectOptions {
            self.server.clone().database(&self.name)
        }
    }

    impl Drop for PgDb {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("kept database {} for inspection", self.name);
                return;
            }
            crate::servers::drop_database(
                &self.server,
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
                &self.name,
            );
        }
    }

    impl TestDb for PgDb {
        type Pool = PgPool;
        const TRANSACTIONAL_DDL: bool = true;

        async fn fresh(test: &str) -> Option<Self> {
            PgDb::create(test).await
        }

        fn pool(&self) -> &PgPool {
            &self.pool
        }

        async fn tables(&self) -> Vec<String> {
            sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
            )
            .fetch_all(&self.pool)
            .await
            .expect("list tables")
        }

        async fn exec(&self, sql: &str) {
            crate::servers::exec(&self.pool, sql).await
        }

        async fn count(&self, sql: &str) -> i64 {
            crate::servers::count(&self.pool, sql.to_string()).await
        }
    }

    impl SqlFaults for PgDb {
        const ENDS_ITS_TRANSACTION: &'static str =
            "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nEND;\nINSERT INTO nosuch (id) VALUES (1);\n";
        const ENDED_AT: (&'static str, u32) = ("END", 1);
        const POISON: &'static str = "SET session_replication_role = replica;\nBEGIN;\n\
                                      CREATE TABLE t_new (id INTEGER PRIMARY KEY);\nINSERT INTO nosuch (id) VALUES (1);\n\
                                      COMMIT;\nSET session_replication_role = origin;\n";

        const SLOW: &'static str = "SELECT pg_sleep(5)";

        async fn one_connection(&self) -> PgPool {
            PgPoolOptions::new()
                .max_connections(1)
                .connect_with(self.options())
                .await
                .expect("connect to the test database")
        }

        async fn exec_on(pool: &PgPool, sql: &str) {
            crate::servers::exec(pool, sql).await
        }

        async fn count_on(pool: &PgPool, sql: &str) -> i64 {
            crate::servers::count(pool, sql.to_string()).await
        }

        async fn close(pool: PgPool) {
            pool.close().await
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::MYSQL_URL;
    use crate::support::faults::SqlFaults;
    use crate::support::{self, TestDb};
    use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

    pub struct MyDb {
        pub pool: MySqlPool,
        pub name: String,
        pub server: MySqlConnectOptions,
    }

    impl MyDb {
        /// On the server of `TEST_MYSQL_URL`, or `None` after saying why
        /// (or failing, when `CI=true`).
        pub async fn create(test: &str) -> Option<MyDb> {
            let server: MySqlConnectOptions = crate::servers::server(MYSQL_URL, test)?;
            let name = support::unique_name(test);
            crate::servers::admin(&server, format!("CREATE DATABASE `{name}`")).await;
            let pool = MySqlPoolOptions::new()
                .max_connections(5)
                .connect_with(server.clone().database(&name))
                .await
                .expect("connect to the test database");
            Some(MyDb { pool, name, server })
        }

        /// How to connect to this database (another pool, a child process).
        pub fn options(&self) -> MySqlConnectOptions {
            self.server.clone().database(&self.name)
        }
    }

    impl Drop for MyDb {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("kept database {} for inspection", self.name);
                return;
            }
            crate::servers::drop_database(
                &self.server,
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
                &self.name,
            );
        }
    }

    impl TestDb for MyDb {
        type Pool = MySqlPool;
        const TRANSACTIONAL_DDL: bool = false;

        async fn fresh(test: &str) -> Option<Self> {
            MyDb::create(test).await
        }

        fn pool(&self) -> &MySqlPool {
            &self.pool
        }

        async fn tables(&self) -> Vec<String> {
            sqlx::query_scalar(
                "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
            )
            .fetch_all(&self.pool)
            .await
            .expect("list tables")
        }

        async fn exec(&self, sql: &str) {
            crate::servers::exec(&self.pool, sql).await
        }

        /// `sql` cast to a signed integer: MySQL's `count(*)` is unsigned
        /// and some of its sums are decimals.
        async fn count(&self, sql: &str) -> i64 {
            crate::servers::count(&self.pool, format!("SELECT CAST(({sql}) AS SIGNED)")).await
        }
    }

    impl SqlFaults for MyDb {
        /// No migration runs in a transaction here: the COMMIT commits what
        /// committed already, and the INSERT fails as the third statement.
        const ENDS_ITS_TRANSACTION: &'static str =
            "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nCOMMIT;\nINSERT INTO nosuch (id) VALUES (1);\n";
        const ENDED_AT: (&'static str, u32) = ("INSERT INTO nosuch", 2);
        const POISON: &'static str = "SET FOREIGN_KEY_CHECKS = 0;\nSTART TRANSACTION;\n\
                                      INSERT INTO child (id, parent_id) VALUES (9, 999);\nINSERT INTO nosuch (id) VALUES (1);\n\
                                      COMMIT;\nSET FOREIGN_KEY_CHECKS = 1;\n";

        const SLOW: &'static str = "SELECT SLEEP(5)";

        async fn one_connection(&self) -> MySqlPool {
            MySqlPoolOptions::new()
                .max_connections(1)
                .connect_with(self.server.clone().database(&self.name))
                .await
                .expect("connect to the test database")
        }

        async fn exec_on(pool: &MySqlPool, sql: &str) {
            crate::servers::exec(pool, sql).await
        }

        async fn count_on(pool: &MySqlPool, sql: &str) -> i64 {
            crate::servers::count(pool, format!("SELECT CAST(({sql}) AS SIGNED)")).await
        }

        async fn close(pool: MySqlPool) {
            pool.close().await
        }
    }
}
