//! Shared reads (PostgreSQL, MySQL): the tracking records of many tenants on
//! one server in one query, a `UNION ALL` over their tables, for the boot
//! check, `check` and `status` of a tenant set (backend.rs: `SharedReads`).
//!
//! The union names every tenant's tables, and a tenant whose tables do not
//! exist yet fails the whole query; only then is the catalog asked which
//! exist, and the union sent again over those. A boot with every tenant
//! provisioned is one round trip per chunk of tenants.

use super::io::{applied_from_row, state_at};
use super::session::{driver_error, Connection, SqlBackend};
use super::text::SqlText;
use super::tracking::TrackingSql;
use crate::backend::{State, TenantRecords};
use crate::core::split::Dialect;
use crate::sql::compat::{self, assert_sql_safe};
use crate::{Error, Settings};
use sqlx::{ColumnIndex, Decode, Row, Type};

/// Tenants per query. PostgreSQL's cost per table in one statement grows
/// with the statement's size: measured with psql on 1,000 state tables
/// (BENCHMARKS.md), a union of 500 took 180-280 ms to plan and run, of 100
/// 8-17 ms, and chunks of 25 to 200 the same 110-140 ms per 1,000. Each
/// chunk's text is the same from one read to the next, so a connection's
/// statement cache keeps its plan.
const CHUNK: usize = 100;

/// The tenant's index as a BIGINT column, decoded as `i64` in both dialects.
fn index_column(dialect: Dialect, index: usize) -> String {
    match dialect {
        Dialect::MySql => format!("CAST({index} AS SIGNED)"),
        _ => format!("CAST({index} AS BIGINT)"),
    }
}

/// `SELECT index, applied_count, last_version, chain, dirty` of each
/// tenant's state row.
fn states_query(dialect: Dialect, tenants: &[(usize, &Settings)]) -> String {
    union(tenants.iter().map(|(index, settings)| {
        let sql = TrackingSql::new(dialect, settings);
        format!(
            "SELECT {}, applied_count, last_version, chain, dirty FROM {} WHERE id = 1",
            index_column(dialect, *index),
            sql.state
        )
    }))
}

/// Each tenant's tracking rows, each beside its state row (one row of
/// NULLs and the state when it has no tracking row): the columns of
/// `select_applied`, then the index, then the state's.
fn records_query(dialect: Dialect, tenants: &[(usize, &Settings)]) -> String {
    union(tenants.iter().map(|(index, settings)| {
        let sql = TrackingSql::new(dialect, settings);
        format!(
            "SELECT r.version, r.name, r.checksum, r.applied_at, r.execution_ms, r.dirty, r.dirty_direction, \
             r.committed_statements, {}, s.applied_count, s.last_version, s.chain, s.dirty \
             FROM {} s LEFT JOIN {} r ON 1 = 1 WHERE s.id = 1",
            index_column(dialect, *index),
            sql.state,
            sql.table
        )
    }))
}

fn union(selects: impl Iterator<Item = String>) -> String {
    selects.collect::<Vec<_>>().join(" UNION ALL ")
}

/// Of `tenants`, those whose state table exists, from the catalog in one
/// query, each with whether its tracking table (`<table>`) exists too.
async fn existing<'s, B: SqlBackend>(
    conn: &mut Connection<B>,
    tenants: &[(usize, &'s Settings)],
) -> Result<Vec<(usize, &'s Settings, bool)>, Error>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    for<'q> compat::Arguments<'q, B::DB>: compat::IntoArguments<'q, B::DB>,
    usize: ColumnIndex<<B::DB as sqlx::Database>::Row>,
    for<'t> String: Decode<'t, B::DB> + Type<B::DB>,
{
    let dialect = B::DIALECT;
    let wanted: Vec<String> = tenants
        .iter()
        .flat_map(|(_, settings)| {
            let schema = dialect.literal(settings.schema_name().unwrap_or_default());
            let state = format!("{}_state", settings.table_name());
            [
                format!("({schema}, {})", dialect.literal(&state)),
                format!("({schema}, {})", dialect.literal(settings.table_name())),
            ]
        })
        .collect();
    let text_type = if dialect == Dialect::MySql { "CHAR" } else { "TEXT" };
    let query = format!(
        "SELECT CAST(table_schema AS {text_type}), CAST(table_name AS {text_type}) FROM information_schema.tables \
         WHERE (table_schema, table_name) IN ({})",
        wanted.join(", ")
    );
    let rows = sqlx::query(assert_sql_safe!(query))
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error(
            B::NAME,
            B::message,
            "looking for the tenants' state tables",
        ))?;
    let found: std::collections::HashSet<(String, String)> = rows
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(driver_error(
            B::NAME,
            B::message,
            "looking for the tenants' state tables",
        ))?;
    Ok(tenants
        .iter()
        .filter_map(|&(index, settings)| {
            let schema = settings.schema_name().unwrap_or_default().to_string();
            let state = found.contains(&(schema.clone(), format!("{}_state", settings.table_name())));
            let table = found.contains(&(schema, settings.table_name().to_string()));
            state.then_some((index, settings, table))
        })
        .collect())
}

/// Runs the union `build` makes of `tenants`, and when a tenant's tables
/// are missing, the union of those whose tables all exist; each row handed
/// to `read`. Returns the tenants left out whose state table exists without
/// its tracking table: a damaged tenant, for the per-tenant path to name.
async fn read_union<B: SqlBackend>(
    conn: &mut Connection<B>,
    tenants: &[(usize, &Settings)],
    build: fn(Dialect, &[(usize, &Settings)]) -> String,
    mut read: impl FnMut(&<B::DB as sqlx::Database>::Row) -> Result<(), sqlx::Error>,
) -> Result<Vec<usize>, Error>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    for<'q> compat::Arguments<'q, B::DB>: compat::IntoArguments<'q, B::DB>,
    usize: ColumnIndex<<B::DB as sqlx::Database>::Row>,
    for<'t> String: Decode<'t, B::DB> + Type<B::DB>,
{
    let operation = "reading the tenants' tracking tables together";
    let mut damaged = Vec::new();
    let rows = match sqlx::query(assert_sql_safe!(build(B::DIALECT, tenants)))
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows,
        Err(err) if B::no_such_table(&err) => {
            let mut present = Vec::new();
            for (index, settings, whole) in existing::<B>(conn, tenants).await? {
                match whole {
                    true => present.push((index, settings)),
                    false => damaged.push(index),
                }
            }
            if present.is_empty() {
                return Ok(damaged);
            }
            sqlx::query(assert_sql_safe!(build(B::DIALECT, &present)))
                .fetch_all(&mut *conn)
                .await
                .map_err(driver_error(B::NAME, B::message, operation))?
        }
        Err(err) => return Err(driver_error(B::NAME, B::message, operation)(err)),
    };
    for row in &rows {
        read(row).map_err(driver_error(B::NAME, B::message, operation))?;
    }
    Ok(damaged)
}

/// The tenants with their index in `tenants`, after `Settings::check`
/// (their names go into the query's text).
fn checked(tenants: &[Settings]) -> Result<Vec<(usize, &Settings)>, Error> {
    tenants
        .iter()
        .enumerate()
        .map(|(index, settings)| settings.check().map(|()| (index, settings)))
        .collect()
}

/// Each tenant's state row, `None` where its tables do not exist.
pub(crate) async fn read_states<B: SqlBackend>(
    pool: &sqlx::Pool<B::DB>,
    tenants: &[Settings],
) -> Result<Vec<Option<State>>, Error>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    for<'q> compat::Arguments<'q, B::DB>: compat::IntoArguments<'q, B::DB>,
    usize: ColumnIndex<<B::DB as sqlx::Database>::Row>,
    for<'t> i64: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> String: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> bool: Decode<'t, B::DB> + Type<B::DB>,
{
    let indexed = checked(tenants)?;
    let mut conn = pool
        .acquire()
        .await
        .map_err(driver_error(B::NAME, B::message, "connecting"))?;
    let mut states = vec![None; tenants.len()];
    for chunk in indexed.chunks(CHUNK) {
        // A tenant with a state table but no tracking table is no more up to
        // date than one without: the per-tenant path looks at both.
        read_union::<B>(&mut conn, chunk, states_query, |row| {
            let index = usize::try_from(row.try_get::<i64, _>(0)?).unwrap_or(usize::MAX);
            if let Some(slot) = states.get_mut(index) {
                *slot = state_at(row, 1).ok();
            }
            Ok(())
        })
        .await?;
    }
    Ok(states)
}

/// Each tenant's state row and tracking rows (`Some(None)` where its
/// tables do not exist); `None` for a tenant whose records could not be
/// judged here (a row that does not decode, a tracking table missing
/// beside its state table), which the per-tenant read names.
pub(crate) async fn read_records<B: SqlBackend>(
    pool: &sqlx::Pool<B::DB>,
    tenants: &[Settings],
) -> Result<Vec<Option<TenantRecords>>, Error>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
    for<'q> compat::Arguments<'q, B::DB>: compat::IntoArguments<'q, B::DB>,
    usize: ColumnIndex<<B::DB as sqlx::Database>::Row>,
    for<'t> i64: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> String: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> bool: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> Option<String>: Decode<'t, B::DB> + Type<B::DB>,
    for<'t> Option<i64>: Decode<'t, B::DB> + Type<B::DB>,
{
    let indexed = checked(tenants)?;
    let mut conn = pool
        .acquire()
        .await
        .map_err(driver_error(B::NAME, B::message, "connecting"))?;
    let mut records: Vec<Option<TenantRecords>> = vec![Some(None); tenants.len()];
    let mut unread = vec![false; tenants.len()];
    for chunk in indexed.chunks(CHUNK) {
        let damaged = read_union::<B>(&mut conn, chunk, records_query, |row| {
            let index = usize::try_from(row.try_get::<i64, _>(8)?).unwrap_or(usize::MAX);
            let Some(slot) = records.get_mut(index) else {
                return Ok(());
            };
            let decoded = (|| {
                let version: Option<i64> = row.try_get(0)?;
                let applied = version.map(|_| applied_from_row(row, true)).transpose()?;
                Ok::<_, sqlx::Error>((state_at(row, 9)?, applied))
            })();
            match (decoded, slot) {
                (Ok((state, applied)), Some(tenant)) => {
                    let (recorded, rows) = tenant.get_or_insert_with(|| (state, Vec::new()));
                    *recorded = state;
                    rows.extend(applied);
                }
                // One tenant's row that does not decode (a corrupt
                // checksum): that tenant is read alone, the others stand.
                (Err(_), _) => unread[index] = true,
                (Ok(_), None) => {}
            }
            Ok(())
        })
        .await?;
        for index in damaged {
            unread[index] = true;
        }
    }
    for (record, unread) in records.iter_mut().zip(unread) {
        if unread {
            *record = None;
        }
    }
    Ok(records)
}
