//! A test's own database on the PostgreSQL or MySQL/MariaDB server of its
//! URL variable: created under a unique name, with a pool on it, dropped
//! when the test passes and kept for inspection when it fails. Both are
//! `TestDb`s, so the shared scenarios run on them.

// Each test crate takes the one it needs.
#[cfg(feature = "mysql")]
#[allow(unused_imports)]
pub use self::mysql::MyDb;
#[cfg(feature = "postgres")]
#[allow(unused_imports)]
pub use self::postgres::PgDb;

pub const POSTGRES_URL: &str = "TEST_POSTGRES_URL";
pub const MYSQL_URL: &str = "TEST_MYSQL_URL";

#[cfg(feature = "postgres")]
mod postgres {
    use super::POSTGRES_URL;
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
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::MYSQL_URL;
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
}
