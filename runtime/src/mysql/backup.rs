//! The backup before a `down`: `mariadb-dump` (else `mysqldump`) of the
//! connection's database, and of the tracking tables' own database when
//! `Settings::schema` names another, with routines and triggers (not
//! events, which need the EVENT privilege), in one consistent snapshot of
//! its InnoDB tables. The password goes in
//! the child's environment (`MYSQL_PWD`), never on its command line.

use super::errors::{db_err, NAME};
use crate::backup::{percent_decoded, DumpCommand};
use crate::{Backup, Error};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::ConnectOptions;

pub(super) async fn dump(
    conn: &mut MySqlConnection,
    options: &MySqlConnectOptions,
    tracking_schema: Option<&str>,
    backup: &Backup,
) -> Result<(), Error> {
    let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("reading the database's name for the backup"))?;
    let Some(database) = database else {
        return Err(backup.failed(NAME, "the connection has no default database to back up"));
    };
    let mut args = vec![
        "--single-transaction".to_string(),
        "--routines".to_string(),
        "--triggers".to_string(),
        format!("--user={}", options.get_username()),
    ];
    match options.get_socket() {
        Some(socket) => args.push(format!("--socket={}", socket.display())),
        None => {
            args.push("--protocol=TCP".to_string());
            args.push(format!("--host={}", options.get_host()));
            args.push(format!("--port={}", options.get_port()));
        }
    }
    args.push("--databases".to_string());
    args.push(database.clone());
    if let Some(schema) = tracking_schema.filter(|schema| *schema != database) {
        args.push(schema.to_string());
    }
    let mut env = Vec::new();
    if let Some(password) = options.to_url_lossy().password() {
        env.push(("MYSQL_PWD", percent_decoded(password)));
    }
    DumpCommand {
        backend: NAME,
        candidates: &["mariadb-dump", "mysqldump"],
        install: "the MariaDB or MySQL client (the `mariadb-client` or `mysql-client` package)",
        name_it: "name the program with `Backup::tool` (`--backup-tool`)",
        args: args.into_iter().map(Into::into).collect(),
        env,
    }
    .run(backup)
    .await
}
