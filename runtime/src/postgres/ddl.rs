//! The schema as statements, for a squashed folder's baseline: `pg_dump
//! --schema-only` of the pool's database, which knows every kind of object
//! the catalog holds (a snapshot's normalised text is for comparing, not
//! for running), without owners, privileges and the tracking tables; and
//! without what only sets pg_dump's own session (`SET`, `set_config`) or
//! is psql's (`\restrict` lines), which would outlive the baseline's
//! transaction on the migration's connection.

use super::errors::NAME;
use crate::backend::{BoxFuture, SchemaDdl};
use crate::backup::{percent_decoded, DumpCommand};
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings};
use sqlx::postgres::PgPool;
use sqlx::ConnectOptions;

impl SchemaDdl for PgPool {
    fn schema_ddl<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            settings.check()?;
            let database: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(self)
                .await
                .map_err(|e| Error::database(NAME, "reading the database's name", e))?;
            let options = self.connect_options();
            let host = match options.get_socket() {
                Some(folder) => folder.display().to_string(),
                None => options.get_host().to_string(),
            };
            let mut env = Vec::new();
            if let Some(password) = options.to_url_lossy().password() {
                env.push(("PGPASSWORD", percent_decoded(password)));
            }
            let mut args = vec![
                "--schema-only".to_string(),
                "--no-owner".to_string(),
                "--no-privileges".to_string(),
                "--no-password".to_string(),
                format!("--host={host}"),
                format!("--port={}", options.get_port()),
                format!("--username={}", options.get_username()),
                format!("--dbname={database}"),
            ];
            // The history table's id sequence is a relation of its own.
            for table in TrackingSql::all_tables(settings) {
                args.push(format!("--exclude-table=*.{table}"));
                args.push(format!("--exclude-table=*.{table}_id_seq"));
            }
            let dump = DumpCommand {
                backend: NAME,
                candidates: &["pg_dump"],
                install: "PostgreSQL's client tools (the `postgresql-client` package) of the server's major version or newer",
                name_it: "put it on PATH",
                args: args.into_iter().map(Into::into).collect(),
                env,
            }
            .capture(None)
            .await
            .map_err(|message| Error::database(NAME, "dumping the schema (pg_dump --schema-only)", message))?;
            Ok(runnable(&dump))
        })
    }
}

/// pg_dump's output without its session settings, psql commands and
/// comment lines, blank lines collapsed.
fn runnable(dump: &str) -> String {
    let mut out = String::new();
    let mut blank = true;
    for line in dump.lines() {
        let session_only = line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config(")
            || line.starts_with('\\')
            || line.starts_with("--");
        if session_only {
            continue;
        }
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_settings_and_psql_commands_are_left_out() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\\restrict abc\nSET statement_timeout = 0;\n\
                    SELECT pg_catalog.set_config('search_path', '', false);\n\n\nCREATE TABLE public.a (\n    id bigint\n);\n\n\n\\unrestrict abc\n";
        assert_eq!(super::runnable(dump), "CREATE TABLE public.a (\n    id bigint\n);\n\n");
    }
}
