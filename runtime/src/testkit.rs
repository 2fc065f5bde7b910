//! A fresh database for each test, migrated, and dropped afterwards
//! (feature `testkit`): what `#[sqlx::test]` gives, without its macro, on
//! every backend.
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # mod tests {
//! # static MIGRATIONS: embedded_migrations::Migrations =
//! #     embedded_migrations::embed_migrations!("docs/migrations/postgres");
//! use embedded_migrations::testkit::TestDatabase;
//!
//! #[tokio::test]
//! async fn orders_are_listed() {
//!     let db = TestDatabase::postgres(&std::env::var("DATABASE_URL").unwrap())
//!         .await.unwrap()
//!         .migrated(&MIGRATIONS).await.unwrap();   // or .migrated_to(&MIGRATIONS, 3)
//!     let pool = db.pool();
//!     // ... the test ...
//!     db.close().await.unwrap();                   // or let it drop
//! }
//! # }
//! ```
//!
//! On the SQL backends, `TestDatabase::sqlite_from(&template)`,
//! `postgres_from(url, &template)` and `mysql_from(url, &template)` copy a
//! database migrated once per set and version ([`crate::template`])
//! instead of running every migration per test.
//!
//! Isolation per backend:
//! - SQLite: a new database file in the temporary directory, removed afterwards.
//! - PostgreSQL, MySQL/MariaDB: a new database on the server the URL names
//!   (its user needs `CREATE DATABASE`), dropped afterwards.
//! - Neo4j: community edition has one database, so the kit serialises the
//!   tests that use it, across threads and processes, with a file lock
//!   (`/tmp/embedded-migrations-neo4j.lock` on Unix), and wipes the graph
//!   (every node, constraint and index but the built-in lookup indexes)
//!   when it takes the lock and again when it is done. Tests on Neo4j run
//!   one at a time, and must not share the server with anything else.
//! - ChromaDB: a new database in the client's tenant
//!   ([`TestDatabase::chroma`]), deleted afterwards with its collections.
//!
//! "Afterwards" is [`TestDatabase::close`], which reports a failure, or the
//! drop, which does the same on a thread of its own and only prints a
//! failure. A test that panics keeps its database, named on stderr, for
//! inspection (`#[sqlx::test]` does the same); the Neo4j graph is wiped by
//! the next test.

use crate::backend::Database;
use crate::sql::compat::{self, assert_sql_safe};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use crate::template::Template;
use crate::{Error, Language, Migrations};
use std::future::Future;
use std::pin::Pin;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql", feature = "chroma"))]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "neo4j")]
use std::time::Duration;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql", feature = "chroma"))]
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a Neo4j test waits for the tests ahead of it.
#[cfg(feature = "neo4j")]
const NEO4J_LOCK_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A fresh database (or, on Neo4j, the graph held alone and wiped), dropped
/// by [`close`](Self::close) or when dropped.
pub struct TestDatabase<P> {
    pool: P,
    name: String,
    cleanup: Option<Cleanup>,
}

/// What dropping the database takes, kept apart from the pool so that it
/// can run on another thread.
enum Cleanup {
    #[cfg(feature = "sqlite")]
    SqliteFile(std::path::PathBuf),
    /// A database on a PostgreSQL or MySQL server: `drop` is the admin
    /// connection's statement that drops it.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Server {
        drop: Box<dyn FnOnce(String) -> CleanupFuture + Send>,
    },
    #[cfg(feature = "neo4j")]
    Neo4j {
        uri: String,
        user: String,
        password: String,
        /// Held while the test runs; closing it releases the lock.
        lock: std::fs::File,
    },
    /// A Chroma database, deleted through a client of its own (the test's
    /// holds connections on the test's runtime).
    #[cfg(feature = "chroma")]
    Chroma { url: String, tenant: String },
}

type CleanupFuture = Pin<Box<dyn Future<Output = Result<(), Error>>>>;

impl<P> TestDatabase<P> {
    /// The pool (or graph) to hand to the code under test.
    pub fn pool(&self) -> &P {
        &self.pool
    }

    /// The database's name (the file's path on SQLite).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Applies every migration of `migrations`.
    pub async fn migrated<L: Language>(self, migrations: &Migrations<L>) -> Result<Self, Error>
    where
        P: Database<Language = L>,
    {
        migrations.run(&self.pool).await?;
        Ok(self)
    }

    /// Applies the migrations up to and including `version`.
    pub async fn migrated_to<L: Language>(self, migrations: &Migrations<L>, version: i64) -> Result<Self, Error>
    where
        P: Database<Language = L>,
    {
        migrations.run_to(&self.pool, version).await?;
        Ok(self)
    }

    /// Drops the database now, returning what went wrong.
    pub async fn close(mut self) -> Result<(), Error> {
        let Some(cleanup) = self.cleanup.take() else {
            return Ok(());
        };
        // On a thread of its own, as the drop does: the pool's connections
        // may need this runtime to close while the cleanup waits.
        let name = self.name.clone();
        tokio::task::spawn_blocking(move || cleanup.run_detached(&name))
            .await
            .map_err(|err| Error::database("test kit", "dropping the test database", err))?
    }
}

impl<P> Drop for TestDatabase<P> {
    fn drop(&mut self) {
        let Some(cleanup) = self.cleanup.take() else { return };
        if std::thread::panicking() {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "test kit: kept the test database `{}` of the failed test for inspection",
                self.name
            );
            return;
        }
        if let Err(err) = cleanup.run_detached(&self.name) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "test kit: {err}");
        }
    }
}

impl Cleanup {
    /// Runs the cleanup on a new thread with its own runtime, and waits for
    /// it: a drop cannot await, and the test's runtime may be single-threaded.
    fn run_detached(self, name: &str) -> Result<(), Error> {
        let name = name.to_string();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| Error::database("test kit", "starting a runtime to drop the test database", err))?;
            runtime.block_on(self.future(name))
        })
        .join()
        .unwrap_or_else(|_| {
            Err(Error::database(
                "test kit",
                "dropping the test database",
                "the cleanup thread panicked",
            ))
        })
    }

    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql", feature = "chroma")),
        allow(unused_variables)
    )]
    fn future(self, name: String) -> CleanupFuture {
        match self {
            #[cfg(feature = "sqlite")]
            Cleanup::SqliteFile(path) => Box::pin(async move {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => return Err(Error::database("SQLite", format!("removing {file:?}"), err)),
                    }
                }
                Ok(())
            }),
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Cleanup::Server { drop } => drop(name),
            #[cfg(feature = "neo4j")]
            Cleanup::Neo4j {
                uri,
                user,
                password,
                lock,
            } => Box::pin(async move {
                let graph = neo4rs::Graph::new(uri, user, password)
                    .await
                    .map_err(|e| Error::database("Neo4j", "connecting to wipe the test graph", e))?;
                let wiped = wipe_neo4j(&graph).await;
                drop(lock);
                wiped
            }),
            #[cfg(feature = "chroma")]
            Cleanup::Chroma { url, tenant } => Box::pin(async move {
                crate::chroma::ChromaClient::new(url)
                    .tenant_named(tenant, name)
                    .delete_database()
                    .await
                    .map_err(|e| Error::database("ChromaDB", "deleting the test database", &e).with_source(e))
            }),
        }
    }
}

/// A name no other test of this or another process takes.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql", feature = "chroma"))]
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "emtest_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(feature = "sqlite")]
impl TestDatabase<sqlx::SqlitePool> {
    /// A new SQLite database file in the temporary directory.
    pub async fn sqlite() -> Result<Self, Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let path = std::env::temp_dir().join(format!("{}.sqlite3", unique_name()));
        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(|e| Error::database("SQLite", format!("creating test database {}", path.display()), e))?;
        Ok(TestDatabase {
            pool,
            name: path.display().to_string(),
            cleanup: Some(Cleanup::SqliteFile(path)),
        })
    }

    /// A new SQLite database file in the temporary directory, a copy of the
    /// template of `template` (a file in
    /// [`sqlite_template_dir`](crate::template::sqlite_template_dir)), which
    /// the first test to ask builds.
    pub async fn sqlite_from(template: &Template<'_>) -> Result<Self, Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let path = std::env::temp_dir().join(format!("{}.sqlite3", unique_name()));
        crate::template::sqlite_from_template(template, &path).await?;
        let cleanup = Cleanup::SqliteFile(path.clone());
        match SqlitePoolOptions::new()
            .connect_with(SqliteConnectOptions::new().filename(&path))
            .await
        {
            Ok(pool) => Ok(TestDatabase {
                pool,
                name: path.display().to_string(),
                cleanup: Some(cleanup),
            }),
            Err(e) => {
                let _ = cleanup.run_detached(&path.display().to_string());
                Err(Error::database("SQLite", format!("opening test database {}", path.display()), &e).with_source(e))
            }
        }
    }
}

/// What differs between the servers the kit creates databases on: how a
/// name is quoted, how a database is dropped, where the options point.
#[cfg(any(feature = "postgres", feature = "mysql"))]
trait Server: sqlx::Database {
    fn quote(name: &str) -> String;
    /// `DROP DATABASE` for the quoted name.
    fn drop_sql(quoted: &str) -> String;
    fn database(options: Options<Self>, name: &str) -> Options<Self>;
}

/// A server's connect options (`PgConnectOptions`, `MySqlConnectOptions`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
type Options<DB> = <<DB as sqlx::Database>::Connection as sqlx::Connection>::Options;

#[cfg(feature = "postgres")]
impl Server for sqlx::Postgres {
    fn quote(name: &str) -> String {
        format!("\"{name}\"")
    }
    fn drop_sql(quoted: &str) -> String {
        // FORCE: the test's pool may still hold connections.
        format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    }
    fn database(options: Options<Self>, name: &str) -> Options<Self> {
        options.database(name)
    }
}

#[cfg(feature = "mysql")]
impl Server for sqlx::MySql {
    fn quote(name: &str) -> String {
        format!("`{name}`")
    }
    fn drop_sql(quoted: &str) -> String {
        format!("DROP DATABASE IF EXISTS {quoted}")
    }
    fn database(options: Options<Self>, name: &str) -> Options<Self> {
        options.database(name)
    }
}

/// Runs `sql` on a new admin connection to the server of `options`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn admin<DB: Server>(options: &Options<DB>, sql: String) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    use sqlx::{ConnectOptions, Connection};
    let mut admin = options.connect().await?;
    compat::raw_sql(assert_sql_safe!(sql)).execute(&mut admin).await?;
    admin.close().await
}

/// A new database on the server of `server_url` (any database of it: the
/// kit connects there to create and drop the test database), and a pool on it.
/// `create` makes the database of the given name on the server (empty, or
/// a copy of a template).
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn server_database<DB: Server, F>(
    server_url: &str,
    create: impl FnOnce(Options<DB>, String) -> F,
) -> Result<TestDatabase<sqlx::Pool<DB>>, Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    F: Future<Output = Result<(), Error>>,
{
    let name = unique_name();
    let err = |e: sqlx::Error| {
        Error::database(
            <DB as sqlx::Database>::NAME,
            format!("creating test database {name}"),
            e,
        )
    };
    let server: Options<DB> = server_url.parse().map_err(err)?;
    let created = create(server.clone(), name.clone()).await;
    let admin_options = server.clone();
    let cleanup = Cleanup::Server {
        drop: Box::new(move |name: String| -> CleanupFuture {
            Box::pin(async move {
                admin::<DB>(&admin_options, DB::drop_sql(&DB::quote(&name)))
                    .await
                    .map_err(|e| {
                        Error::database(
                            <DB as sqlx::Database>::NAME,
                            format!("dropping test database {name}"),
                            e,
                        )
                    })
            })
        }),
    };
    if let Err(e) = created {
        // A copy that failed half-way leaves a database to drop.
        let _ = cleanup.run_detached(&name);
        return Err(e);
    }
    match sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(5)
        .connect_with(DB::database(server, &name))
        .await
    {
        Ok(pool) => Ok(TestDatabase {
            pool,
            name,
            cleanup: Some(cleanup),
        }),
        Err(e) => {
            let _ = cleanup.run_detached(&name);
            Err(err(e))
        }
    }
}

/// `CREATE DATABASE` of the name, empty.
#[cfg(any(feature = "postgres", feature = "mysql"))]
async fn create_empty<DB: Server>(server: Options<DB>, name: String) -> Result<(), Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    admin::<DB>(&server, format!("CREATE DATABASE {}", DB::quote(&name)))
        .await
        .map_err(|e| {
            Error::database(
                <DB as sqlx::Database>::NAME,
                format!("creating test database {name}"),
                &e,
            )
            .with_source(e)
        })
}

#[cfg(feature = "postgres")]
impl TestDatabase<sqlx::PgPool> {
    /// A new database on the server of `server_url` (any database of it:
    /// the kit connects there to create and drop the test database).
    pub async fn postgres(server_url: &str) -> Result<Self, Error> {
        server_database::<sqlx::Postgres, _>(server_url, create_empty::<sqlx::Postgres>).await
    }

    /// A new database on the server of `server_url`, copied from the
    /// template of `template` (`CREATE DATABASE … TEMPLATE … STRATEGY
    /// FILE_COPY`), which the first test to ask builds: migrated as a full
    /// run would leave it, tracking rows included, in milliseconds.
    pub async fn postgres_from(server_url: &str, template: &Template<'_>) -> Result<Self, Error> {
        server_database::<sqlx::Postgres, _>(server_url, |server, name| async move {
            crate::template::postgres_from_template(&server, template, &name, Default::default()).await
        })
        .await
    }
}

#[cfg(feature = "mysql")]
impl TestDatabase<sqlx::MySqlPool> {
    /// A new database on the server of `server_url`.
    pub async fn mysql(server_url: &str) -> Result<Self, Error> {
        server_database::<sqlx::MySql, _>(server_url, create_empty::<sqlx::MySql>).await
    }

    /// A new database on the server of `server_url`, copied from the
    /// template of `template` (its tables, rows, views, triggers and
    /// routines replayed), which the first test to ask builds. On MariaDB
    /// 10.11 the replay measured slower than a full run of the 232
    /// realistic migrations (BENCHMARKS.md): prefer [`mysql`](Self::mysql)
    /// and `migrated` there.
    pub async fn mysql_from(server_url: &str, template: &Template<'_>) -> Result<Self, Error> {
        server_database::<sqlx::MySql, _>(server_url, |server, name| async move {
            crate::template::mysql_from_template(&server, template, &name).await
        })
        .await
    }
}

#[cfg(feature = "neo4j")]
impl TestDatabase<neo4rs::Graph> {
    /// The graph at `uri`, held alone (see the module's notes) and wiped.
    pub async fn neo4j(uri: &str, user: &str, password: &str) -> Result<Self, Error> {
        let lock = take_neo4j_lock(NEO4J_LOCK_TIMEOUT).await?;
        let graph = neo4rs::Graph::new(uri, user, password)
            .await
            .map_err(|e| Error::database("Neo4j", format!("connecting to {uri}"), e))?;
        wipe_neo4j(&graph).await?;
        Ok(TestDatabase {
            pool: graph,
            name: format!("the graph at {uri}"),
            cleanup: Some(Cleanup::Neo4j {
                uri: uri.to_string(),
                user: user.to_string(),
                password: password.to_string(),
                lock,
            }),
        })
    }
}

/// The file that serialises tests on a Neo4j server.
#[cfg(feature = "neo4j")]
pub fn neo4j_lock_path() -> std::path::PathBuf {
    if cfg!(unix) {
        std::path::PathBuf::from("/tmp/embedded-migrations-neo4j.lock")
    } else {
        std::env::temp_dir().join("embedded-migrations-neo4j.lock")
    }
}

/// Takes the Neo4j test lock (an exclusive lock on [`neo4j_lock_path`]),
/// waiting at most `timeout`; it is released when the file is dropped.
#[cfg(feature = "neo4j")]
pub async fn take_neo4j_lock(timeout: Duration) -> Result<std::fs::File, Error> {
    let path = neo4j_lock_path();
    let err = |e: std::io::Error| Error::database("Neo4j", format!("opening the test lock {}", path.display()), e);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::LockTimeout {
                    backend: "Neo4j test",
                    waited: started.elapsed(),
                    holder: Some(format!("another test holding {}", path.display())),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
    }
}

/// Deletes every node and relationship, every constraint, and every index
/// but the built-in lookup indexes.
#[cfg(feature = "neo4j")]
pub async fn wipe_neo4j(graph: &neo4rs::Graph) -> Result<(), Error> {
    let err = |operation: &'static str| move |e: neo4rs::Error| Error::database("Neo4j", operation, e);
    graph
        .run(neo4rs::query("MATCH (n) DETACH DELETE n"))
        .await
        .map_err(err("deleting every node"))?;
    for (kind, list) in [
        ("CONSTRAINT", "SHOW CONSTRAINTS YIELD name RETURN name"),
        (
            "INDEX",
            "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name",
        ),
    ] {
        let mut names = Vec::new();
        let mut rows = graph
            .execute(neo4rs::query(list))
            .await
            .map_err(err("listing the schema to wipe"))?;
        while let Some(row) = rows.next().await.map_err(err("listing the schema to wipe"))? {
            let name: String = row
                .get("name")
                .map_err(|e| Error::database("Neo4j", "listing the schema to wipe", e))?;
            names.push(name);
        }
        for name in names {
            let drop = format!("DROP {kind} `{}` IF EXISTS", name.replace('`', "``"));
            graph
                .run(neo4rs::query(&drop))
                .await
                .map_err(err("dropping the schema"))?;
        }
    }
    Ok(())
}

#[cfg(feature = "chroma")]
impl TestDatabase<crate::chroma::ChromaClient> {
    /// A new database in `client`'s tenant on its server, and a client on
    /// it; deleted afterwards with every collection in it.
    pub async fn chroma(client: &crate::chroma::ChromaClient) -> Result<Self, Error> {
        let name = unique_name();
        let pool = client.database_named(name.clone());
        pool.create_database()
            .await
            .map_err(|e| Error::database("ChromaDB", "creating the test database", &e).with_source(e))?;
        Ok(TestDatabase {
            cleanup: Some(Cleanup::Chroma {
                url: pool.url().to_string(),
                tenant: pool.tenant().to_string(),
            }),
            pool,
            name,
        })
    }
}
