//! MySQL/MariaDB: the connection's database (where the migrations run).
//! Each table's `SHOW CREATE TABLE`, split into one object per line (the
//! table with its column order and options, each column, each index, each
//! constraint) and without its `AUTO_INCREMENT=` counter; views' queries,
//! routines and triggers from `information_schema`, with the database's own
//! name taken out of qualified names and without `DEFINER`s. Not covered:
//! events, privileges, partitions' data placement.

use super::errors::NAME;
use crate::core::split::Dialect;
use crate::snapshot::SchemaSnapshot;
use crate::sql::compat::assert_sql_safe;
use crate::sql::schema_record::sqlx_snapshot_impl;
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings};
use sqlx::mysql::{MySqlPool, MySqlRow};
use sqlx::Row;

// information_schema columns are cast to CHAR: some servers give them a
// binary collation, which would not read as text.
const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(TABLE_TYPE AS CHAR) AS type, DATABASE() AS db \
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
const VIEWS: &str = "SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(VIEW_DEFINITION AS CHAR) AS def, \
     CAST(CHECK_OPTION AS CHAR) AS check_option FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()";
const ROUTINES: &str = "SELECT CAST(ROUTINE_TYPE AS CHAR) AS kind, CAST(ROUTINE_NAME AS CHAR) AS name, \
     CAST(CONCAT('(', COALESCE((SELECT GROUP_CONCAT(CONCAT_WS(' ', p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) \
       ORDER BY p.ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.PARAMETERS p \
       WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME AND p.ORDINAL_POSITION > 0), ''), ')', \
       COALESCE(CONCAT(' RETURNS ', r.DTD_IDENTIFIER), ''), ' ', r.IS_DETERMINISTIC, ' ', r.SQL_DATA_ACCESS, ' ', \
       r.ROUTINE_DEFINITION) AS CHAR) AS def \
     FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = DATABASE()";
const TRIGGERS: &str =
    "SELECT CAST(TRIGGER_NAME AS CHAR) AS name, CAST(CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, \
     ' ON ', EVENT_OBJECT_TABLE, ' FOR EACH ', ACTION_ORIENTATION, ' ', ACTION_STATEMENT) AS CHAR) AS def, \
     CAST(EVENT_OBJECT_TABLE AS CHAR) AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()";

fn text(row: &MySqlRow, column: &str) -> Result<String, sqlx::Error> {
    match row.try_get::<Option<String>, _>(column) {
        Ok(value) => Ok(value.unwrap_or_default()),
        Err(_) => Ok(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(column)?).into_owned()),
    }
}

sqlx_snapshot_impl!(MySqlPool, snapshot, Dialect::MySql, NAME);

/// The schema of the pool's database.
async fn snapshot(pool: &MySqlPool, settings: &Settings) -> Result<SchemaSnapshot, Error> {
    settings.check()?;
    let err = |e: sqlx::Error| Error::database(NAME, "reading the schema (information_schema, SHOW CREATE TABLE)", e);
    let tracking = TrackingSql::all_tables(settings);
    let is_tracking = |table: &str| tracking.iter().any(|t| t.eq_ignore_ascii_case(table));
    let mut conn = pool.acquire().await.map_err(err)?;
    let mut snapshot = SchemaSnapshot::new();
    let tables = sqlx::query(TABLES).fetch_all(&mut *conn).await.map_err(err)?;
    let database = match tables.first() {
        Some(row) => text(row, "db").map_err(err)?,
        None => String::new(),
    };
    let unqualify = |definition: &str| definition.replace(&format!("`{database}`."), "");
    for row in &tables {
        let name = text(row, "name").map_err(err)?;
        if is_tracking(&name) || text(row, "type").map_err(err)? != "BASE TABLE" {
            continue;
        }
        let create = sqlx::query(assert_sql_safe!(format!(
            "SHOW CREATE TABLE `{}`",
            name.replace('`', "``")
        )))
        .fetch_one(&mut *conn)
        .await
        .map_err(err)?;
        let create = match create.try_get::<String, _>(1) {
            Ok(create) => create,
            Err(_) => String::from_utf8_lossy(&create.try_get::<Vec<u8>, _>(1).map_err(err)?).into_owned(),
        };
        split_create_table(&mut snapshot, &name, &create);
    }
    for row in sqlx::query(VIEWS).fetch_all(&mut *conn).await.map_err(err)? {
        let definition = format!(
            "{} CHECK OPTION {}",
            unqualify(&text(&row, "def").map_err(err)?),
            text(&row, "check_option").map_err(err)?
        );
        snapshot.insert("view", &text(&row, "name").map_err(err)?, &definition);
    }
    for row in sqlx::query(ROUTINES).fetch_all(&mut *conn).await.map_err(err)? {
        let kind = text(&row, "kind").map_err(err)?.to_lowercase();
        snapshot.insert(
            &kind,
            &text(&row, "name").map_err(err)?,
            &unqualify(&text(&row, "def").map_err(err)?),
        );
    }
    for row in sqlx::query(TRIGGERS).fetch_all(&mut *conn).await.map_err(err)? {
        let table = text(&row, "tbl").map_err(err)?;
        if is_tracking(&table) {
            continue;
        }
        let name = format!("{table}.{}", text(&row, "name").map_err(err)?);
        snapshot.insert("trigger", &name, &unqualify(&text(&row, "def").map_err(err)?));
    }
    Ok(snapshot)
}

/// One object per line of `SHOW CREATE TABLE`: a diff then names the column,
/// index or constraint, and the table keeps its column order and options.
fn split_create_table(snapshot: &mut SchemaSnapshot, table: &str, create: &str) {
    let mut columns = Vec::new();
    let mut options = String::new();
    for line in create.lines().skip(1) {
        let line = line.trim().trim_end_matches(',');
        if let Some(rest) = line.strip_prefix(')') {
            options = without_auto_increment(rest.trim());
        } else if line.starts_with('`') {
            let (name, rest) = quoted_name(line);
            snapshot.insert("column", &format!("{table}.{name}"), rest.trim());
            columns.push(name);
        } else if line.starts_with("PRIMARY KEY") {
            snapshot.insert("index", &format!("{table}.PRIMARY"), line);
        } else if let Some(rest) = line.strip_prefix("CONSTRAINT ") {
            snapshot.insert("constraint", &format!("{table}.{}", quoted_name(rest).0), line);
        } else if let Some(at) = line.find("KEY `") {
            snapshot.insert("index", &format!("{table}.{}", quoted_name(&line[at + 4..]).0), line);
        } else if !line.is_empty() {
            snapshot.insert("table part", &format!("{table}.{line}"), line);
        }
    }
    snapshot.insert("table", table, &format!("columns({}) {options}", columns.join(", ")));
}

/// `x` of a line starting with `` `x` `` (doubled backticks unescaped), and
/// the rest of the line after it.
fn quoted_name(line: &str) -> (String, &str) {
    let mut name = String::new();
    let mut chars = line.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        if c == '`' {
            if chars.peek().is_some_and(|(_, next)| *next == '`') {
                chars.next();
            } else {
                return (name, &line[at + 1..]);
            }
        }
        name.push(c);
    }
    (name, "")
}

fn without_auto_increment(options: &str) -> String {
    options
        .split_whitespace()
        .filter(|word| !word.starts_with("AUTO_INCREMENT="))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_create_table_splits_into_objects_without_counters() {
        let create = "CREATE TABLE `users` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `e``mail` varchar(255) NOT NULL,\n  \
                      PRIMARY KEY (`id`),\n  UNIQUE KEY `users_email` (`e``mail`),\n  \
                      CONSTRAINT `users_email_at` CHECK (`e``mail` like '%@%')\n) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4";
        let mut snapshot = SchemaSnapshot::new();
        split_create_table(&mut snapshot, "users", create);
        assert_eq!(
            snapshot.text(),
            "column users.e`mail: varchar(255) NOT NULL\n\
             column users.id: bigint(20) NOT NULL AUTO_INCREMENT\n\
             constraint users.users_email_at: CONSTRAINT `users_email_at` CHECK (`e``mail` like '%@%')\n\
             index users.PRIMARY: PRIMARY KEY (`id`)\n\
             index users.users_email: UNIQUE KEY `users_email` (`e``mail`)\n\
             table users: columns(id, e`mail) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4\n"
        );
    }
}
