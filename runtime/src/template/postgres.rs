//! PostgreSQL templates: built into `embld_…`, renamed to `emtpl_…` when
//! complete, copied by `CREATE DATABASE … TEMPLATE`. The build lock is an
//! advisory lock on the server, so processes on other machines sharing the
//! server wait for it too, and a killed builder's lock ends with its
//! connection.

use super::build::{ensure_and_copy, sql_error, Store, Template, BUILDING_PREFIX, TEMPLATE_PREFIX};
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Row};

const BACKEND: &str = "PostgreSQL";

/// How `CREATE DATABASE` copies the template's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PostgresCopy {
    /// `STRATEGY FILE_COPY` (PostgreSQL 15+): copies the directory at the
    /// file level after a checkpoint. The faster on a small template (see
    /// BENCHMARKS.md), and the default.
    #[default]
    FileCopy,
    /// `STRATEGY WAL_LOG` (15+'s own default): copies block by block
    /// through the WAL, with no checkpoint.
    WalLog,
    /// No `STRATEGY` clause, for servers before 15 (which copy files).
    ServerDefault,
}

impl PostgresCopy {
    fn clause(self) -> &'static str {
        match self {
            PostgresCopy::FileCopy => " STRATEGY FILE_COPY",
            PostgresCopy::WalLog => " STRATEGY WAL_LOG",
            PostgresCopy::ServerDefault => "",
        }
    }
}

/// Creates the database `database` on the server of `server` as a copy of
/// `template`, building the template first when it is not there yet.
/// `server` names any database the user may connect to; the user needs
/// `CREATEDB`.
pub async fn postgres_from_template(
    server: &PgConnectOptions,
    template: &Template<'_>,
    database: &str,
    copy: PostgresCopy,
) -> Result<(), Error> {
    let store = Postgres { server };
    let store = &store;
    ensure_and_copy(store, template, |name| async move {
        store
            .admin(
                &format!("creating database {database} from template {name}"),
                &format!(
                    "CREATE DATABASE {} TEMPLATE {}{}",
                    quote(database),
                    quote(&name),
                    copy.clause()
                ),
            )
            .await
    })
    .await
}

/// Drops every template and leftover build (`emtpl_…`, `embld_…`) on the
/// server, waiting for no copy: one in use fails with the server's message.
pub async fn drop_all_postgres(server: &PgConnectOptions) -> Result<Vec<String>, Error> {
    let store = Postgres { server };
    let mut dropped = Vec::new();
    for name in store.names(&[TEMPLATE_PREFIX, BUILDING_PREFIX]).await? {
        store
            .admin(
                &format!("dropping template {name}"),
                &format!("DROP DATABASE IF EXISTS {}", quote(&name)),
            )
            .await?;
        dropped.push(name);
    }
    Ok(dropped)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

struct Postgres<'s> {
    server: &'s PgConnectOptions,
}

impl Postgres<'_> {
    async fn connect(&self, operation: &str) -> Result<PgConnection, Error> {
        self.server.connect().await.map_err(sql_error(BACKEND, operation))
    }

    async fn admin(&self, operation: &str, sql: &str) -> Result<(), Error> {
        let mut admin = self.connect(operation).await?;
        let done = compat::raw_sql(assert_sql_safe!(sql.to_string()))
            .execute(&mut admin)
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        done.map(|_| ())
    }

    async fn names(&self, prefixes: &[&str]) -> Result<Vec<String>, Error> {
        let operation = "listing the templates";
        let mut admin = self.connect(operation).await?;
        let rows = sqlx::query("SELECT datname FROM pg_database ORDER BY datname")
            .fetch_all(&mut admin)
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        Ok(rows?
            .into_iter()
            .map(|row| row.get::<String, _>(0))
            .filter(|name| prefixes.iter().any(|p| name.starts_with(p)))
            .collect())
    }
}

impl Store for Postgres<'_> {
    /// The connection that holds the advisory lock.
    type Lock = PgConnection;

    async fn published(&self, name: &str) -> Result<bool, Error> {
        let operation = format!("looking for template {name}");
        let mut admin = self.connect(&operation).await?;
        let found = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin)
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        Ok(found?.is_some())
    }

    async fn lock(&self, template: &Template<'_>) -> Result<PgConnection, Error> {
        let operation = format!("waiting for the build lock of template {}", template.name());
        let mut conn = self.connect(&operation).await?;
        // lock_timeout bounds an advisory lock's wait too: a builder that
        // hangs makes the others fail with the server's message, not hang.
        let timeout_ms = template.migrator().settings().lock_timeout_value().as_millis();
        compat::raw_sql(assert_sql_safe!(format!("SET lock_timeout = {timeout_ms}")))
            .execute(&mut conn)
            .await
            .map_err(sql_error(BACKEND, operation.clone()))?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(template.lock_key())
            .execute(&mut conn)
            .await
            .map_err(sql_error(BACKEND, operation))?;
        Ok(conn)
    }

    async fn unlock(&self, lock: PgConnection) -> Result<(), Error> {
        // Closing the session releases its advisory locks.
        lock.close()
            .await
            .map_err(sql_error(BACKEND, "releasing the template build lock"))
    }

    async fn discard(&self, building: &str) -> Result<(), Error> {
        self.admin(
            &format!("dropping the unfinished template {building}"),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(building)),
        )
        .await
    }

    async fn build(&self, building: &str, template: &Template<'_>) -> Result<(), Error> {
        self.admin(
            &format!("creating template {building}"),
            &format!("CREATE DATABASE {}", quote(building)),
        )
        .await?;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.server.clone().database(building))
            .await
            .map_err(sql_error(BACKEND, format!("connecting to template {building}")))?;
        let run = template.migrator().run_to(&pool, template.version()).await;
        // The rename needs every connection to the database gone.
        pool.close().await;
        run.map(|_| ())
    }

    async fn publish(&self, building: &str, name: &str) -> Result<(), Error> {
        self.admin(
            &format!("publishing template {name}"),
            &format!("ALTER DATABASE {} RENAME TO {}", quote(building), quote(name)),
        )
        .await
    }

    async fn templates(&self) -> Result<Vec<String>, Error> {
        self.names(&[TEMPLATE_PREFIX]).await
    }

    async fn drop_template(&self, name: &str) -> Result<bool, Error> {
        // Without FORCE: a template another process copies right now stays.
        match self
            .admin(
                &format!("dropping template {name}"),
                &format!("DROP DATABASE IF EXISTS {}", quote(name)),
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(Error::Database { message, .. }) if message.contains("being accessed by other users") => Ok(false),
            Err(err) => Err(err),
        }
    }
}
