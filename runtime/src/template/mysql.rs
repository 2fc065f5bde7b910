//! MySQL/MariaDB templates. The server cannot copy or rename a database, so
//! a copy is replayed: each table from `SHOW CREATE TABLE` (foreign keys,
//! `AUTO_INCREMENT` counter and options included) with its rows, then the
//! views (the template's name taken out of their text), triggers and
//! routines from their `SHOW CREATE`. The tracking state table is copied
//! last, so a database holding its row is complete: that is how a published
//! template is told from one whose copy was killed. The build lock is
//! `GET_LOCK` on the server, released when the builder's connection ends.

use super::build::{ensure_and_copy, sql_error, Store, Template, BUILDING_PREFIX, TEMPLATE_PREFIX};
use crate::sql::compat::{self, assert_sql_safe};
use crate::Error;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, Row};

const BACKEND: &str = "MySQL";

/// Creates the database `database` on the server of `server` as a copy of
/// `template`, building the template first when it is not there yet.
pub async fn mysql_from_template(
    server: &MySqlConnectOptions,
    template: &Template<'_>,
    database: &str,
) -> Result<(), Error> {
    let store = MySql {
        server,
        state_table: state_table(template),
    };
    let store = &store;
    ensure_and_copy(store, template, |name| async move { store.copy(&name, database).await }).await
}

/// Drops every template and leftover build (`emtpl_…`, `embld_…`) on the
/// server; returns their names.
pub async fn drop_all_mysql(server: &MySqlConnectOptions) -> Result<Vec<String>, Error> {
    let store = MySql {
        server,
        state_table: String::new(),
    };
    let mut dropped = Vec::new();
    for name in store.names(&[TEMPLATE_PREFIX, BUILDING_PREFIX]).await? {
        store.drop_database(&name).await?;
        dropped.push(name);
    }
    Ok(dropped)
}

fn state_table(template: &Template<'_>) -> String {
    format!("{}_state", template.migrator().settings().table_name())
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

struct MySql<'s> {
    server: &'s MySqlConnectOptions,
    /// The tracking state table: copied last, the mark of a complete copy.
    state_table: String,
}

impl MySql<'_> {
    async fn connect(&self, operation: &str) -> Result<MySqlConnection, Error> {
        self.server.connect().await.map_err(sql_error(BACKEND, operation))
    }

    async fn names(&self, prefixes: &[&str]) -> Result<Vec<String>, Error> {
        let operation = "listing the templates";
        let mut admin = self.connect(operation).await?;
        let rows = sqlx::query("SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata")
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

    async fn drop_database(&self, name: &str) -> Result<(), Error> {
        let operation = format!("dropping database {name}");
        let mut admin = self.connect(&operation).await?;
        let done = compat::raw_sql(assert_sql_safe!(format!("DROP DATABASE IF EXISTS {}", quote(name))))
            .execute(&mut admin)
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        done.map(|_| ())
    }

    /// Replays the database `from` into a new database `to`, in named phases.
    async fn copy(&self, from: &str, to: &str) -> Result<(), Error> {
        let operation = format!("copying template {from} into {to}");
        let mut conn = self.connect(&operation).await?;
        let copied = copy_database(&mut conn, from, to, &self.state_table)
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = conn.close().await;
        if copied.is_err() {
            // Half a copy is no database to hand out (nor to publish).
            let _ = self.drop_database(to).await;
        }
        copied
    }
}

/// The statements of one copy, on one connection.
async fn copy_database(conn: &mut MySqlConnection, from: &str, to: &str, state_table: &str) -> Result<(), sqlx::Error> {
    let (charset, collation): (String, String) = sqlx::query_as(
        "SELECT CAST(default_character_set_name AS CHAR), CAST(default_collation_name AS CHAR) \
         FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind(from)
    .fetch_one(&mut *conn)
    .await?;
    exec(
        conn,
        format!(
            "CREATE DATABASE {} CHARACTER SET {charset} COLLATE {collation}",
            quote(to)
        ),
    )
    .await?;
    exec(conn, format!("USE {}", quote(to))).await?;
    // Tables in any order: their foreign keys refer to tables not there yet.
    exec(conn, "SET SESSION foreign_key_checks = 0".into()).await?;
    let mut tables: Vec<String> = names(
        conn,
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
        from,
    )
    .await?;
    // The state row last of all: its presence marks a complete copy.
    let state: Vec<String> = tables.iter().filter(|t| *t == state_table).cloned().collect();
    tables.retain(|t| t != state_table);
    copy_tables(conn, from, &tables).await?;
    copy_views(conn, from).await?;
    copy_triggers(conn, from).await?;
    copy_routines(conn, from).await?;
    copy_tables(conn, from, &state).await?;
    exec(conn, "SET SESSION foreign_key_checks = 1".into()).await
}

/// The tables first (DDL commits on its own), then every row in one
/// transaction: one commit, not one per table.
async fn copy_tables(conn: &mut MySqlConnection, from: &str, tables: &[String]) -> Result<(), sqlx::Error> {
    for table in tables {
        let row = show_create(conn, format!("SHOW CREATE TABLE {}.{}", quote(from), quote(table))).await?;
        let create: String = row.try_get(1)?;
        exec(conn, create).await?;
    }
    // Generated columns are computed again, not inserted.
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR) FROM information_schema.columns \
         WHERE table_schema = ? AND extra NOT LIKE '%GENERATED%' ORDER BY table_name, ordinal_position",
    )
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let mut inserts = String::from("START TRANSACTION;\n");
    for table in tables {
        let list = columns
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        inserts.push_str(&format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {}.{};\n",
            quote(table),
            quote(from),
            quote(table)
        ));
    }
    inserts.push_str("COMMIT;");
    exec(conn, inserts).await
}

/// Views refer to each other: each round creates those whose tables and
/// views exist, until none is left or a round creates none (then the
/// server's message for the first one left is the error).
async fn copy_views(conn: &mut MySqlConnection, from: &str) -> Result<(), sqlx::Error> {
    let views = names(
        conn,
        "SELECT CAST(table_name AS CHAR) FROM information_schema.views WHERE table_schema = ? ORDER BY table_name",
        from,
    )
    .await?;
    let qualifier = format!("{}.", quote(from));
    let mut pending = Vec::new();
    for view in views {
        let row = show_create(conn, format!("SHOW CREATE VIEW {}.{}", quote(from), quote(&view))).await?;
        let create: String = row.try_get(1)?;
        pending.push(create.replace(&qualifier, ""));
    }
    while !pending.is_empty() {
        let before = pending.len();
        let mut left = Vec::new();
        let mut last_error = None;
        for create in pending {
            if let Err(err) = exec(conn, create.clone()).await {
                last_error = Some(err);
                left.push(create);
            }
        }
        if let Some(err) = last_error.filter(|_| left.len() == before) {
            return Err(err);
        }
        pending = left;
    }
    Ok(())
}

async fn copy_triggers(conn: &mut MySqlConnection, from: &str) -> Result<(), sqlx::Error> {
    let triggers = names(
        conn,
        "SELECT CAST(trigger_name AS CHAR) FROM information_schema.triggers \
         WHERE trigger_schema = ? ORDER BY event_object_table, action_order",
        from,
    )
    .await?;
    for trigger in triggers {
        let row = show_create(conn, format!("SHOW CREATE TRIGGER {}.{}", quote(from), quote(&trigger))).await?;
        let sql_mode: String = row.try_get(1)?;
        let create: String = row.try_get(2)?;
        with_sql_mode(conn, &sql_mode, create).await?;
    }
    Ok(())
}

async fn copy_routines(conn: &mut MySqlConnection, from: &str) -> Result<(), sqlx::Error> {
    let routines: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(routine_type AS CHAR), CAST(routine_name AS CHAR) FROM information_schema.routines \
         WHERE routine_schema = ? ORDER BY routine_type, routine_name",
    )
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    for (kind, routine) in routines {
        let row = show_create(conn, format!("SHOW CREATE {kind} {}.{}", quote(from), quote(&routine))).await?;
        let sql_mode: String = row.try_get(1)?;
        let create: String = row.try_get(2)?;
        with_sql_mode(conn, &sql_mode, create).await?;
    }
    Ok(())
}

/// A trigger or routine keeps the `sql_mode` it was created under.
async fn with_sql_mode(conn: &mut MySqlConnection, sql_mode: &str, create: String) -> Result<(), sqlx::Error> {
    sqlx::query("SET @embedded_migrations_mode = @@SESSION.sql_mode, SESSION sql_mode = ?")
        .bind(sql_mode)
        .execute(&mut *conn)
        .await?;
    let created = exec(conn, create).await;
    exec(conn, "SET SESSION sql_mode = @embedded_migrations_mode".into()).await?;
    created
}

/// A `SHOW CREATE …` sent as text: prepared, MariaDB 10.11 took 25-45 ms
/// to answer each (a copy of 232 migrations spent 30 of its 34 s in them),
/// as text under a millisecond.
async fn show_create(conn: &mut MySqlConnection, sql: String) -> Result<sqlx::mysql::MySqlRow, sqlx::Error> {
    compat::raw_sql(assert_sql_safe!(sql)).fetch_one(&mut *conn).await
}

async fn names(conn: &mut MySqlConnection, sql: &str, schema: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(assert_sql_safe!(sql.to_string()))
        .bind(schema)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(|row| row.try_get::<String, _>(0)).collect()
}

async fn exec(conn: &mut MySqlConnection, sql: String) -> Result<(), sqlx::Error> {
    compat::raw_sql(assert_sql_safe!(sql))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

impl Store for MySql<'_> {
    /// The connection that holds `GET_LOCK`.
    type Lock = MySqlConnection;

    async fn published(&self, name: &str) -> Result<bool, Error> {
        let operation = format!("looking for template {name}");
        let mut admin = self.connect(&operation).await?;
        let found = async {
            let exists =
                sqlx::query("SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")
                    .bind(name)
                    .bind(&self.state_table)
                    .fetch_optional(&mut admin)
                    .await?;
            if exists.is_none() {
                return Ok(false);
            }
            let rows = sqlx::query(assert_sql_safe!(format!(
                "SELECT 1 FROM {}.{} LIMIT 1",
                quote(name),
                quote(&self.state_table)
            )))
            .fetch_optional(&mut admin)
            .await?;
            Ok(rows.is_some())
        }
        .await
        .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        found
    }

    async fn lock(&self, template: &Template<'_>) -> Result<MySqlConnection, Error> {
        let name = template.name();
        let operation = format!("waiting for the build lock of template {name}");
        let mut conn = self.connect(&operation).await?;
        let timeout = template.migrator().settings().lock_timeout_value().as_secs().max(1);
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(&name)
            .bind(timeout as i64)
            .fetch_one(&mut conn)
            .await
            .map_err(sql_error(BACKEND, operation))?;
        if got != Some(1) {
            let _ = conn.close().await;
            return Err(Error::LockTimeout {
                backend: "MySQL template",
                waited: std::time::Duration::from_secs(timeout),
                holder: Some(format!("another process building template {name} (GET_LOCK)")),
            });
        }
        Ok(conn)
    }

    async fn unlock(&self, lock: MySqlConnection) -> Result<(), Error> {
        // Closing the session releases GET_LOCK.
        lock.close()
            .await
            .map_err(sql_error(BACKEND, "releasing the template build lock"))
    }

    async fn discard(&self, building: &str) -> Result<(), Error> {
        self.drop_database(building).await
    }

    async fn build(&self, building: &str, template: &Template<'_>) -> Result<(), Error> {
        let operation = format!("creating template {building}");
        let mut admin = self.connect(&operation).await?;
        let created = exec(&mut admin, format!("CREATE DATABASE {}", quote(building)))
            .await
            .map_err(sql_error(BACKEND, operation));
        let _ = admin.close().await;
        created?;
        let pool = MySqlPoolOptions::new()
            .max_connections(1)
            .connect_with(self.server.clone().database(building))
            .await
            .map_err(sql_error(BACKEND, format!("connecting to template {building}")))?;
        let run = template.migrator().run_to(&pool, template.version()).await;
        pool.close().await;
        run.map(|_| ())
    }

    async fn publish(&self, building: &str, name: &str) -> Result<(), Error> {
        // A copy killed half-way left a database without the state row.
        self.drop_database(name).await?;
        self.copy(building, name).await?;
        self.drop_database(building).await
    }

    async fn templates(&self) -> Result<Vec<String>, Error> {
        self.names(&[TEMPLATE_PREFIX]).await
    }

    async fn drop_template(&self, name: &str) -> Result<bool, Error> {
        self.drop_database(name).await.map(|()| true)
    }
}
