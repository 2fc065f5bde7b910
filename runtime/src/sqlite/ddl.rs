//! The schema as statements, for a squashed folder's baseline: the `CREATE`
//! text SQLite keeps in `sqlite_master`, exactly as it ran, tables first,
//! then indexes, views and triggers, each kind in creation order. Objects
//! SQLite makes itself (`sqlite_*`, the indexes of constraints) and the
//! tracking tables are left out.

use super::errors::NAME;
use crate::backend::{BoxFuture, SchemaDdl};
use crate::sql::tracking::TrackingSql;
use crate::{Error, Settings};
use sqlx::sqlite::SqlitePool;
use sqlx::Row;

const OBJECTS: &str = "SELECT type, tbl_name, sql FROM sqlite_master \
     WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid";

impl SchemaDdl for SqlitePool {
    fn schema_ddl<'a>(&'a self, settings: &'a Settings) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            settings.check()?;
            let err = |e: sqlx::Error| Error::database(NAME, "reading the schema (sqlite_master)", e);
            let tracking = TrackingSql::all_tables(settings);
            let mut ddl = String::new();
            for row in sqlx::query(OBJECTS).fetch_all(self).await.map_err(err)? {
                let table: String = row.try_get("tbl_name").map_err(err)?;
                if tracking.iter().any(|t| t.eq_ignore_ascii_case(&table)) {
                    continue;
                }
                let sql: String = row.try_get("sql").map_err(err)?;
                ddl.push_str(sql.trim_end().trim_end_matches(';'));
                ddl.push_str(";\n\n");
            }
            Ok(ddl)
        })
    }
}
