//! The tracking statements of sql/tracking.rs with their values written in
//! as literals (a plain driver binds nothing: it sends text), and the rows
//! they read back, decoded from text.

use super::io::Row;
use crate::backend::{Change, State};
use crate::core::split::Dialect;
use crate::error::CorruptChecksum;
use crate::records::{AppliedMigration, DirtyRun, HistoryEntry};
use crate::sql::text::SqlText;
use crate::sql::tracking::TrackingSql;
use crate::{Direction, Error};

/// A value for a placeholder of a tracking statement.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    Int(i64),
    Text(&'a str),
    Optional(Option<&'a str>),
    Flag(bool),
    /// SQL as it is: a number measured, or an expression the server evaluates.
    Sql(&'a str),
}

impl Value<'_> {
    fn sql(self, dialect: Dialect) -> String {
        match self {
            Value::Int(value) => value.to_string(),
            Value::Text(text) => dialect.literal(text),
            Value::Optional(Some(text)) => dialect.literal(text),
            Value::Optional(None) => "NULL".to_string(),
            Value::Flag(flag) => dialect.flag(flag).to_string(),
            Value::Sql(sql) => sql.to_string(),
        }
    }
}

/// `statement` (written with the dialect's placeholders, `?` or `$n`) with
/// `values` in their places, as literals. The tracking statements hold no
/// `?` nor `$` of their own: their names passed `Settings::check`.
pub(crate) fn bound(dialect: Dialect, statement: &str, values: &[Value<'_>]) -> String {
    match dialect {
        Dialect::Postgres => {
            let mut out = statement.to_string();
            // From the highest, so that `$1` does not eat the head of `$10`.
            for (index, value) in values.iter().enumerate().rev() {
                out = out.replace(&format!("${}", index + 1), &value.sql(dialect));
            }
            out
        }
        _ => {
            let mut out = String::with_capacity(statement.len() + 64);
            let mut values = values.iter();
            for part in statement.split_inclusive('?') {
                match part.strip_suffix('?') {
                    Some(head) => {
                        out.push_str(head);
                        match values.next() {
                            Some(value) => out.push_str(&value.sql(dialect)),
                            None => out.push('?'),
                        }
                    }
                    None => out.push_str(part),
                }
            }
            out
        }
    }
}

/// The tracking statements of one session, bound.
pub(crate) struct Statements<'s> {
    pub sql: &'s TrackingSql,
}

impl Statements<'_> {
    fn dialect(&self) -> Dialect {
        self.sql.dialect
    }

    pub(crate) fn write_state(&self, state: &State) -> String {
        let chain = state.chain.to_hex();
        bound(
            self.dialect(),
            &self.sql.write_state(),
            &[
                Value::Int(state.applied_count),
                Value::Int(state.last_version),
                Value::Text(&chain),
                Value::Flag(state.dirty),
            ],
        )
    }

    pub(crate) fn insert_record(&self, row: &AppliedMigration, execution_ms: &str, dirty: bool) -> String {
        let checksum = row.checksum.to_hex();
        bound(
            self.dialect(),
            &self.sql.insert_record(),
            &[
                Value::Int(row.version),
                Value::Text(&row.name),
                Value::Text(&checksum),
                Value::Text(&row.applied_at),
                Value::Sql(execution_ms),
                Value::Flag(dirty),
            ],
        )
    }

    pub(crate) fn delete_record(&self, version: i64) -> String {
        bound(self.dialect(), &self.sql.delete_record(), &[Value::Int(version)])
    }

    pub(crate) fn set_dirty(&self, direction: Option<Direction>, version: i64) -> String {
        bound(self.dialect(), &self.sql.set_dirty(direction), &[Value::Int(version)])
    }

    pub(crate) fn count_committed(&self, version: i64, committed: i64) -> String {
        bound(
            self.dialect(),
            &self.sql.count_committed(),
            &[Value::Int(committed), Value::Int(version)],
        )
    }

    pub(crate) fn finish_record(&self, version: i64, execution_ms: i64) -> String {
        bound(
            self.dialect(),
            &self.sql.finish_record(),
            &[Value::Int(execution_ms), Value::Int(version)],
        )
    }

    pub(crate) fn insert_history(&self, entry: &HistoryEntry, duration_ms: &str) -> String {
        bound(
            self.dialect(),
            &self.sql.insert_history(),
            &[
                Value::Int(entry.version),
                Value::Text(&entry.name),
                Value::Text(entry.direction.as_str()),
                Value::Text(&entry.started_at),
                Value::Sql(duration_ms),
                Value::Flag(entry.success),
                Value::Optional(entry.error.as_deref()),
                Value::Optional(entry.reason.as_deref()),
                Value::Optional(entry.placeholders.as_deref()),
            ],
        )
    }

    /// Fails unless the state row is `expected` (see `refuse_unless`).
    pub(crate) fn guard_state(&self, expected: &State) -> String {
        self.sql.refuse_unless(&format!(
            "EXISTS (SELECT 1 FROM {} WHERE {})",
            self.sql.state,
            self.sql.state_is(expected)
        ))
    }

    /// The tracking writes of a change whose statements ran in the
    /// transaction: its row (inserted clean, or deleted for down), the
    /// state unless a group writes it once at its end, the history row.
    pub(crate) fn record_change(&self, change: &Change<'_>, execution_ms: &str, write_state: bool) -> Vec<String> {
        let mut out = Vec::with_capacity(3);
        match &change.record {
            Some(row) => out.push(self.insert_record(row, execution_ms, false)),
            None => out.push(self.delete_record(change.migration.version)),
        }
        if write_state {
            out.push(self.write_state(&change.state_after));
        }
        out.push(self.insert_history(&change.history, execution_ms));
        out
    }

    /// The dirty protocol's mark: the row inserted dirty (up) or flagged
    /// (down) with its direction, the state dirty.
    pub(crate) fn mark_dirty(&self, change: &Change<'_>) -> Vec<String> {
        let mut out = Vec::with_capacity(3);
        if let Some(row) = &change.record {
            out.push(self.insert_record(row, "0", true));
        }
        out.push(self.set_dirty(Some(change.direction), change.migration.version));
        let mut dirty = change.state_before;
        dirty.dirty = true;
        out.push(self.write_state(&dirty));
        out
    }

    /// Takes a dirty mark back: nothing of the run committed.
    pub(crate) fn unmark_dirty(&self, change: &Change<'_>) -> Vec<String> {
        let version = change.migration.version;
        let undo = match change.direction {
            Direction::Up => self.delete_record(version),
            Direction::Down => self.set_dirty(None, version),
        };
        vec![undo, self.write_state(&change.state_before)]
    }

    /// The dirty protocol's end: the row clean (up) or gone (down), the
    /// new state, the history row.
    pub(crate) fn finish_dirty(&self, change: &Change<'_>, execution_ms: i64) -> Vec<String> {
        let version = change.migration.version;
        let row = match change.direction {
            Direction::Up => self.finish_record(version, execution_ms),
            Direction::Down => self.delete_record(version),
        };
        vec![
            row,
            self.write_state(&change.state_after),
            self.insert_history(&change.history, &execution_ms.to_string()),
        ]
    }
}

/// A value of a row that did not decode, as ours.
fn undecodable(backend: &'static str, what: &str, value: Option<&str>) -> Error {
    Error::database(
        backend,
        format!("reading the tracking tables ({what})"),
        format!("unexpected value {value:?}"),
    )
}

fn text(row: &Row, index: usize) -> Option<&str> {
    row.get(index).and_then(|value| value.as_deref())
}

fn int(backend: &'static str, row: &Row, index: usize, what: &str) -> Result<i64, Error> {
    let value = text(row, index);
    value
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| undecodable(backend, what, value))
}

fn flag(backend: &'static str, row: &Row, index: usize, what: &str) -> Result<bool, Error> {
    match text(row, index) {
        Some("1" | "t" | "true" | "TRUE") => Ok(true),
        Some("0" | "f" | "false" | "FALSE") => Ok(false),
        other => Err(undecodable(backend, what, other)),
    }
}

fn direction(text: &str) -> Direction {
    if text == "down" {
        Direction::Down
    } else {
        Direction::Up
    }
}

/// A row of `select_state`.
pub(crate) fn state(backend: &'static str, row: &Row) -> Result<State, Error> {
    let chain = text(row, 2).unwrap_or_default();
    Ok(State {
        applied_count: int(backend, row, 0, "applied_count")?,
        last_version: int(backend, row, 1, "last_version")?,
        chain: CorruptChecksum::parse(None, chain).map_err(|err| err.into_error(backend))?,
        dirty: flag(backend, row, 3, "dirty")?,
    })
}

/// A row of `select_applied` (`with_run`) or of `select_applied_legacy`.
pub(crate) fn applied(backend: &'static str, row: &Row, with_run: bool) -> Result<AppliedMigration, Error> {
    let version = int(backend, row, 0, "version")?;
    let checksum = CorruptChecksum::parse(Some(version), text(row, 2).unwrap_or_default())
        .map_err(|err| err.into_error(backend))?;
    let dirty = flag(backend, row, 5, "dirty")?;
    let dirty_run = match with_run && dirty {
        false => None,
        true => text(row, 6).map(|run| DirtyRun {
            direction: direction(run),
            committed: text(row, 7)
                .and_then(|count| count.parse::<i64>().ok())
                .map(|count| count.max(0) as u64),
        }),
    };
    Ok(AppliedMigration {
        version,
        name: text(row, 1).unwrap_or_default().to_string(),
        checksum,
        applied_at: text(row, 3).unwrap_or_default().to_string(),
        execution_ms: int(backend, row, 4, "execution_ms")?,
        dirty,
        dirty_run,
    })
}

/// A row of `select_history` (or its legacy form, without placeholders).
pub(crate) fn history(backend: &'static str, row: &Row) -> Result<HistoryEntry, Error> {
    Ok(HistoryEntry {
        version: int(backend, row, 0, "version")?,
        name: text(row, 1).unwrap_or_default().to_string(),
        direction: direction(text(row, 2).unwrap_or_default()),
        started_at: text(row, 3).unwrap_or_default().to_string(),
        duration_ms: int(backend, row, 4, "duration_ms")?,
        success: flag(backend, row, 5, "success")?,
        error: text(row, 6).map(str::to_string),
        reason: text(row, 7).map(str::to_string),
        placeholders: text(row, 8).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_take_literals_in_order() {
        let values = [
            Value::Int(3),
            Value::Text("it's"),
            Value::Optional(None),
            Value::Flag(true),
        ];
        assert_eq!(
            bound(Dialect::Sqlite, "VALUES (?, ?, ?, ?)", &values),
            "VALUES (3, 'it''s', NULL, 1)"
        );
        let many: Vec<Value<'_>> = (1..=10).map(Value::Int).collect();
        assert_eq!(bound(Dialect::Postgres, "$1 $10 $2", &many), "1 10 2");
    }
}
