//! New tenant databases copied from the set's template
//! ([`crate::template`]) instead of migrated from nothing: the first one
//! built is the template, every later one a copy (PostgreSQL `CREATE
//! DATABASE … TEMPLATE`, an SQLite file copy, a MySQL/MariaDB replay),
//! with the tracking rows a full run would leave. Only where a tenant is a
//! database or a file: a PostgreSQL schema per tenant cannot be copied
//! (the server copies databases, not schemas), and is migrated in full.

use super::tenants::Tenants;
use crate::template::Template;
use crate::{Error, Settings, Sql};

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn pool_error<'n>(backend: &'static str, name: &'n str) -> impl FnOnce(sqlx::Error) -> Error + 'n {
    move |err| Error::database(backend, format!("connecting to the new tenant database {name}"), &err).with_source(err)
}

impl<'a> Tenants<'a, Sql> {
    /// Creates the database `name` on the server of `server` as a copy of
    /// the set's template (built first if need be), adds it as a tenant of
    /// that name with the default settings, and returns its pool.
    #[cfg(feature = "postgres")]
    pub async fn create_postgres(
        self,
        name: &str,
        server: &sqlx::postgres::PgConnectOptions,
    ) -> Result<(Self, sqlx::PgPool), Error> {
        let template = Template::of(self.migrations());
        crate::template::postgres_from_template(server, &template, name, Default::default()).await?;
        let pool = sqlx::PgPool::connect_with(server.clone().database(name))
            .await
            .map_err(pool_error("PostgreSQL", name))?;
        Ok((self.tenant(name, pool.clone(), Settings::default()), pool))
    }

    /// Creates the database `name` on the server of `server` as a copy of
    /// the set's template, adds it as a tenant, and returns its pool.
    #[cfg(feature = "mysql")]
    pub async fn create_mysql(
        self,
        name: &str,
        server: &sqlx::mysql::MySqlConnectOptions,
    ) -> Result<(Self, sqlx::MySqlPool), Error> {
        let template = Template::of(self.migrations());
        crate::template::mysql_from_template(server, &template, name).await?;
        let pool = sqlx::MySqlPool::connect_with(server.clone().database(name))
            .await
            .map_err(pool_error("MySQL", name))?;
        Ok((self.tenant(name, pool.clone(), Settings::default()), pool))
    }

    /// Writes the SQLite file `path` (which must not exist) as a copy of the
    /// set's template, adds it as the tenant `name`, and returns its pool.
    #[cfg(feature = "sqlite")]
    pub async fn create_sqlite(self, name: &str, path: &std::path::Path) -> Result<(Self, sqlx::SqlitePool), Error> {
        let template = Template::of(self.migrations());
        crate::template::sqlite_from_template(&template, path).await?;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let pool = sqlx::SqlitePool::connect_with(options).await.map_err(|err| {
            Error::database(
                "SQLite",
                format!("opening the new tenant file {}", path.display()),
                &err,
            )
            .with_source(err)
        })?;
        Ok((self.tenant(name, pool.clone(), Settings::default()), pool))
    }
}
