//! The tracking tables' SQL, for the backends built on sqlx. The statement
//! texts differ per dialect only in quoting, types and placeholders; the
//! values bound to them and read back from them do not differ at all, so
//! binding and decoding are written once here, generic over sqlx's database.

use crate::backend::{BoxFuture, Change, Session, State};
use crate::core::split::{split, Dialect};
use crate::error::CorruptChecksum;
use crate::report::{AppliedMigration, DirtyRun, HistoryEntry};
use crate::{Direction, Error, Settings};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Row, Type};
use std::future::Future;
use std::time::{Duration, Instant};

type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;

/// Binds for `insert_record`: version, name, checksum, applied_at, execution_ms, dirty.
pub(crate) fn bind_record<'q, DB: sqlx::Database>(
    query: Query<'q, DB>,
    row: &AppliedMigration,
    execution_ms: i64,
    dirty: bool,
) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(row.version)
        .bind(row.name.clone())
        .bind(row.checksum.to_hex())
        .bind(row.applied_at.clone())
        .bind(execution_ms)
        .bind(dirty)
}

/// Binds for `write_state`: applied_count, last_version, chain, dirty.
pub(crate) fn bind_state<'q, DB: sqlx::Database>(query: Query<'q, DB>, state: &State) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(state.applied_count)
        .bind(state.last_version)
        .bind(state.chain.to_hex())
        .bind(state.dirty)
}

/// Binds for `insert_history`, with the duration measured by the backend.
pub(crate) fn bind_history<'q, DB: sqlx::Database>(
    query: Query<'q, DB>,
    entry: &HistoryEntry,
    duration_ms: i64,
) -> Query<'q, DB>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
{
    query
        .bind(entry.version)
        .bind(entry.name.clone())
        .bind(entry.direction.as_str().to_string())
        .bind(entry.started_at.clone())
        .bind(duration_ms)
        .bind(entry.success)
        .bind(entry.error.clone())
        .bind(entry.reason.clone())
}

/// A row of `select_state`.
pub(crate) fn state_from_row<'r, R: Row>(row: &'r R) -> Result<State, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    let chain: String = row.try_get(2)?;
    Ok(State {
        applied_count: row.try_get(0)?,
        last_version: row.try_get(1)?,
        chain: CorruptChecksum::parse(None, &chain).map_err(|err| sqlx::Error::Decode(Box::new(err)))?,
        dirty: row.try_get(3)?,
    })
}

/// A row of `select_applied` (`with_run`), or of `select_applied_legacy`:
/// a tracking table created before the dirty run was recorded.
pub(crate) fn applied_from_row<'r, R: Row>(row: &'r R, with_run: bool) -> Result<AppliedMigration, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    let version: i64 = row.try_get(0)?;
    let checksum: String = row.try_get(2)?;
    let checksum =
        CorruptChecksum::parse(Some(version), &checksum).map_err(|err| sqlx::Error::Decode(Box::new(err)))?;
    let dirty: bool = row.try_get(5)?;
    let dirty_run = match with_run && dirty {
        false => None,
        true => {
            let direction: Option<String> = row.try_get(6)?;
            let committed: Option<i64> = row.try_get(7)?;
            direction.map(|direction| DirtyRun {
                direction: if direction == "down" {
                    Direction::Down
                } else {
                    Direction::Up
                },
                committed: committed.map(|count| count.max(0) as u64),
            })
        }
    };
    Ok(AppliedMigration {
        version,
        name: row.try_get(1)?,
        checksum,
        applied_at: row.try_get(3)?,
        execution_ms: row.try_get(4)?,
        dirty,
        dirty_run,
    })
}

/// A row of `select_history`.
pub(crate) fn history_from_row<'r, R: Row>(row: &'r R) -> Result<HistoryEntry, sqlx::Error>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let direction: String = row.try_get(2)?;
    Ok(HistoryEntry {
        version: row.try_get(0)?,
        name: row.try_get(1)?,
        direction: if direction == "down" {
            Direction::Down
        } else {
            Direction::Up
        },
        started_at: row.try_get(3)?,
        duration_ms: row.try_get(4)?,
        success: row.try_get(5)?,
        error: row.try_get::<Option<String>, _>(6)?,
        reason: row.try_get::<Option<String>, _>(7)?,
    })
}

/// PostgreSQL's types of [`TrackingSql::finish_one`]'s values: the state
/// after, the state before, the history row but its duration, the tracking
/// row but its duration and flag.
const FINISH_ONE_TYPES: [&str; 19] = [
    "bigint", "bigint", "text", "boolean", "bigint", "bigint", "text", "boolean", "bigint", "text", "text", "text",
    "boolean", "text", "text", "bigint", "text", "text", "text",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SqlDialect {
    #[allow(dead_code)]
    Sqlite,
    #[allow(dead_code)]
    Postgres,
    #[allow(dead_code)]
    MySql,
}

/// Statement texts for one tracking table: `<table>`, `<table>_history`
/// and `<table>_state` (one row: the summary the boot check reads).
pub(crate) struct TrackingSql {
    dialect: SqlDialect,
    /// The quoted schema (PostgreSQL) or database (MySQL), when one is set.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub schema: Option<String>,
    pub table: String,
    pub history: String,
    pub state: String,
}

impl TrackingSql {
    /// `settings` must have passed `Settings::check`: names are identifiers.
    pub fn new(dialect: SqlDialect, settings: &Settings) -> Self {
        let quote = |name: &str| match dialect {
            SqlDialect::MySql => format!("`{name}`"),
            _ => format!("\"{name}\""),
        };
        let qualify = |name: String| match settings.schema_name() {
            Some(schema) => format!("{}.{}", quote(schema), quote(&name)),
            None => quote(&name),
        };
        let base = settings.table_name();
        TrackingSql {
            dialect,
            schema: settings.schema_name().map(&quote),
            table: qualify(base.to_string()),
            history: qualify(format!("{base}_history")),
            state: qualify(format!("{base}_state")),
        }
    }

    fn p(&self, index: usize) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("${index}"),
            _ => "?".to_string(),
        }
    }

    fn params(&self, count: usize) -> String {
        (1..=count).map(|i| self.p(i)).collect::<Vec<_>>().join(", ")
    }

    /// Creates the three tables and the state row, each statement idempotent.
    pub fn create(&self) -> Vec<String> {
        let (int, text, flag, key, history_id) = match self.dialect {
            SqlDialect::Sqlite => (
                "INTEGER",
                "TEXT",
                "INTEGER",
                "INTEGER",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
            ),
            SqlDialect::Postgres => ("BIGINT", "TEXT", "BOOLEAN", "BIGINT", "BIGSERIAL PRIMARY KEY"),
            SqlDialect::MySql => (
                "BIGINT",
                "VARCHAR(255)",
                "BOOLEAN",
                "BIGINT",
                "BIGINT AUTO_INCREMENT PRIMARY KEY",
            ),
        };
        let long_text = if self.dialect == SqlDialect::MySql {
            "TEXT"
        } else {
            text
        };
        let insert_state = match self.dialect {
            SqlDialect::Sqlite => "INSERT OR IGNORE INTO",
            SqlDialect::Postgres => "INSERT INTO",
            SqlDialect::MySql => "INSERT IGNORE INTO",
        };
        let on_conflict = if self.dialect == SqlDialect::Postgres {
            " ON CONFLICT (id) DO NOTHING"
        } else {
            ""
        };
        let false_value = if self.dialect == SqlDialect::Sqlite {
            "0"
        } else {
            "FALSE"
        };
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (version {key} PRIMARY KEY, name {text} NOT NULL, checksum {text} NOT NULL, \
                 applied_at {text} NOT NULL, execution_ms {int} NOT NULL, dirty {flag} NOT NULL, {})",
                self.table,
                self.run_columns().map(|(name, ty)| format!("{name} {ty}")).join(", ")
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (id {history_id}, version {int} NOT NULL, name {text} NOT NULL, \
                 direction {text} NOT NULL, started_at {text} NOT NULL, duration_ms {int} NOT NULL, success {flag} NOT NULL, \
                 error {long_text}, reason {long_text})",
                self.history
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (id {int} PRIMARY KEY, applied_count {int} NOT NULL, last_version {int} NOT NULL, \
                 chain {text} NOT NULL, dirty {flag} NOT NULL)",
                self.state
            ),
            format!(
                "{insert_state} {} (id, applied_count, last_version, chain, dirty) VALUES (1, 0, 0, '{}', {false_value}){on_conflict}",
                self.state,
                crate::Checksum::ZERO.to_hex()
            ),
        ]
    }

    /// The columns of the dirty protocol's record of a run in progress (or
    /// cut off): its direction and how many statements committed. NULL on a
    /// clean row. Added after the first release: [`Self::add_column`]
    /// upgrades an older table.
    pub fn run_columns(&self) -> [(&'static str, &'static str); 2] {
        let (text, int) = match self.dialect {
            SqlDialect::Sqlite => ("TEXT", "INTEGER"),
            SqlDialect::Postgres => ("TEXT", "BIGINT"),
            SqlDialect::MySql => ("VARCHAR(8)", "BIGINT"),
        };
        [("dirty_direction", text), ("committed_statements", int)]
    }

    /// Fails when the tracking table lacks `column` (a table of an older release).
    pub fn probe_column(&self, column: &str) -> String {
        format!("SELECT {column} FROM {} WHERE 1 = 0", self.table)
    }

    pub fn add_column(&self, column: &str, ty: &str) -> String {
        format!("ALTER TABLE {} ADD COLUMN {column} {ty}", self.table)
    }

    /// Creates the schema (PostgreSQL) or database (MySQL) of the tracking
    /// tables, when the settings name one.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub fn create_schema(&self) -> Option<String> {
        let schema = self.schema.as_ref()?;
        match self.dialect {
            SqlDialect::Sqlite => None,
            SqlDialect::Postgres | SqlDialect::MySql => Some(format!("CREATE SCHEMA IF NOT EXISTS {schema}")),
        }
    }

    /// The state row, locked until the transaction ends, so that the check
    /// against the plan's state and the change after it cannot interleave
    /// with another writer.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub fn select_state_for_update(&self) -> String {
        match self.dialect {
            SqlDialect::Sqlite => self.select_state(),
            SqlDialect::Postgres | SqlDialect::MySql => format!("{} FOR UPDATE", self.select_state()),
        }
    }

    /// `text` as a string literal of the dialect. PostgreSQL's `E''` form
    /// means the same whatever `standard_conforming_strings` says; MySQL's
    /// hex form whatever `NO_BACKSLASH_ESCAPES` says.
    fn literal(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        self.push_literal(&mut out, text);
        out
    }

    /// [`Self::literal`] appended to `out`: a batch of N migrations writes
    /// about ten literals per migration, and a string each was a tenth of
    /// a group's run on SQLite (BENCHMARKS.md, issue 14).
    fn push_literal(&self, out: &mut String, text: &str) {
        /// `text` with each of `special` doubled (`'` to `''`, `\` to `\\`).
        fn doubled(out: &mut String, text: &str, special: &[char]) {
            let mut rest = text;
            while let Some(at) = rest.find(special) {
                // The special characters are ASCII: one byte each.
                let (through, after) = rest.split_at(at + 1);
                out.push_str(through);
                out.push_str(&through[at..]);
                rest = after;
            }
            out.push_str(rest);
        }
        match self.dialect {
            SqlDialect::Postgres => {
                out.push_str("E'");
                doubled(out, text, &['\\', '\''][..]);
                out.push('\'');
            }
            SqlDialect::Sqlite => {
                out.push('\'');
                doubled(out, text, &['\''][..]);
                out.push('\'');
            }
            SqlDialect::MySql if text.is_empty() => out.push_str("''"),
            SqlDialect::MySql => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.reserve(text.len() * 2 + 12);
                out.push_str("_utf8mb4 X'");
                for byte in text.bytes() {
                    out.push(char::from(HEX[usize::from(byte >> 4)]));
                    out.push(char::from(HEX[usize::from(byte & 0xf)]));
                }
                out.push('\'');
            }
        }
    }

    fn push_optional_literal(&self, out: &mut String, text: Option<&str>) {
        match text {
            Some(text) => self.push_literal(out, text),
            None => out.push_str("NULL"),
        }
    }

    fn optional_literal(&self, text: Option<&str>) -> String {
        let mut out = String::new();
        self.push_optional_literal(&mut out, text);
        out
    }

    fn flag(&self, value: bool) -> &'static str {
        match (self.dialect, value) {
            (SqlDialect::Sqlite, true) => "1",
            (SqlDialect::Sqlite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// Milliseconds since the server received the batch, computed when the
    /// statement runs, so that a change's duration is written in the same
    /// trip as its statements (PostgreSQL's batch, which carries its own
    /// transaction; SQLite's batch is timed by the client instead).
    fn elapsed_ms(&self) -> &'static str {
        "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint"
    }

    /// The tracking schema first on the search path for the transaction,
    /// as literal SQL for a batch (PostgreSQL; see `postgres::enter_schema`).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub fn enter_schema_literal(&self) -> Option<String> {
        let schema = self.literal(self.schema.as_ref()?);
        Some(format!(
            "SELECT set_config('search_path', CASE WHEN current_setting('search_path') = '' THEN {schema} \
             ELSE {schema} || ', ' || current_setting('search_path') END, true)"
        ))
    }

    /// The condition "the state row is `expected`", on the row `id = 1`.
    fn state_is(&self, expected: &State) -> String {
        Self::state_matches(&self.state_parts(expected))
    }

    /// The state row's four columns as SQL literals, in column order.
    fn state_parts(&self, state: &State) -> [String; 4] {
        [
            state.applied_count.to_string(),
            state.last_version.to_string(),
            self.literal(&state.chain.to_hex()),
            self.flag(state.dirty).to_string(),
        ]
    }

    /// [`Self::state_is`] from the four column values (literals or parameters).
    fn state_matches(parts: &[String]) -> String {
        format!(
            "id = 1 AND applied_count = {} AND last_version = {} AND chain = {} AND dirty = {}",
            parts[0], parts[1], parts[2], parts[3]
        )
    }

    /// A statement that fails unless the state row is `expected`: it would
    /// insert a row of NULLs, which NOT NULL refuses (whether or not a state
    /// row exists), and inserts nothing when the state is the expected one.
    /// The batch's stand-in for `check_state`: a failure is told apart from
    /// a conflict afterwards, by the replay.
    pub fn guard_state(&self, expected: &State) -> String {
        self.refuse_unless(&format!(
            "EXISTS (SELECT 1 FROM {} WHERE {})",
            self.state,
            self.state_is(expected)
        ))
    }

    /// An insert of a state row of NULLs when `condition` is false: NOT
    /// NULL refuses it, so the statement fails exactly then.
    fn refuse_unless(&self, condition: &str) -> String {
        format!(
            "INSERT INTO {} (id, applied_count, last_version, chain, dirty) SELECT 1, NULL, NULL, NULL, NULL \
             WHERE NOT ({condition})",
            self.state,
        )
    }

    /// Another tool's history table, every column cast to text (hex for
    /// binary columns), so that one decoder reads every dialect.
    pub fn select_foreign(&self, table: &str, columns: &[crate::backend::ForeignColumn]) -> String {
        use crate::backend::ForeignColumn;
        let list: Vec<String> = columns
            .iter()
            .map(|column| match (column, self.dialect) {
                (ForeignColumn::Text(c), SqlDialect::Postgres) => format!("CAST({c} AS TEXT)"),
                (ForeignColumn::Text(c), SqlDialect::MySql) => format!("CAST({c} AS CHAR)"),
                (ForeignColumn::Text(c), SqlDialect::Sqlite) => format!("CAST({c} AS TEXT)"),
                (ForeignColumn::Hex(c), SqlDialect::Postgres) => format!("encode({c}, 'hex')"),
                (ForeignColumn::Hex(c), _) => format!("lower(hex({c}))"),
            })
            .collect();
        format!("SELECT {} FROM {table}", list.join(", "))
    }

    /// The state row set to `state`, as literal SQL.
    pub fn write_state_literal(&self, state: &State) -> String {
        format!("UPDATE {} SET {} WHERE id = 1", self.state, self.state_values(state))
    }

    /// The `SET` list writing `state` into the state row.
    fn state_values(&self, state: &State) -> String {
        Self::set_state(&self.state_parts(state))
    }

    /// [`Self::state_values`] from the four column values.
    fn set_state(parts: &[String]) -> String {
        format!(
            "applied_count = {}, last_version = {}, chain = {}, dirty = {}",
            parts[0], parts[1], parts[2], parts[3]
        )
    }

    /// `GREATEST` of the dialect (SQLite's two-argument `max`).
    fn greatest(&self, a: &str, b: &str) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("GREATEST({a}, {b})"),
            SqlDialect::Sqlite | SqlDialect::MySql => format!("max({a}, {b})"),
        }
    }

    /// A change's history row, as literal SQL for the batch, written right
    /// after the change's statements. Its `duration_ms` is first the time
    /// since the batch began (a cheap clock read, where subtracting the
    /// earlier changes' rows here would read k rows for the k-th change of a
    /// group); [`Self::settle_durations_literal`] turns these running totals
    /// into each change's own duration once the group's statements are done.
    pub fn history_literal(&self, change: &Change<'_>) -> String {
        // Clocks read at millisecond precision and rounded differently can
        // put the end a millisecond before the start: never below zero.
        let elapsed = self.greatest("0", self.elapsed_ms());
        self.history_row_literal(&change.history, &elapsed)
    }

    /// The history row `entry` as one literal INSERT, its duration the SQL
    /// expression `elapsed` (evaluated by the database, inside the batch).
    fn history_row_literal(&self, entry: &HistoryEntry, elapsed: &str) -> String {
        format!(
            "{} VALUES {}",
            self.insert_into_history(),
            self.history_values(entry, elapsed)
        )
    }

    fn insert_into_history(&self) -> String {
        format!(
            "INSERT INTO {} (version, name, direction, started_at, duration_ms, success, error, reason)",
            self.history
        )
    }

    /// The row `entry` in parentheses, for a `VALUES` list.
    fn history_values(&self, entry: &HistoryEntry, elapsed: &str) -> String {
        let mut out = String::with_capacity(128);
        self.push_history_values(&mut out, entry, elapsed);
        out
    }

    /// [`Self::history_values`] appended to `out`, in the layout of
    /// [`Self::history_row`].
    fn push_history_values(&self, out: &mut String, entry: &HistoryEntry, elapsed: impl std::fmt::Display) {
        use std::fmt::Write;
        let _ = write!(out, "({}, ", entry.version);
        self.push_literal(out, &entry.name);
        out.push_str(", ");
        self.push_literal(out, entry.direction.as_str());
        out.push_str(", ");
        self.push_literal(out, &entry.started_at);
        let _ = write!(out, ", {elapsed}, {}, ", self.flag(entry.success));
        self.push_optional_literal(out, entry.error.as_deref());
        out.push_str(", ");
        self.push_optional_literal(out, entry.reason.as_deref());
        out.push(')');
    }

    /// A history row's columns but its duration, as SQL literals, in
    /// column order.
    fn history_parts(&self, entry: &HistoryEntry) -> [String; 7] {
        [
            entry.version.to_string(),
            self.literal(&entry.name),
            self.literal(entry.direction.as_str()),
            self.literal(&entry.started_at),
            self.flag(entry.success).to_string(),
            self.optional_literal(entry.error.as_deref()),
            self.optional_literal(entry.reason.as_deref()),
        ]
    }

    /// [`Self::history_values`] from the seven values and the duration.
    fn history_row(parts: &[String], elapsed: &str) -> String {
        format!(
            "({}, {}, {}, {}, {elapsed}, {}, {}, {})",
            parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]
        )
    }

    /// One statement turning the running totals of the batch's `count`
    /// history rows (the last ones: the batch holds the write lock, or the
    /// migration lock on PostgreSQL) into each change's own duration: none
    /// needed for one. The new values are computed from the old ones first
    /// (a window over the last `count` rows, read backwards through the
    /// primary key), then written by primary key.
    pub fn settle_durations_literal(&self, count: usize) -> Option<String> {
        (count > 1).then(|| {
            let own = self.greatest("0", "duration_ms - COALESCE(LAG(duration_ms) OVER (ORDER BY id), 0)");
            format!(
                "UPDATE {history} AS h SET duration_ms = settled.duration \
                 FROM (SELECT id, {own} AS duration \
                 FROM (SELECT id, duration_ms FROM {history} ORDER BY id DESC LIMIT {count}) AS batch) AS settled \
                 WHERE h.id = settled.id",
                history = self.history,
            )
        })
    }

    /// One `DELETE` of the tracking rows a batch's `changes` replace: the
    /// rows of the migrations it reverts and of the repeatable ones it
    /// applies again (negative keys). None when there are none: a
    /// versioned migration never has a row when it is applied (the state
    /// guard sees to that), so a batch of such migrations deletes nothing.
    pub fn delete_records_literal(&self, changes: &[Change<'_>]) -> Option<String> {
        let mut versions: Vec<i64> = changes
            .iter()
            .map(|c| c.migration.version)
            .filter(|&version| version < 0)
            .chain(
                changes
                    .iter()
                    .filter(|c| c.record.is_none())
                    .map(|c| c.migration.version),
            )
            .collect();
        versions.sort_unstable();
        versions.dedup();
        (!versions.is_empty()).then(|| {
            let list: Vec<String> = versions.iter().map(i64::to_string).collect();
            format!("DELETE FROM {} WHERE version IN ({})", self.table, list.join(", "))
        })
    }

    /// One multi-row `INSERT` of the tracking rows of the `changes` that
    /// apply a migration, once their history rows are settled
    /// ([`Self::settle_durations_literal`]); none if no change applies one.
    /// Each copies its change's duration from its history row `h`, which
    /// `history` joins: by default the k-th of n changes wrote the
    /// (n - k)-th newest history row, found by primary key (the batch's
    /// rows were inserted one after the other, under the lock, so their
    /// ids follow each other). `clean` is the value of the `dirty` column.
    fn insert_records_literal(&self, changes: &[Change<'_>], clean: &str, history: Option<&str>) -> Option<String> {
        // The engine batches one change, or a group of migrations applied
        // once each: a version never comes twice.
        debug_assert!(
            {
                let mut versions: Vec<i64> = changes.iter().map(|c| c.migration.version).collect();
                versions.sort_unstable();
                versions.dedup();
                versions.len() == changes.len()
            },
            "a version twice in one batch"
        );
        let count = changes.len();
        let rows: Vec<String> = changes
            .iter()
            .enumerate()
            .filter_map(|(k, change)| {
                let row = change.record.as_ref()?;
                Some(format!(
                    "({}, {}, {}, {}, {})",
                    count - 1 - k,
                    row.version,
                    self.literal(&row.name),
                    self.literal(&row.checksum.to_hex()),
                    self.literal(&row.applied_at),
                ))
            })
            .collect();
        if rows.is_empty() {
            return None;
        }
        let by_key = format!(
            "JOIN {history} AS h ON h.id = (SELECT MAX(id) FROM {history}) - v.column1",
            history = self.history
        );
        Some(format!(
            "INSERT INTO {table} (version, name, checksum, applied_at, execution_ms, dirty) \
             SELECT v.column2, v.column3, v.column4, v.column5, h.duration_ms, {clean} \
             FROM (VALUES {rows}) AS v {history}",
            table = self.table,
            rows = rows.join(", "),
            history = history.unwrap_or(&by_key),
        ))
    }

    /// The tracking writes of a batch timed by the client (SQLite's, see
    /// `SqlSession::apply_timed`), the durations in milliseconds, one per
    /// change, known by now: every history row in one `INSERT`, the rows the
    /// batch replaces deleted, every tracking row in one `INSERT`, and the
    /// new state. Four statements however many changes; the state guard ran
    /// before the changes' statements.
    pub fn timed_tracking_literal(&self, changes: &[Change<'_>], durations_ms: &[i64]) -> Vec<String> {
        use std::fmt::Write;
        let Some(last) = changes.last() else {
            return Vec::new();
        };
        // Each statement written into one string: see `push_literal`.
        let mut history = String::with_capacity(128 + changes.len() * 112);
        let _ = write!(history, "{} VALUES ", self.insert_into_history());
        for (k, (change, ms)) in changes.iter().zip(durations_ms).enumerate() {
            if k > 0 {
                history.push_str(", ");
            }
            self.push_history_values(&mut history, &change.history, ms);
        }
        let mut statements = vec![history];
        statements.extend(self.delete_records_literal(changes));
        let mut records = String::with_capacity(128 + changes.len() * 128);
        let _ = write!(
            records,
            "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, dirty) VALUES ",
            self.table
        );
        let mut any_record = false;
        for (change, ms) in changes.iter().zip(durations_ms) {
            let Some(row) = change.record.as_ref() else { continue };
            if any_record {
                records.push_str(", ");
            }
            any_record = true;
            let _ = write!(records, "({}, ", row.version);
            self.push_literal(&mut records, &row.name);
            records.push_str(", ");
            self.push_literal(&mut records, &row.checksum.to_hex());
            records.push_str(", ");
            self.push_literal(&mut records, &row.applied_at);
            let _ = write!(records, ", {ms}, {})", self.flag(false));
        }
        if any_record {
            statements.push(records);
        }
        statements.push(self.write_state_literal(&last.state_after));
        statements
    }

    /// The end of PostgreSQL's batch in one data-modifying `WITH` (each
    /// statement of a batch is parsed and planned by the server; the
    /// tracking statements were four of a W1 migration's seven), after
    /// its `DELETE` if it has one. `s` writes the new state only where the
    /// state row is the one the plan was made on, and returns `FALSE` then;
    /// for one change, `h` writes its history row. The tracking rows take
    /// their `dirty` column from `s`: NULL when the state did not match,
    /// which NOT NULL refuses, so the batch fails and its replay reports
    /// the conflict. A batch with no row to insert (reverts) refuses a row
    /// of NULLs in the state table instead. Data-modifying `WITH` parts run
    /// to completion whether or not the main statement reads them.
    pub fn finish_batch_literal(&self, changes: &[Change<'_>]) -> String {
        if let Some(values) = self.finish_one_values(changes) {
            return self.finish_one(&values);
        }
        let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
            return String::new();
        };
        let mut parts = vec![format!(
            "s AS (UPDATE {} SET {} WHERE {} RETURNING {} AS clean)",
            self.state,
            self.state_values(&last.state_after),
            self.state_is(&first.state_before),
            self.flag(false),
        )];
        let history = (changes.len() == 1).then(|| {
            parts.push(format!("h AS ({} RETURNING duration_ms)", self.history_literal(first)));
            "CROSS JOIN h"
        });
        let main = self
            .insert_records_literal(changes, "(SELECT clean FROM s)", history)
            .unwrap_or_else(|| self.refuse_unless("EXISTS (SELECT 1 FROM s)"));
        format!("WITH {} {main}", parts.join(", "))
    }

    /// The values of [`Self::finish_one`] for a batch of one change that
    /// applies a migration (the batch of every migration outside group
    /// mode), as SQL literals in parameter order; none for other batches.
    fn finish_one_values(&self, changes: &[Change<'_>]) -> Option<Vec<String>> {
        let (change, record) = Self::one_applied(changes)?;
        let mut values = Vec::with_capacity(FINISH_ONE_TYPES.len());
        values.extend(self.state_parts(&change.state_after));
        values.extend(self.state_parts(&change.state_before));
        values.extend(self.history_parts(&change.history));
        values.extend([
            record.version.to_string(),
            self.literal(&record.name),
            self.literal(&record.checksum.to_hex()),
            self.literal(&record.applied_at),
        ]);
        Some(values)
    }

    /// The change of a batch of one that applies a migration, and its
    /// tracking row: the batches [`Self::finish_one`] ends.
    pub fn one_applied<'c>(changes: &'c [Change<'_>]) -> Option<(&'c Change<'c>, &'c AppliedMigration)> {
        match changes {
            [change] => Some((change, change.record.as_ref()?)),
            _ => None,
        }
    }

    /// [`Self::finish_batch_literal`] for one change with a tracking row,
    /// from its values ([`Self::finish_one_values`]: literals, or the
    /// parameters of the prepared form, [`Self::prepare_finish_one`]).
    fn finish_one(&self, v: &[String]) -> String {
        let elapsed = self.greatest("0", self.elapsed_ms());
        format!(
            "WITH s AS (UPDATE {state} SET {set} WHERE {matches} RETURNING {clean} AS clean), \
             h AS ({history} VALUES {row} RETURNING duration_ms) \
             INSERT INTO {table} (version, name, checksum, applied_at, execution_ms, dirty) \
             SELECT {}, {}, {}, {}, h.duration_ms, (SELECT clean FROM s) FROM h",
            v[15],
            v[16],
            v[17],
            v[18],
            state = self.state,
            set = Self::set_state(&v[0..4]),
            matches = Self::state_matches(&v[4..8]),
            clean = self.flag(false),
            history = self.insert_into_history(),
            row = Self::history_row(&v[8..15], &elapsed),
            table = self.table,
        )
    }

    /// PostgreSQL: [`Self::finish_one`] as a prepared statement `name`. The
    /// server plans the literal form again for every migration, and after
    /// the migration's own DDL has emptied its catalog caches that planning
    /// cost more than the rest of the tracking (BENCHMARKS.md, sixth pass);
    /// a prepared statement keeps its plan across the run.
    pub fn prepare_finish_one(&self, name: &str) -> String {
        let params: Vec<String> = (1..=FINISH_ONE_TYPES.len()).map(|i| self.p(i)).collect();
        format!(
            "PREPARE {name} ({}) AS {}",
            FINISH_ONE_TYPES.join(", "),
            self.finish_one(&params)
        )
    }

    /// The `EXECUTE` of [`Self::prepare_finish_one`]'s statement for a batch
    /// of one change with a tracking row; none for other batches.
    pub fn execute_finish_one(&self, name: &str, changes: &[Change<'_>]) -> Option<String> {
        let values = self.finish_one_values(changes)?;
        Some(format!("EXECUTE {name}({})", values.join(", ")))
    }

    /// MySQL's dirty protocol in two round trips (mysql.rs). The first
    /// opens a transaction, marks the state row dirty if it is still the
    /// plan's (`@em_marked`: 1 if it was), marks the change's row dirty with
    /// its direction and no statement committed, and returns `@em_marked`;
    /// the caller commits only if it is 1.
    pub fn mysql_mark(&self, change: &Change<'_>) -> String {
        let version = change.migration.version;
        let direction = self.literal(change.direction.as_str());
        let record = match &change.record {
            Some(row) => format!(
                "INSERT INTO {table} (version, name, checksum, applied_at, execution_ms, dirty, dirty_direction, \
                 committed_statements) VALUES ({version}, {}, {}, {}, 0, TRUE, {direction}, 0) ON DUPLICATE KEY UPDATE \
                 name = VALUES(name), checksum = VALUES(checksum), applied_at = VALUES(applied_at), execution_ms = 0, \
                 dirty = TRUE, dirty_direction = VALUES(dirty_direction), committed_statements = 0",
                self.literal(&row.name),
                self.literal(&row.checksum.to_hex()),
                self.literal(&row.applied_at),
                table = self.table,
            ),
            None => format!(
                "UPDATE {} SET dirty = TRUE, dirty_direction = {direction}, committed_statements = 0 WHERE version = {version}",
                self.table
            ),
        };
        [
            "START TRANSACTION".to_string(),
            format!(
                "UPDATE {} SET dirty = TRUE WHERE {}",
                self.state,
                self.state_is(&change.state_before)
            ),
            "SET @em_marked = ROW_COUNT()".to_string(),
            record,
            "SELECT CAST(@em_marked AS SIGNED)".to_string(),
        ]
        .join(";\n")
    }

    /// The second trip: commits the mark, then each statement followed by
    /// the count of committed statements in the change's row (the server
    /// stops at the first error, so the count says exactly which committed:
    /// each one commits by itself, DDL implicitly, the rest in autocommit),
    /// then records the change in one transaction, its duration measured by
    /// the server.
    pub fn mysql_run(&self, change: &Change<'_>, statements: &[&str]) -> String {
        let version = change.migration.version;
        let elapsed = "(TIMESTAMPDIFF(MICROSECOND, @em_started, SYSDATE(6)) DIV 1000)";
        let mut parts = vec!["COMMIT".to_string(), "SET @em_started = SYSDATE(6)".to_string()];
        for (index, statement) in statements.iter().enumerate() {
            parts.push(statement.to_string());
            parts.push(format!(
                "UPDATE {} SET committed_statements = {} WHERE version = {version}",
                self.table,
                index + 1
            ));
        }
        parts.push("START TRANSACTION".to_string());
        parts.push(match change.direction {
            Direction::Up => format!(
                "UPDATE {} SET execution_ms = {elapsed}, dirty = FALSE, dirty_direction = NULL, committed_statements = NULL \
                 WHERE version = {version}",
                self.table
            ),
            Direction::Down => format!("DELETE FROM {} WHERE version = {version}", self.table),
        });
        parts.push(self.write_state_literal(&change.state_after));
        parts.push(self.history_row_literal(&change.history, elapsed));
        parts.push("COMMIT".to_string());
        // A line of its own ends a statement that ends in a line comment.
        parts.join("\n;\n")
    }

    /// After a failed `mysql_run`: whether the row is dirty, and its count.
    pub fn mysql_progress(&self, version: i64) -> String {
        format!(
            "SELECT CAST(dirty AS SIGNED), CAST(COALESCE(committed_statements, -1) AS SIGNED) FROM {} WHERE version = {version}",
            self.table
        )
    }

    pub fn select_state(&self) -> String {
        format!(
            "SELECT applied_count, last_version, chain, dirty FROM {} WHERE id = 1",
            self.state
        )
    }

    pub fn select_applied(&self) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty, dirty_direction, committed_statements \
             FROM {} ORDER BY version",
            self.table
        )
    }

    /// `select_applied` for a table not upgraded yet (read-only operations
    /// never alter it).
    pub fn select_applied_legacy(&self) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty FROM {} ORDER BY version",
            self.table
        )
    }

    pub fn select_history(&self) -> String {
        format!(
            "SELECT version, name, direction, started_at, duration_ms, success, error, reason FROM {} ORDER BY id",
            self.history
        )
    }

    /// version, name, checksum, applied_at, execution_ms, dirty
    pub fn insert_record(&self) -> String {
        self.upsert_record(&self.params(6))
    }

    /// The tracking row written with `values`, replacing the row of its
    /// version if there is one: a repeatable migration applied again after
    /// its text changed. (A versioned migration never has a row when it is
    /// applied: the state check before every change sees to that.)
    fn upsert_record(&self, values: &str) -> String {
        let columns = "(version, name, checksum, applied_at, execution_ms, dirty)";
        match self.dialect {
            SqlDialect::Sqlite => format!("INSERT OR REPLACE INTO {} {columns} VALUES ({values})", self.table),
            SqlDialect::Postgres => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, \
                 checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at, execution_ms = EXCLUDED.execution_ms, \
                 dirty = EXCLUDED.dirty",
                self.table
            ),
            SqlDialect::MySql => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON DUPLICATE KEY UPDATE name = VALUES(name), \
                 checksum = VALUES(checksum), applied_at = VALUES(applied_at), execution_ms = VALUES(execution_ms), \
                 dirty = VALUES(dirty)",
                self.table
            ),
        }
    }

    /// execution_ms, version: marks a dirty row clean.
    pub fn finish_record(&self) -> String {
        format!(
            "UPDATE {} SET execution_ms = {}, dirty = {}, dirty_direction = NULL, committed_statements = NULL \
             WHERE version = {}",
            self.table,
            self.p(1),
            self.flag(false),
            self.p(2)
        )
    }

    /// version: marks a row dirty for a run of `direction` that has
    /// committed no statement yet, or (`None`) clean again.
    pub fn set_dirty(&self, direction: Option<Direction>) -> String {
        let (dirty, direction, committed) = match direction {
            Some(direction) => (true, format!("'{}'", direction.as_str()), "0"),
            None => (false, "NULL".to_string(), "NULL"),
        };
        format!(
            "UPDATE {} SET dirty = {}, dirty_direction = {direction}, committed_statements = {committed} WHERE version = {}",
            self.table,
            self.flag(dirty),
            self.p(1)
        )
    }

    /// committed_statements, version: one more statement of a dirty run committed.
    pub fn count_committed(&self) -> String {
        format!(
            "UPDATE {} SET committed_statements = {} WHERE version = {}",
            self.table,
            self.p(1),
            self.p(2)
        )
    }

    pub fn delete_record(&self) -> String {
        format!("DELETE FROM {} WHERE version = {}", self.table, self.p(1))
    }

    /// applied_count, last_version, chain, dirty
    pub fn write_state(&self) -> String {
        format!(
            "UPDATE {} SET applied_count = {}, last_version = {}, chain = {}, dirty = {} WHERE id = 1",
            self.state,
            self.p(1),
            self.p(2),
            self.p(3),
            self.p(4)
        )
    }

    /// version, name, direction, started_at, duration_ms, success, error, reason
    pub fn insert_history(&self) -> String {
        format!("{} VALUES ({})", self.insert_into_history(), self.params(8))
    }
}

/// Reads and writes of the tracking tables, written once for every sqlx
/// database: the backends differ in transactions and locks, not in these.
/// The caller holds the transaction where one is needed.
pub(crate) trait TrackingIo: sqlx::Database {
    /// The state row through `query` (`select_state` or its `FOR UPDATE` form).
    fn fetch_state(
        conn: &mut Self::Connection,
        query: String,
    ) -> impl Future<Output = Result<Option<State>, sqlx::Error>> + Send;
    fn write_state(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        state: &State,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn insert_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: bool,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn insert_history(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        entry: &HistoryEntry,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn fetch_applied(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<Vec<AppliedMigration>, sqlx::Error>> + Send;
    fn fetch_history(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, sqlx::Error>> + Send;
    /// The tracking writes of a change whose statements ran in the caller's
    /// transaction: its row (inserted clean, or deleted for down), the
    /// history row and, unless a group writes it once at its end, the state.
    fn record_change(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// First step of the dirty protocol: the change's row marked dirty (an
    /// up change inserts it, a down change flags the existing one) and the
    /// state marked dirty.
    fn mark_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Takes back the dirty mark of a run whose first statement failed:
    /// nothing of it committed. The row removed (up) or clean again (down),
    /// the state as before.
    fn unmark_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// One more statement of a dirty run committed: `committed` in all.
    fn count_committed(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        version: i64,
        committed: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Last step of the dirty protocol, once every statement ran: the row
    /// made clean (up) or deleted (down), the new state, the history row.
    fn finish_dirty(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    /// Rows of `query`, whose `columns` columns are all text (`import`).
    fn fetch_text(
        conn: &mut Self::Connection,
        query: String,
        columns: usize,
    ) -> impl Future<Output = Result<Vec<Vec<Option<String>>>, sqlx::Error>> + Send;
    /// `force`/`forget`: the row of `version` replaced by `record` (or
    /// removed) and the state set.
    fn replace_record(
        conn: &mut Self::Connection,
        sql: &TrackingSql,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl<DB> TrackingIo for DB
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Decode<'t, DB> + Type<DB>,
{
    async fn fetch_state(conn: &mut DB::Connection, query: String) -> Result<Option<State>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(state_from_row).transpose()
    }

    async fn write_state(conn: &mut DB::Connection, sql: &TrackingSql, state: &State) -> Result<(), sqlx::Error> {
        bind_state(sqlx::query(sqlx::AssertSqlSafe(sql.write_state())), state)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn insert_record(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: bool,
    ) -> Result<(), sqlx::Error> {
        bind_record(
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_record())),
            row,
            execution_ms,
            dirty,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn insert_history(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        entry: &HistoryEntry,
    ) -> Result<(), sqlx::Error> {
        bind_history(
            sqlx::query(sqlx::AssertSqlSafe(sql.insert_history())),
            entry,
            entry.duration_ms,
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn record_change(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
        write_state: bool,
    ) -> Result<(), sqlx::Error> {
        match &change.record {
            Some(row) => Self::insert_record(conn, sql, row, execution_ms, false).await?,
            None => {
                sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        close_change(conn, sql, change, execution_ms, write_state).await
    }

    async fn mark_dirty(conn: &mut DB::Connection, sql: &TrackingSql, change: &Change<'_>) -> Result<(), sqlx::Error> {
        if let Some(row) = &change.record {
            Self::insert_record(conn, sql, row, 0, true).await?;
        }
        // The direction and a count of 0, on the row just inserted (up) or
        // on the applied one (down).
        sqlx::query(sqlx::AssertSqlSafe(sql.set_dirty(Some(change.direction))))
            .bind(change.migration.version)
            .execute(&mut *conn)
            .await?;
        let mut dirty_state = change.state_before;
        dirty_state.dirty = true;
        Self::write_state(conn, sql, &dirty_state).await
    }

    async fn unmark_dirty(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
    ) -> Result<(), sqlx::Error> {
        let undo = match change.direction {
            Direction::Up => sql.delete_record(),
            Direction::Down => sql.set_dirty(None),
        };
        sqlx::query(sqlx::AssertSqlSafe(undo))
            .bind(change.migration.version)
            .execute(&mut *conn)
            .await?;
        Self::write_state(conn, sql, &change.state_before).await
    }

    async fn count_committed(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        version: i64,
        committed: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(sql.count_committed()))
            .bind(committed)
            .bind(version)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn finish_dirty(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        change: &Change<'_>,
        execution_ms: i64,
    ) -> Result<(), sqlx::Error> {
        match change.direction {
            Direction::Up => {
                sqlx::query(sqlx::AssertSqlSafe(sql.finish_record()))
                    .bind(execution_ms)
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
            Direction::Down => {
                sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
                    .bind(change.migration.version)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        close_change(conn, sql, change, execution_ms, true).await
    }

    async fn replace_record(
        conn: &mut DB::Connection,
        sql: &TrackingSql,
        version: i64,
        record: Option<&AppliedMigration>,
        state: &State,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(sql.delete_record()))
            .bind(version)
            .execute(&mut *conn)
            .await?;
        if let Some(row) = record {
            Self::insert_record(conn, sql, row, row.execution_ms, false).await?;
        }
        Self::write_state(conn, sql, state).await
    }

    async fn fetch_text(
        conn: &mut DB::Connection,
        query: String,
        columns: usize,
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(query)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|row| (0..columns).map(|i| row.try_get::<Option<String>, _>(i)).collect())
            .collect()
    }

    async fn fetch_applied(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<AppliedMigration>, sqlx::Error> {
        let (rows, with_run) = match sqlx::query(sqlx::AssertSqlSafe(sql.select_applied()))
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => (rows, true),
            // A table of an older release, not upgraded yet (only a run
            // upgrades it, under the lock): read what it has.
            Err(err) => match sqlx::query(sqlx::AssertSqlSafe(sql.select_applied_legacy()))
                .fetch_all(&mut *conn)
                .await
            {
                Ok(rows) => (rows, false),
                Err(_) => return Err(err),
            },
        };
        rows.iter().map(|row| applied_from_row(row, with_run)).collect()
    }

    async fn fetch_history(conn: &mut DB::Connection, sql: &TrackingSql) -> Result<Vec<HistoryEntry>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.select_history()))
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(history_from_row).collect()
    }
}

/// The end every change's tracking writes share, whichever path ran its
/// statements: the new state (unless a group writes it once at its end),
/// then the history row.
async fn close_change<DB>(
    conn: &mut DB::Connection,
    sql: &TrackingSql,
    change: &Change<'_>,
    execution_ms: i64,
    write_state: bool,
) -> Result<(), sqlx::Error>
where
    DB: TrackingIo,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> bool: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
{
    if write_state {
        DB::write_state(conn, sql, &change.state_after).await?;
    }
    bind_history(
        sqlx::query(sqlx::AssertSqlSafe(sql.insert_history())),
        &change.history,
        execution_ms,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type Connection<B> = <<B as SqlBackend>::DB as sqlx::Database>::Connection;

/// Statements joined into one batch, each ended by `;` on a line of its
/// own, so that a statement ending in a line comment still ends.
pub(crate) fn join_statements(parts: Vec<String>) -> String {
    let mut batch = parts.join("\n;\n");
    batch.push_str("\n;");
    batch
}

/// The tracking writes of a timed batch of `changes` begun at `started`,
/// whose statements were done at `ends` (one per change).
pub(crate) fn timed_tracking(sql: &TrackingSql, changes: &[Change<'_>], started: Instant, ends: &[Instant]) -> String {
    join_statements(sql.timed_tracking_literal(changes, &durations_ms(started, ends, changes.len())))
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

/// What differs between the sqlx databases: transactions, locks, the
/// catalog and error messages. [`SqlSession`] is everything else, once.
/// The implementing type is also the session's backend-specific state (the
/// lock held, a setting to restore).
pub(crate) trait SqlBackend: Send + Sized + 'static {
    type DB: TrackingIo + crate::sql_batch::CheckpointIo;
    const NAME: &'static str;
    const DIALECT: Dialect;
    const SQL: SqlDialect;

    /// The database's own words for `err`, with its codes where it has them.
    fn message(err: &sqlx::Error) -> String {
        match err.as_database_error() {
            Some(db) => db.message().to_string(),
            None => err.to_string(),
        }
    }

    /// The line of the file a failed statement's error points at.
    fn error_line(_err: &sqlx::Error, _statement: &str, first_line: usize) -> usize {
        first_line
    }

    /// Whether the state table exists: asked when reading it failed, to tell
    /// "no tracking tables yet" from a real error.
    fn state_table_exists(session: &mut SqlSession<Self>) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Whether `err`, from reading the state, is the database saying that
    /// the table does not exist: that settles what `state_table_exists`
    /// would be asked, one round trip fewer on a database's first run.
    fn no_such_table(err: &sqlx::Error) -> bool {
        let _ = err;
        false
    }

    /// A transaction for tracking writes.
    fn begin(
        conn: &mut Connection<Self>,
    ) -> impl Future<Output = Result<sqlx::Transaction<'_, Self::DB>, Error>> + Send {
        async move {
            sqlx::Connection::begin(conn).await.map_err(|err| {
                Error::database(Self::NAME, "beginning a transaction", Self::message(&err)).with_source(err)
            })
        }
    }

    /// Runs in each migration's transaction before its statements
    /// (PostgreSQL: the tracking schema onto the search path).
    fn enter_transaction(
        conn: &mut Connection<Self>,
        sql: &TrackingSql,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (conn, sql);
        async { Ok(()) }
    }

    fn prepare(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn lock(session: &mut SqlSession<Self>, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;
    fn unlock(session: &mut SqlSession<Self>) -> impl Future<Output = Result<(), Error>> + Send;
    fn apply<'a>(
        session: &'a mut SqlSession<Self>,
        change: &'a Change<'a>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// [`SqlBackend::enter_transaction`] as literal SQL, for a batch that
    /// carries its own BEGIN.
    fn enter_transaction_literal(sql: &TrackingSql) -> Option<String> {
        let _ = sql;
        None
    }

    /// Runs `changes` in one transaction, their statements and tracking
    /// writes as a batch ([`SqlSession::apply_batched`]). `Ok(Err(_))`: the
    /// batch failed and was rolled back, for the caller to replay.
    ///
    /// By default the batch carries its own BEGIN and COMMIT in one
    /// multi-statement query ([`SqlSession::batch`]; PostgreSQL runs such a
    /// query as written, and leaves a failed one open and aborted until
    /// ROLLBACK): one round trip per migration. SQLite's runs in sqlx's
    /// `BEGIN IMMEDIATE`, so a busy database is told apart as a lock
    /// timeout, and is timed by the client (sqlite_exec.rs).
    fn run_in_transaction<'a>(
        session: &'a mut SqlSession<Self>,
        changes: &'a [Change<'a>],
    ) -> impl Future<Output = Result<Result<(), sqlx::Error>, Error>> + Send + 'a
    where
        for<'e> &'e mut Connection<Self>: sqlx::Executor<'e, Database = Self::DB>,
    {
        async move {
            let finish = Self::finish_statement(session, changes).await?;
            let batch = SqlSession::<Self>::batch(&session.sql, changes, finish);
            Ok(session.run_own_transaction(batch).await)
        }
    }

    /// The last statement of [`SqlBackend::run_in_transaction`]'s default
    /// batch, which writes the tracking rows and the state under the state
    /// guard: by default [`TrackingSql::finish_batch_literal`]. PostgreSQL
    /// executes a statement it prepared once per run instead.
    fn finish_statement<'a>(
        session: &'a mut SqlSession<Self>,
        changes: &'a [Change<'a>],
    ) -> impl Future<Output = Result<String, Error>> + Send + 'a {
        async move { Ok(session.sql.finish_batch_literal(changes)) }
    }

    /// Whether DDL is transactional: group mode runs only where it is.
    const TRANSACTIONAL_DDL: bool;

    /// Whether the connection must be closed rather than handed back to the
    /// pool: a lock or session setting whose release was not confirmed.
    fn must_close(&self) -> bool {
        false
    }

    /// Called when the session is dropped with its connection (unless
    /// `must_close`): a backend that changed a session setting and was
    /// dropped before giving it back (a cancelled run) takes the connection
    /// to restore it first.
    fn on_drop(&mut self, conn: &mut Option<PoolConnection<Self::DB>>) {
        let _ = conn;
    }
}

/// The session's pooled connection, taken out only when the session is
/// dropped (to restore a setting first, see [`SqlBackend::restore_on_drop`]).
pub(crate) struct Pooled<DB: sqlx::Database>(Option<PoolConnection<DB>>);

impl<DB: sqlx::Database> std::ops::Deref for Pooled<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        self.0.as_ref().expect("the connection is taken only on drop")
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for Pooled<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.0.as_mut().expect("the connection is taken only on drop")
    }
}

/// One sqlx connection of the user's pool, for one operation.
pub(crate) struct SqlSession<B: SqlBackend> {
    pub conn: Pooled<B::DB>,
    pub sql: TrackingSql,
    pub backend: B,
    /// A batch began a transaction of its own that sqlx does not know of,
    /// and its end (COMMIT, or ROLLBACK after a failure) was not confirmed.
    pub open_transaction: bool,
}

impl<B: SqlBackend> Drop for SqlSession<B> {
    fn drop(&mut self) {
        if self.backend.must_close() || self.open_transaction {
            // Back in the pool, this connection would keep the lock (or the
            // changed setting, or a transaction) for whoever takes it next; closed, the server
            // releases everything the session held.
            if let Some(conn) = self.conn.0.as_mut() {
                conn.close_on_drop();
            }
            return;
        }
        self.backend.on_drop(&mut self.conn.0);
    }
}

/// How long `acquire` waits for the pool before it asks the server itself
/// why no connection comes, and how long that one attempt may take.
const PROBE_AFTER: Duration = Duration::from_secs(1);
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection of `pool`. sqlx retries an unreachable server until the
/// pool's acquire timeout (30 s by default) and then says only "timed out";
/// so when none comes within [`PROBE_AFTER`] while the pool has room for
/// more (it is not merely busy), one direct connection with the
/// pool's own options, bounded by [`PROBE_TIMEOUT`], tells the cause: refused,
/// name not resolved, TLS, authentication. Reachable, the wait goes on.
async fn acquire<B: SqlBackend>(pool: &sqlx::Pool<B::DB>) -> Result<PoolConnection<B::DB>, Error> {
    use sqlx::ConnectOptions;
    let acquire = pool.acquire();
    tokio::pin!(acquire);
    tokio::select! {
        result = &mut acquire => return result.map_err(connect_error::<B>),
        _ = tokio::time::sleep(PROBE_AFTER) => {}
    }
    // With room for another connection, the wait is for opening one (sqlx
    // counts the attempt in `size`), not for a busy pool.
    if pool.size() < pool.options().get_max_connections() {
        let options = pool.connect_options();
        match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
            Ok(Err(err)) => {
                let message = format!("the server could not be reached: {}", B::message(&err));
                return Err(Error::database(B::NAME, "connecting", message).with_source(err));
            }
            Ok(Ok(conn)) => {
                if let Err(err) = sqlx::Connection::close(conn).await {
                    tracing::debug!(error = %err, "closing the probe connection");
                }
            }
            Err(_) => tracing::debug!("the probe connection did not finish within {PROBE_TIMEOUT:?}"),
        }
    }
    acquire.await.map_err(connect_error::<B>)
}

/// sqlx reports a server that never answered as a pool timeout, which
/// alone does not say where to look.
fn connect_error<B: SqlBackend>(err: sqlx::Error) -> Error {
    let message = match err {
        sqlx::Error::PoolTimedOut => "no connection within the pool's acquire timeout: the server is down or \
                                      unreachable, or every connection of the pool is in use"
            .to_string(),
        ref other => B::message(other),
    };
    Error::database(B::NAME, "connecting", message).with_source(err)
}

/// The outcome of asking the server to release the migration lock: whether
/// it is free now. A release that failed leaves it counted as held, so the
/// connection is closed on drop and the server frees the lock.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn lock_released(result: Result<bool, sqlx::Error>) -> bool {
    match result {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("the migration lock was no longer held by this connection when releasing it");
            true
        }
        Err(err) => {
            tracing::warn!(error = %err, "releasing the migration lock failed; closing the connection instead");
            false
        }
    }
}

impl<B: SqlBackend> SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    /// Takes a connection from `pool`.
    pub fn open<'a>(
        pool: &'a sqlx::Pool<B::DB>,
        settings: &'a Settings,
        backend: B,
    ) -> BoxFuture<'a, Result<Box<dyn Session + 'a>, Error>> {
        Box::pin(async move {
            let conn = acquire::<B>(pool).await?;
            let session: Box<dyn Session + 'a> = Box::new(SqlSession {
                conn: Pooled(Some(conn)),
                sql: TrackingSql::new(B::SQL, settings),
                backend,
                open_transaction: false,
            });
            Ok(session)
        })
    }

    /// A driver error as ours; a checksum that did not decode is
    /// `CorruptChecksum`, naming the row and the text.
    pub fn db_err(operation: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
        move |err| match err {
            sqlx::Error::Decode(inner) => match inner.downcast::<CorruptChecksum>() {
                Ok(corrupt) => corrupt.into_error(B::NAME),
                Err(inner) => {
                    let err = sqlx::Error::Decode(inner);
                    Error::database(B::NAME, operation, B::message(&err)).with_source(err)
                }
            },
            err => Error::database(B::NAME, operation, B::message(&err)).with_source(err),
        }
    }

    /// Runs the statements of a change one by one, so that an error names
    /// its statement (and so that a file is never turned into one implicit
    /// transaction by a multi-statement query).
    pub async fn run_statements(
        conn: &mut Connection<B>,
        change: &Change<'_>,
        in_transaction: bool,
    ) -> Result<(), Error> {
        let script = change.migration.script(change.direction);
        for statement in split(script.text, B::DIALECT) {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.text)).execute(&mut *conn).await {
                let line = B::error_line(&err, statement.text, statement.line);
                return Err(change
                    .failed(statement.text, line, B::message(&err), in_transaction)
                    .with_source(err));
            }
        }
        Ok(())
    }

    /// Fails with `Conflict` unless the state row is the one the plan was
    /// made on; where the database can, the row stays locked until the
    /// transaction ends.
    pub async fn check_state(conn: &mut Connection<B>, sql: &TrackingSql, expected: &State) -> Result<(), Error> {
        let state = B::DB::fetch_state(conn, sql.select_state_for_update())
            .await
            .map_err(Self::db_err("reading the state"))?;
        if state == Some(*expected) {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    /// Transactional changes (one, or a group) in one transaction, their
    /// statements and tracking writes in batches rather than one by one.
    /// On PostgreSQL one multi-statement query holds everything, BEGIN and
    /// COMMIT included ([`Self::batch`]: one round trip per migration).
    /// On SQLite the transaction is sqlx's (`BEGIN IMMEDIATE`), the state
    /// guard, each change's statements (timed change by change) and the
    /// tracking writes go to SQLite with its handle borrowed once
    /// ([`Self::timed_batch`]): three hops to sqlx's worker in all, however
    /// many statements and migrations.
    ///
    /// A batch that fails is rolled back and then replayed one statement at
    /// a time in a transaction that is rolled back too ([`Self::replay`]),
    /// so the error names the statement, its line and the database's own
    /// message exactly as if the statements had been sent one by one.
    pub async fn apply_batched(&mut self, changes: &[Change<'_>]) -> Result<(), Error> {
        if changes.is_empty() {
            return Ok(());
        }
        match B::run_in_transaction(self, changes).await? {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.replay(changes, failure).await),
        }
    }

    /// `batch` between a BEGIN and a COMMIT of its own, in one query. A
    /// failure aborts the rest of the query and leaves the transaction
    /// open: it is rolled back here. Until the end is confirmed the session
    /// counts as holding an open transaction, so that a run cancelled
    /// halfway closes the connection rather than hand it back to the pool
    /// inside a transaction.
    async fn run_own_transaction(&mut self, batch: String) -> Result<(), sqlx::Error> {
        let mut query = String::from("BEGIN;\n");
        if let Some(enter) = B::enter_transaction_literal(&self.sql) {
            query.push_str(&enter);
            query.push_str(";\n");
        }
        query.push_str(&batch);
        query.push_str("\nCOMMIT;");
        self.open_transaction = true;
        match sqlx::raw_sql(AssertSqlSafe(query)).execute(&mut *self.conn).await {
            Ok(_) => {
                self.open_transaction = false;
                Ok(())
            }
            Err(err) => {
                // After a failed COMMIT there is no transaction left, and
                // ROLLBACK only warns.
                match sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await {
                    Ok(_) => self.open_transaction = false,
                    Err(rollback) => tracing::debug!(error = %rollback, "rolling back the failed batch"),
                }
                Err(err)
            }
        }
    }

    /// PostgreSQL's batch (it carries its own transaction, see
    /// [`SqlBackend::run_in_transaction`]), without BEGIN and COMMIT: each
    /// change's statements, in a group each change's history row timed by
    /// the server, and the tracking writes folded into one last statement
    /// holding the state guard, `finish` ([`SqlBackend::finish_statement`]).
    fn batch(sql: &TrackingSql, changes: &[Change<'_>], finish: String) -> String {
        let mut parts = Vec::new();
        for change in changes {
            parts.extend(Self::statements(change));
            // One change's history row is part of the folded last statement.
            if changes.len() > 1 {
                parts.push(sql.history_literal(change));
            }
        }
        parts.extend(sql.settle_durations_literal(changes.len()));
        parts.extend(sql.delete_records_literal(changes));
        parts.push(finish);
        join_statements(parts)
    }

    /// The batch of a backend that runs it in a transaction of sqlx's
    /// (SQLite): the state guard, then each change's statements as a script
    /// of its own, which the backend runs and times one after the other
    /// without leaving the thread. The tracking writes follow in a batch of
    /// their own, with the durations known ([`TrackingSql::timed_tracking_literal`]):
    /// timed by the client, a group needs no history insert per change and
    /// no second pass to turn running totals into durations (the cost of
    /// SQLite's group mode, BENCHMARKS.md).
    pub(crate) fn timed_batch(sql: &TrackingSql, changes: &[Change<'_>]) -> (String, Vec<String>) {
        let guard = changes
            .first()
            .map(|first| sql.guard_state(&first.state_before))
            .unwrap_or_default();
        let scripts = changes
            .iter()
            .map(|change| join_statements(Self::statements(change).collect()))
            .collect();
        (guard, scripts)
    }

    fn statements(change: &Change<'_>) -> impl Iterator<Item = String> {
        let script = change.migration.script(change.direction);
        split(script.text, B::DIALECT).into_iter().map(|s| s.text.to_string())
    }

    /// Finds what made a batch fail: the same changes, one statement at a
    /// time, in a transaction that is always rolled back. The first
    /// statement refused is the error, exactly as precise as running it
    /// alone; a state that moved is `Conflict`. If the replay meets no
    /// failure (the cause was transient), the batch's own error is returned.
    async fn replay(&mut self, changes: &[Change<'_>], batch_error: sqlx::Error) -> Error {
        let sql = &self.sql;
        let mut tx = match B::begin(&mut self.conn).await {
            Ok(tx) => tx,
            Err(err) => return err,
        };
        let located = async {
            Self::check_state(&mut tx, sql, &changes[0].state_before).await?;
            B::enter_transaction(&mut tx, sql).await?;
            for change in changes {
                Self::run_statements(&mut tx, change, true).await?;
                B::DB::record_change(&mut tx, sql, change, 0, false)
                    .await
                    .map_err(Self::db_err("recording the migration"))?;
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(err) = tx.rollback().await {
            tracing::debug!(error = %err, "rolling back the replay of a failed batch");
        }
        match located {
            Err(err) => err,
            Ok(()) => Error::database(
                B::NAME,
                "applying the migrations (the batch failed; replayed statement by statement, it did not)",
                B::message(&batch_error),
            ),
        }
    }

    /// The dirty protocol, for `migrate:no-transaction` files: check the
    /// state and mark the change dirty (with its direction) in one
    /// transaction, run the statements outside any, counting each one that
    /// committed in the tracking row, then record the change clean. A
    /// failure or a crash in between leaves the mark and the count for a
    /// person to resolve with `force` or `forget`; a failure of the first
    /// statement committed nothing, so the mark is taken back.
    /// (MySQL sends the same protocol in two round trips: mysql.rs.)
    pub async fn apply_marked(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        {
            let mut tx = B::begin(&mut self.conn).await?;
            Self::check_state(&mut tx, sql, &change.state_before).await?;
            let marked = async {
                B::DB::mark_dirty(&mut tx, sql, change).await?;
                tx.commit().await
            };
            marked.await.map_err(Self::db_err("marking the migration dirty"))?;
        }
        let started = Instant::now();
        let script = change.migration.script(change.direction);
        let version = change.migration.version;
        for (index, statement) in split(script.text, B::DIALECT).into_iter().enumerate() {
            if let Err(err) = sqlx::raw_sql(AssertSqlSafe(statement.text))
                .execute(&mut *self.conn)
                .await
            {
                let line = B::error_line(&err, statement.text, statement.line);
                if index == 0 {
                    self.unmark(change).await?;
                }
                return Err(change
                    .failed_after(statement.text, line, B::message(&err), false, index as u32)
                    .with_source(err));
            }
            B::DB::count_committed(&mut self.conn, &self.sql, version, index as i64 + 1)
                .await
                .map_err(Self::db_err("counting the committed statements"))?;
        }
        let execution_ms = started.elapsed().as_millis() as i64;
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let finish = async {
            B::DB::finish_dirty(&mut tx, sql, change, execution_ms).await?;
            tx.commit().await
        };
        finish.await.map_err(Self::db_err("recording the migration"))
    }

    /// Takes back the dirty mark of a change whose first statement failed.
    pub async fn unmark(&mut self, change: &Change<'_>) -> Result<(), Error> {
        let sql = &self.sql;
        let mut tx = B::begin(&mut self.conn).await?;
        let undo = async {
            B::DB::unmark_dirty(&mut tx, sql, change).await?;
            tx.commit().await
        };
        undo.await.map_err(Self::db_err("taking back the dirty mark"))
    }

    /// Adds the columns a tracking table of an older release lacks
    /// (`run_columns`), under the lock, each once: a table that has them
    /// costs one probe.
    pub async fn upgrade(&mut self) -> Result<(), Error> {
        let columns = self.sql.run_columns();
        let all = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        if sqlx::raw_sql(AssertSqlSafe(self.sql.probe_column(&all)))
            .execute(&mut *self.conn)
            .await
            .is_ok()
        {
            return Ok(());
        }
        for (name, ty) in columns {
            let present = sqlx::raw_sql(AssertSqlSafe(self.sql.probe_column(name)))
                .execute(&mut *self.conn)
                .await
                .is_ok();
            if !present {
                sqlx::raw_sql(AssertSqlSafe(self.sql.add_column(name, ty)))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(Self::db_err("upgrading the tracking table"))?;
            }
        }
        Ok(())
    }
}

impl<B: SqlBackend> Session for SqlSession<B>
where
    for<'c> &'c mut Connection<B>: sqlx::Executor<'c, Database = B::DB>,
{
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn dialect(&self) -> Dialect {
        B::DIALECT
    }

    /// Never on MySQL, whose DDL commits implicitly.
    fn runs_in_transaction(&self, script: &crate::Script) -> bool {
        B::TRANSACTIONAL_DDL && !script.no_transaction
    }

    fn read_state(&mut self) -> BoxFuture<'_, Result<Option<State>, Error>> {
        Box::pin(async move {
            match B::DB::fetch_state(&mut self.conn, self.sql.select_state()).await {
                Ok(state) => Ok(state),
                Err(err) if B::no_such_table(&err) => Ok(None),
                Err(err) => match B::state_table_exists(self).await? {
                    true => Err(Self::db_err("reading the state")(err)),
                    false => Ok(None),
                },
            }
        })
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            B::prepare(self).await?;
            self.upgrade().await
        })
    }

    fn lock(&mut self, timeout: Duration) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::lock(self, timeout))
    }

    fn unlock(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(B::unlock(self))
    }

    fn read_applied(&mut self) -> BoxFuture<'_, Result<Vec<AppliedMigration>, Error>> {
        Box::pin(async move {
            B::DB::fetch_applied(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the tracking table"))
        })
    }

    fn read_history(&mut self) -> BoxFuture<'_, Result<Vec<HistoryEntry>, Error>> {
        Box::pin(async move {
            B::DB::fetch_history(&mut self.conn, &self.sql)
                .await
                .map_err(Self::db_err("reading the history table"))
        })
    }

    fn apply<'a>(&'a mut self, change: &'a Change<'a>, _timeout: Duration) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(B::apply(self, change))
    }

    fn apply_group<'a>(
        &'a mut self,
        changes: &'a [Change<'a>],
        _timeout: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if !B::TRANSACTIONAL_DDL {
                return Err(Error::Unsupported {
                    backend: B::NAME,
                    what: "group mode (all migrations in one transaction)".to_string(),
                });
            }
            self.apply_batched(changes).await
        })
    }

    fn read_foreign<'a>(
        &'a mut self,
        table: &'a str,
        columns: &'a [crate::backend::ForeignColumn],
    ) -> BoxFuture<'a, Result<Vec<Vec<Option<String>>>, Error>> {
        Box::pin(async move {
            let query = self.sql.select_foreign(table, columns);
            let operation = format!("reading `{table}`");
            B::DB::fetch_text(&mut self.conn, query, columns.len())
                .await
                .map_err(|err| Error::database(B::NAME, operation.as_str(), B::message(&err)))
        })
    }

    /// Every row, its history row and the final state in one transaction,
    /// after checking the state (MySQL too: these are data writes, no DDL).
    fn record_applied<'a>(&'a mut self, changes: &'a [Change<'a>]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
                return Ok(());
            };
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            Self::check_state(&mut tx, sql, &first.state_before).await?;
            let write = async {
                for change in changes {
                    B::DB::record_change(&mut tx, sql, change, 0, false).await?;
                }
                B::DB::write_state(&mut tx, sql, &last.state_after).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("recording migrations as applied"))
        })
    }

    fn read_checkpoint(&mut self, version: i64) -> BoxFuture<'_, Result<Option<crate::backend::Checkpoint>, Error>> {
        Box::pin(SqlSession::read_checkpoint(self, version))
    }

    fn run_batch<'a>(
        &'a mut self,
        batch: &'a crate::backend::Batch<'a>,
    ) -> BoxFuture<'a, Result<crate::backend::BatchDone, Error>> {
        Box::pin(SqlSession::run_batch(self, batch))
    }

    fn count_rows<'a>(&'a mut self, query: &'a str) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(SqlSession::count_rows(self, query))
    }

    fn record_failure<'a>(&'a mut self, entry: &'a HistoryEntry) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            B::DB::insert_history(&mut self.conn, &self.sql, entry)
                .await
                .map_err(Self::db_err("recording the failure"))
        })
    }

    fn set_record<'a>(
        &'a mut self,
        version: i64,
        record: Option<&'a AppliedMigration>,
        state: &'a State,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let sql = &self.sql;
            let mut tx = B::begin(&mut self.conn).await?;
            let write = async {
                B::DB::replace_record(&mut tx, sql, version, record, state).await?;
                tx.commit().await
            };
            write.await.map_err(Self::db_err("updating the tracking table"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(dialect: SqlDialect, text: &str) -> String {
        TrackingSql::new(dialect, &Settings::default()).literal(text)
    }

    #[test]
    fn literals_double_what_their_dialect_quotes() {
        let text = "it's ''é\\' \\";
        assert_eq!(literal(SqlDialect::Sqlite, text), "'it''s ''''é\\'' \\'");
        assert_eq!(literal(SqlDialect::Postgres, text), "E'it''s ''''é\\\\'' \\\\'");
        assert_eq!(literal(SqlDialect::MySql, "A'é"), "_utf8mb4 X'4127C3A9'");
        for dialect in [SqlDialect::Sqlite, SqlDialect::Postgres] {
            assert_eq!(literal(dialect, "").trim_start_matches('E'), "''");
            assert_eq!(literal(dialect, "'").trim_start_matches('E'), "''''");
        }
        assert_eq!(literal(SqlDialect::MySql, ""), "''");
    }
}
