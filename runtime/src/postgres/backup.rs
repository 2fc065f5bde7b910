//! The backup before a `down`: `pg_dump` of the session's database, in
//! plain SQL (`psql -f` restores it), connecting with the pool's own
//! options. The password goes in the child's environment, never on its
//! command line, and `--no-password` makes a server that wants one it was
//! not given an error instead of a prompt that would hang.

use super::errors::{db_err, NAME};
use crate::backup::{percent_decoded, DumpCommand};
use crate::{Backup, Error};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;
use sqlx::PgConnection;

pub(super) async fn pg_dump(conn: &mut PgConnection, options: &PgConnectOptions, backup: &Backup) -> Result<(), Error> {
    // The database this connection is in, whatever the options left to
    // the server's defaults.
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("reading the database's name for the backup"))?;
    let host = match options.get_socket() {
        Some(folder) => folder.display().to_string(),
        None => options.get_host().to_string(),
    };
    let mut env = vec![("PGSSLMODE", ssl_mode(options.get_ssl_mode()).to_string())];
    if let Some(password) = options.to_url_lossy().password() {
        env.push(("PGPASSWORD", percent_decoded(password)));
    }
    let args = [
        "--format=plain".to_string(),
        "--no-password".to_string(),
        format!("--host={host}"),
        format!("--port={}", options.get_port()),
        format!("--username={}", options.get_username()),
        format!("--dbname={database}"),
    ];
    DumpCommand {
        backend: NAME,
        candidates: &["pg_dump"],
        install: "PostgreSQL's client tools (the `postgresql-client` package) of the server's major version or newer",
        name_it: "name the program with `Backup::tool` (`--backup-tool`)",
        args: args.into_iter().map(Into::into).collect(),
        env,
    }
    .run(backup)
    .await
}

fn ssl_mode(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}
