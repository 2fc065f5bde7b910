//! `Settings::schema` on PostgreSQL: the tracking schema first on the
//! search path while a migration runs, so unqualified names in its files
//! land there; the rest of the connection's search path stays behind it, so
//! extensions installed in `public` are still found.

use super::errors::db_err;
use crate::sql::tracking::TrackingSql;
use crate::Error;
use sqlx::postgres::PgConnection;

/// Puts the tracking schema first on the search path, for the transaction
/// (`local`) or for the session.
pub(super) async fn enter_schema(conn: &mut PgConnection, sql: &TrackingSql, local: bool) -> Result<(), Error> {
    let Some(schema) = &sql.schema else { return Ok(()) };
    sqlx::query(
        "SELECT set_config('search_path', CASE WHEN current_setting('search_path') = '' THEN $1 \
         ELSE $1 || ', ' || current_setting('search_path') END, $2)",
    )
    .bind(schema)
    .bind(local)
    .execute(&mut *conn)
    .await
    .map_err(db_err("setting the search path"))?;
    Ok(())
}

/// The session's search path now.
pub(super) async fn current(conn: &mut PgConnection) -> Result<String, Error> {
    sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("reading the search path"))
}

/// The session's search path set back to `previous`; false when that
/// failed (the connection must then be closed, not pooled).
pub(super) async fn restore(conn: &mut PgConnection, previous: String) -> bool {
    let restored = sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(previous)
        .execute(&mut *conn)
        .await;
    match restored {
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(error = %err, "could not restore the search path; the connection will be closed");
            false
        }
    }
}
