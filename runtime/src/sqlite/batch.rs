//! SQLite's batch, timed by the client: the state guard, each change's
//! statements as a script of its own, timed between the `sqlite3_exec`
//! calls, then the tracking writes with the durations measured, all with
//! the handle borrowed once, inside the write transaction.
//!
//! Timed by the client, a group needs no history insert per change and no
//! second pass to turn running totals into durations.

use super::exec::{c_text, exec, in_transaction};
use crate::backend::Change;
use crate::core::split::Dialect;
use crate::sql::script::{join_statements, statements};
use crate::sql::tracking::TrackingSql;
use std::time::Instant;

/// Where a statement of the batch ended the write transaction: the change
/// and the statement, indexed from 0.
pub(super) type EndedAt = std::sync::Mutex<Option<(usize, usize)>>;

/// The work of a timed batch of `changes`, for the write transaction. The
/// texts are made before the handle is borrowed.
///
/// Each statement goes in a call of its own, and after each SQLite says
/// whether the transaction is still open: a file's `COMMIT`, `END` or
/// `ROLLBACK`, however spelled, ends it, and then nothing more runs (the
/// rest of the file would run outside any transaction, and the tracking
/// writes with it). Where that happened is left in `ended`.
pub(super) fn timed_work<'a>(
    sql: &'a TrackingSql,
    changes: &'a [Change<'a>],
    ended: &'a EndedAt,
    creation: &[String],
) -> Result<impl FnOnce(*mut libsqlite3_sys::sqlite3) -> Result<(), sqlx::Error> + 'a, sqlx::Error> {
    // A database provisioned in one transaction: its tracking tables first.
    let create = match creation.is_empty() {
        true => None,
        false => Some(c_text(join_statements(creation.to_vec()))?),
    };
    let guard = changes
        .first()
        .map(|first| sql.guard_state(&first.state_before))
        .unwrap_or_default();
    let guard = c_text(guard)?;
    let scripts = changes
        .iter()
        .map(|change| statements(change, Dialect::Sqlite).map(c_text).collect())
        .collect::<Result<Vec<Vec<_>>, _>>()?;
    Ok(move |db| {
        let started = Instant::now();
        if let Some(create) = &create {
            exec(db, create)?;
        }
        exec(db, &guard)?;
        let mut ends = Vec::with_capacity(scripts.len());
        for (change, script) in scripts.iter().enumerate() {
            for (statement, text) in script.iter().enumerate() {
                exec(db, text)?;
                if !in_transaction(db) {
                    if let Ok(mut at) = ended.lock() {
                        *at = Some((change, statement));
                    }
                    return Err(sqlx::Error::Protocol("a migration ended its transaction".into()));
                }
            }
            ends.push(Instant::now());
        }
        let writes = sql.batch_writes(changes, &durations_ms(started, &ends, changes.len()));
        exec(db, &c_text(join_statements(writes))?)
    })
}

/// Each change's duration in milliseconds, from the instants its
/// statements were done (`ends`, one per change, from `started`). A
/// missing end (none is expected) counts as now.
fn durations_ms(started: Instant, ends: &[Instant], changes: usize) -> Vec<i64> {
    let mut previous = started;
    (0..changes)
        .map(|k| {
            let end = ends.get(k).copied().unwrap_or_else(Instant::now);
            let ms = end.saturating_duration_since(previous).as_millis() as i64;
            previous = end;
            ms
        })
        .collect()
}
