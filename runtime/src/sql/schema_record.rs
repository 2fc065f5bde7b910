//! The schema record of the sqlx backends: one row in `<table>_schema`, next
//! to the tracking tables (in `Settings::schema` when one is set). The boot
//! check never reads it.

use super::text::SqlText;
use super::tracking::TrackingSql;
use crate::core::split::Dialect;
use crate::Settings;

/// The statements that keep the record, for one dialect and table name.
pub(crate) struct RecordSql {
    pub create: String,
    pub delete: String,
    pub insert: String,
    pub select: String,
    /// One row, one column: whether the record table exists (bind its bare name).
    pub exists: String,
    pub bare_name: String,
}

impl RecordSql {
    /// `settings` must have passed `Settings::check`: names are identifiers.
    pub(crate) fn new(dialect: Dialect, settings: &Settings) -> RecordSql {
        let bare_name = format!("{}_schema", settings.table_name());
        let table = TrackingSql::sibling(dialect, settings, "schema");
        let (text, long_text) = match dialect {
            Dialect::MySql => ("VARCHAR(64)", "LONGTEXT"),
            _ => ("TEXT", "TEXT"),
        };
        let p = [1, 2, 3, 4].map(|i| dialect.param(i));
        let exists = match (dialect, settings.schema_name()) {
            (Dialect::Sqlite, _) => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?".to_string(),
            (Dialect::Postgres, Some(schema)) => {
                format!("SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = $1")
            }
            (Dialect::Postgres, None) => {
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1".to_string()
            }
            (_, Some(schema)) => format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = ?"
            ),
            (_, None) => {
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
                    .to_string()
            }
        };
        RecordSql {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, version BIGINT NOT NULL, \
                 hash {text} NOT NULL, snapshot {long_text} NOT NULL, recorded_at {text} NOT NULL)"
            ),
            delete: format!("DELETE FROM {table} WHERE id = 1"),
            insert: format!(
                "INSERT INTO {table} (id, version, hash, snapshot, recorded_at) VALUES (1, {}, {}, {}, {})",
                p[0], p[1], p[2], p[3]
            ),
            select: format!("SELECT version, hash, snapshot, recorded_at FROM {table} WHERE id = 1"),
            exists,
            bare_name,
        }
    }

    /// Creates the schema (PostgreSQL) or database (MySQL) the record's
    /// table is in, when the settings name one.
    pub(crate) fn create_schema(settings: &Settings, dialect: Dialect) -> Option<String> {
        let schema = settings.schema_name()?;
        (dialect != Dialect::Sqlite).then(|| format!("CREATE SCHEMA IF NOT EXISTS {}", dialect.quote(schema)))
    }
}

/// `impl Snapshot` for a sqlx pool: `$snapshot` reads the schema; the record
/// is the same statements through each driver's own types.
macro_rules! sqlx_snapshot_impl {
    ($pool:ty, $snapshot:path, $dialect:expr, $backend:expr) => {
        impl $crate::snapshot::Snapshot for $pool {
            fn snapshot<'a>(
                &'a self,
                settings: &'a $crate::Settings,
            ) -> $crate::snapshot::SnapshotFuture<'a, $crate::snapshot::SchemaSnapshot> {
                Box::pin($snapshot(self, settings))
            }

            fn save_schema_record<'a>(
                &'a self,
                settings: &'a $crate::Settings,
                record: &'a $crate::snapshot::SchemaRecord,
            ) -> $crate::snapshot::SnapshotFuture<'a, ()> {
                Box::pin(save_schema_record(self, settings, record))
            }

            fn load_schema_record<'a>(
                &'a self,
                settings: &'a $crate::Settings,
            ) -> $crate::snapshot::SnapshotFuture<'a, Option<$crate::snapshot::SchemaRecord>> {
                Box::pin(load_schema_record(self, settings))
            }
        }

        async fn save_schema_record(
            pool: &$pool,
            settings: &$crate::Settings,
            record: &$crate::snapshot::SchemaRecord,
        ) -> Result<(), $crate::Error> {
            use $crate::sql::compat::{self, assert_sql_safe};
            settings.check()?;
            let err = |operation: &'static str| move |e: sqlx::Error| $crate::Error::database($backend, operation, e);
            let sql = $crate::sql::schema_record::RecordSql::new($dialect, settings);
            if let Some(create) = $crate::sql::schema_record::RecordSql::create_schema(settings, $dialect) {
                compat::raw_sql(assert_sql_safe!(create))
                    .execute(pool)
                    .await
                    .map_err(err("creating the schema record's schema"))?;
            }
            compat::raw_sql(assert_sql_safe!(sql.create))
                .execute(pool)
                .await
                .map_err(err("creating the schema record table"))?;
            let mut tx = pool
                .begin()
                .await
                .map_err(err("beginning the schema record write"))?;
            sqlx::query(assert_sql_safe!(sql.delete))
                .execute(&mut *tx)
                .await
                .map_err(err("replacing the schema record"))?;
            sqlx::query(assert_sql_safe!(sql.insert))
                .bind(record.version)
                .bind(record.hash.to_hex())
                .bind(record.snapshot.text())
                .bind(record.recorded_at.clone())
                .execute(&mut *tx)
                .await
                .map_err(err("writing the schema record"))?;
            tx.commit().await.map_err(err("committing the schema record"))
        }

        async fn load_schema_record(
            pool: &$pool,
            settings: &$crate::Settings,
        ) -> Result<Option<$crate::snapshot::SchemaRecord>, $crate::Error> {
            use sqlx::Row;
            use $crate::sql::compat::assert_sql_safe;
            settings.check()?;
            let err = |operation: &'static str| move |e: sqlx::Error| $crate::Error::database($backend, operation, e);
            let sql = $crate::sql::schema_record::RecordSql::new($dialect, settings);
            let exists: i64 = sqlx::query_scalar(assert_sql_safe!(sql.exists))
                .bind(sql.bare_name.clone())
                .fetch_one(pool)
                .await
                .map_err(err("looking for the schema record table"))?;
            if exists == 0 {
                return Ok(None);
            }
            let row = sqlx::query(assert_sql_safe!(sql.select))
                .fetch_optional(pool)
                .await
                .map_err(err("reading the schema record"))?;
            let Some(row) = row else { return Ok(None) };
            let text = |name: &str| {
                row.try_get::<String, _>(name)
                    .map_err(err("reading the schema record"))
            };
            Ok(Some($crate::snapshot::SchemaRecord::from_stored(
                row.try_get::<i64, _>("version")
                    .map_err(err("reading the schema record"))?,
                &text("hash")?,
                &text("snapshot")?,
                text("recorded_at")?,
            )))
        }
    };
}
pub(crate) use sqlx_snapshot_impl;
