//! The tracking tables' statements, written once for SQLite, PostgreSQL
//! and MySQL: `<table>` (a row per applied migration), `<table>_history` (a
//! row per run) and `<table>_state` (one row: the summary the boot check
//! reads). The texts differ per dialect only in quoting, types and
//! placeholders. What only one database sends (PostgreSQL's one-query
//! batch, MySQL's two-trip dirty protocol, SQLite's timed batch) is in
//! that database's folder, built from these pieces.

// The plain drivers (driver/) use a subset of these statements.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]

use super::text::SqlText;
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "rusqlite",
    feature = "tokio-postgres"
))]
use crate::backend::Change;
use crate::backend::{ForeignColumn, State};
use crate::core::split::Dialect;
use crate::core::timeout::Timeouts;
use crate::records::HistoryEntry;
use crate::{Checksum, Direction, Settings};

/// Statement texts for one tracking table and its siblings.
pub(crate) struct TrackingSql {
    pub dialect: Dialect,
    /// The quoted schema (PostgreSQL) or database (MySQL), when one is set.
    pub schema: Option<String>,
    pub table: String,
    pub history: String,
    pub state: String,
    /// The checkpoint table of batch migrations (sql/checkpoint.rs).
    pub batch: String,
    /// The migrations' timeouts where their files set none (`Settings`).
    pub timeouts: Timeouts,
}

impl TrackingSql {
    /// The tables of `settings` in `dialect` (SQLite, PostgreSQL or MySQL).
    /// `settings` must have passed `Settings::check`: names are identifiers.
    pub(crate) fn new(dialect: Dialect, settings: &Settings) -> Self {
        let schema = settings.schema_name();
        let base = settings.table_name();
        TrackingSql {
            dialect,
            schema: schema.map(|schema| dialect.quote(schema)),
            table: dialect.qualified(schema, base),
            history: Self::sibling(dialect, settings, "history"),
            state: Self::sibling(dialect, settings, "state"),
            batch: Self::sibling(dialect, settings, "batch"),
            timeouts: settings.timeouts,
        }
    }

    /// The timeouts `script` runs with: its `migrate:timeout`, and the
    /// settings' where it sets none. (Its header passed the build's check.)
    pub(crate) fn timeouts_of(&self, script: &crate::Script) -> Timeouts {
        let header = crate::core::parse_header(script.text, crate::core::Language::Sql).unwrap_or_default();
        Timeouts::from_header(&header).unwrap_or_default().or(self.timeouts)
    }

    /// The bare names of every table this crate keeps beside a migration
    /// set (tracking, history, state, batch checkpoints, schema record,
    /// the lock row of `LockMode::Table`): what a schema snapshot leaves out.
    pub(crate) fn all_tables(settings: &Settings) -> [String; 6] {
        let base = settings.table_name();
        ["", "_history", "_state", "_batch", "_schema", "_lock"].map(|suffix| format!("{base}{suffix}"))
    }

    /// A sibling table of the tracking tables, `<table>_<suffix>`, quoted
    /// and qualified as they are (the batch checkpoints, the schema record).
    pub(crate) fn sibling(dialect: Dialect, settings: &Settings, suffix: &str) -> String {
        dialect.qualified(settings.schema_name(), &format!("{}_{suffix}", settings.table_name()))
    }

    /// PostgreSQL's advisory lock key for the tracking table `table` in
    /// `schema` ("" for the connection's current schema): stable across
    /// processes, versions and platforms, different for two tracking tables
    /// of one database, and the same for every driver, so that the sqlx and
    /// tokio-postgres backends exclude each other.
    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    pub(crate) fn advisory_key(schema: &str, table: &str) -> i64 {
        let digest = crate::core::checksum(&format!("embedded_migrations:{schema}.{table}"));
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest.0[..8]);
        i64::from_be_bytes(bytes)
    }

    /// Creates the three tables and the state row, each statement idempotent.
    pub(crate) fn create(&self) -> Vec<String> {
        let (int, text, flag, key, history_id) = match self.dialect {
            Dialect::Sqlite => (
                "INTEGER",
                "TEXT",
                "INTEGER",
                "INTEGER",
                "INTEGER PRIMARY KEY AUTOINCREMENT",
            ),
            Dialect::MySql => (
                "BIGINT",
                "VARCHAR(255)",
                "BOOLEAN",
                "BIGINT",
                "BIGINT AUTO_INCREMENT PRIMARY KEY",
            ),
            _ => ("BIGINT", "TEXT", "BOOLEAN", "BIGINT", "BIGSERIAL PRIMARY KEY"),
        };
        let long_text = if self.dialect == Dialect::MySql { "TEXT" } else { text };
        let insert_state = match self.dialect {
            Dialect::Sqlite => "INSERT OR IGNORE INTO",
            Dialect::MySql => "INSERT IGNORE INTO",
            _ => "INSERT INTO",
        };
        let on_conflict = if self.dialect == Dialect::Postgres {
            " ON CONFLICT (id) DO NOTHING"
        } else {
            ""
        };
        let false_value = self.dialect.flag(false);
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
                 error {long_text}, reason {long_text}, {placeholders} {long_text})",
                self.history,
                placeholders = Self::HISTORY_PLACEHOLDERS,
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (id {int} PRIMARY KEY, applied_count {int} NOT NULL, last_version {int} NOT NULL, \
                 chain {text} NOT NULL, dirty {flag} NOT NULL)",
                self.state
            ),
            format!(
                "{insert_state} {} (id, applied_count, last_version, chain, dirty) VALUES (1, 0, 0, '{}', {false_value}){on_conflict}",
                self.state,
                Checksum::ZERO.to_hex()
            ),
        ]
    }

    /// The columns of the dirty protocol's record of a run in progress (or
    /// cut off): its direction and how many statements committed. NULL on a
    /// clean row. Added after the first release: [`Self::add_column`]
    /// upgrades an older table.
    pub(crate) fn run_columns(&self) -> [(&'static str, &'static str); 2] {
        let (text, int) = match self.dialect {
            Dialect::Sqlite => ("TEXT", "INTEGER"),
            Dialect::MySql => ("VARCHAR(8)", "BIGINT"),
            _ => ("TEXT", "BIGINT"),
        };
        [("dirty_direction", text), ("committed_statements", int)]
    }

    /// The history column of the placeholder values a run used. Added
    /// after the first release: `upgrade` adds it to an older table.
    pub(crate) const HISTORY_PLACEHOLDERS: &'static str = "placeholders";

    /// Fails when the history table lacks [`Self::HISTORY_PLACEHOLDERS`].
    pub(crate) fn probe_history_placeholders(&self) -> String {
        format!(
            "SELECT {} FROM {} WHERE 1 = 0",
            Self::HISTORY_PLACEHOLDERS,
            self.history
        )
    }

    /// Adds [`Self::HISTORY_PLACEHOLDERS`] to a history table of an older release.
    pub(crate) fn add_history_placeholders(&self) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {} TEXT",
            self.history,
            Self::HISTORY_PLACEHOLDERS
        )
    }

    /// Fails when the tracking table lacks `column` (a table of an older release).
    pub(crate) fn probe_column(&self, column: &str) -> String {
        format!("SELECT {column} FROM {} WHERE 1 = 0", self.table)
    }

    /// Adds `column` of type `ty` to a tracking table of an older release.
    pub(crate) fn add_column(&self, column: &str, ty: &str) -> String {
        format!("ALTER TABLE {} ADD COLUMN {column} {ty}", self.table)
    }

    /// Creates the schema (PostgreSQL) or database (MySQL) of the tracking
    /// tables, when the settings name one.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn create_schema(&self) -> Option<String> {
        let schema = self.schema.as_ref()?;
        Some(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
    }

    /// [`Self::create_schema`] as one statement that asks for CREATE on
    /// the database only when the schema is missing (PostgreSQL checks the
    /// privilege before `IF NOT EXISTS`): for a transaction that creates
    /// the tracking tables among other statements.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn create_schema_if_missing(&self) -> Option<String> {
        let create = self.create_schema()?;
        let schema = self.schema.as_deref()?;
        match self.dialect {
            Dialect::Postgres => Some(format!(
                "DO $embedded_migrations$ BEGIN IF to_regnamespace({}) IS NULL THEN {create}; END IF; END \
                 $embedded_migrations$",
                self.dialect.literal(schema)
            )),
            _ => Some(create),
        }
    }

    /// The state row, locked until the transaction ends, so that the check
    /// against the plan's state and the change after it cannot interleave
    /// with another writer.
    /// (SQLite has no `FOR UPDATE`: its write transaction already
    /// excludes every other writer.)
    pub(crate) fn select_state_for_update(&self) -> String {
        match self.dialect {
            Dialect::Sqlite => self.select_state(),
            _ => format!("{} FOR UPDATE", self.select_state()),
        }
    }

    /// The state row.
    pub(crate) fn select_state(&self) -> String {
        format!(
            "SELECT applied_count, last_version, chain, dirty FROM {} WHERE id = 1",
            self.state
        )
    }

    /// Every tracking row, in version order.
    pub(crate) fn select_applied(&self) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty, dirty_direction, committed_statements \
             FROM {} ORDER BY version",
            self.table
        )
    }

    /// `select_applied` for a table not upgraded yet (read-only operations
    /// never alter it).
    pub(crate) fn select_applied_legacy(&self) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, execution_ms, dirty FROM {} ORDER BY version",
            self.table
        )
    }

    /// Every history row, oldest first.
    pub(crate) fn select_history(&self) -> String {
        format!(
            "SELECT version, name, direction, started_at, duration_ms, success, error, reason, placeholders FROM {} \
             ORDER BY id",
            self.history
        )
    }

    /// `select_history` for a history table not upgraded yet.
    pub(crate) fn select_history_legacy(&self) -> String {
        format!(
            "SELECT version, name, direction, started_at, duration_ms, success, error, reason FROM {} ORDER BY id",
            self.history
        )
    }

    /// version, name, checksum, applied_at, execution_ms, dirty
    pub(crate) fn insert_record(&self) -> String {
        self.upsert_record(&self.dialect.params(6))
    }

    /// The tracking row written with `values`, replacing the row of its
    /// version if there is one: a repeatable migration applied again after
    /// its text changed. (A versioned migration never has a row when it is
    /// applied: the state check before every change sees to that.)
    pub(crate) fn upsert_record(&self, values: &str) -> String {
        let columns = "(version, name, checksum, applied_at, execution_ms, dirty)";
        match self.dialect {
            Dialect::Sqlite => format!("INSERT OR REPLACE INTO {} {columns} VALUES ({values})", self.table),
            Dialect::MySql => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON DUPLICATE KEY UPDATE name = VALUES(name), \
                 checksum = VALUES(checksum), applied_at = VALUES(applied_at), execution_ms = VALUES(execution_ms), \
                 dirty = VALUES(dirty)",
                self.table
            ),
            _ => format!(
                "INSERT INTO {} {columns} VALUES ({values}) ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, \
                 checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at, execution_ms = EXCLUDED.execution_ms, \
                 dirty = EXCLUDED.dirty",
                self.table
            ),
        }
    }

    /// execution_ms, version: marks a dirty row clean.
    pub(crate) fn finish_record(&self) -> String {
        format!(
            "UPDATE {} SET execution_ms = {}, dirty = {}, dirty_direction = NULL, committed_statements = NULL \
             WHERE version = {}",
            self.table,
            self.dialect.param(1),
            self.dialect.flag(false),
            self.dialect.param(2)
        )
    }

    /// version: marks a row dirty for a run of `direction` that has
    /// committed no statement yet, or (`None`) clean again.
    pub(crate) fn set_dirty(&self, direction: Option<Direction>) -> String {
        let (dirty, direction, committed) = match direction {
            Some(direction) => (true, format!("'{}'", direction.as_str()), "0"),
            None => (false, "NULL".to_string(), "NULL"),
        };
        format!(
            "UPDATE {} SET dirty = {}, dirty_direction = {direction}, committed_statements = {committed} WHERE version = {}",
            self.table,
            self.dialect.flag(dirty),
            self.dialect.param(1)
        )
    }

    /// committed_statements, version: one more statement of a dirty run committed.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn count_committed(&self) -> String {
        format!(
            "UPDATE {} SET committed_statements = {} WHERE version = {}",
            self.table,
            self.dialect.param(1),
            self.dialect.param(2)
        )
    }

    /// version: the tracking row removed.
    pub(crate) fn delete_record(&self) -> String {
        format!("DELETE FROM {} WHERE version = {}", self.table, self.dialect.param(1))
    }

    /// applied_count, last_version, chain, dirty
    pub(crate) fn write_state(&self) -> String {
        format!(
            "UPDATE {} SET applied_count = {}, last_version = {}, chain = {}, dirty = {} WHERE id = 1",
            self.state,
            self.dialect.param(1),
            self.dialect.param(2),
            self.dialect.param(3),
            self.dialect.param(4)
        )
    }

    /// version, name, direction, started_at, duration_ms, success, error, reason, placeholders
    pub(crate) fn insert_history(&self) -> String {
        format!("{} VALUES ({})", self.insert_into_history(), self.dialect.params(9))
    }

    /// The head of a history `INSERT`, before its `VALUES`.
    pub(crate) fn insert_into_history(&self) -> String {
        format!(
            "INSERT INTO {} (version, name, direction, started_at, duration_ms, success, error, reason, placeholders)",
            self.history
        )
    }

    /// The condition "the state row is `expected`", on the row `id = 1`.
    pub(crate) fn state_is(&self, expected: &State) -> String {
        Self::state_matches(&self.state_parts(expected))
    }

    /// The state row's four columns as SQL literals, in column order.
    pub(crate) fn state_parts(&self, state: &State) -> [String; 4] {
        [
            state.applied_count.to_string(),
            state.last_version.to_string(),
            self.dialect.literal(&state.chain.to_hex()),
            self.dialect.flag(state.dirty).to_string(),
        ]
    }

    /// [`Self::state_is`] from the four column values (literals or parameters).
    pub(crate) fn state_matches(parts: &[String]) -> String {
        format!(
            "id = 1 AND applied_count = {} AND last_version = {} AND chain = {} AND dirty = {}",
            parts[0], parts[1], parts[2], parts[3]
        )
    }

    /// The `SET` list writing `state` into the state row.
    pub(crate) fn state_values(&self, state: &State) -> String {
        Self::set_state(&self.state_parts(state))
    }

    /// [`Self::state_values`] from the four column values.
    pub(crate) fn set_state(parts: &[String]) -> String {
        format!(
            "applied_count = {}, last_version = {}, chain = {}, dirty = {}",
            parts[0], parts[1], parts[2], parts[3]
        )
    }

    #[cfg(any(
        feature = "sqlite",
        feature = "mysql",
        feature = "rusqlite",
        feature = "tokio-postgres"
    ))]
    /// The state row set to `state`, as literal SQL.
    pub(crate) fn write_state_literal(&self, state: &State) -> String {
        format!("UPDATE {} SET {} WHERE id = 1", self.state, self.state_values(state))
    }

    #[cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "rusqlite",
        feature = "tokio-postgres"
    ))]
    /// An insert of a state row of NULLs when `condition` is false: NOT
    /// NULL refuses it, so the statement fails exactly then.
    pub(crate) fn refuse_unless(&self, condition: &str) -> String {
        format!(
            "INSERT INTO {} (id, applied_count, last_version, chain, dirty) SELECT 1, NULL, NULL, NULL, NULL \
             WHERE NOT ({condition})",
            self.state,
        )
    }

    #[cfg(feature = "sqlite")]
    /// A statement that fails unless the state row is `expected`: it would
    /// insert a row of NULLs, which NOT NULL refuses (whether or not a state
    /// row exists), and inserts nothing when the state is the expected one.
    /// The batch's stand-in for `check_state`: a failure is told apart from
    /// a conflict afterwards, by the replay.
    pub(crate) fn guard_state(&self, expected: &State) -> String {
        self.refuse_unless(&format!(
            "EXISTS (SELECT 1 FROM {} WHERE {})",
            self.state,
            self.state_is(expected)
        ))
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    /// The row `entry` in parentheses, for a `VALUES` list.
    pub(crate) fn history_values(&self, entry: &HistoryEntry, elapsed: &str) -> String {
        let mut out = String::with_capacity(128);
        self.push_history_values(&mut out, entry, elapsed);
        out
    }

    /// [`Self::history_values`] appended to `out`.
    pub(crate) fn push_history_values(&self, out: &mut String, entry: &HistoryEntry, elapsed: impl std::fmt::Display) {
        use std::fmt::Write;
        let _ = write!(out, "({}, ", entry.version);
        self.dialect.push_literal(out, &entry.name);
        out.push_str(", ");
        self.dialect.push_literal(out, entry.direction.as_str());
        out.push_str(", ");
        self.dialect.push_literal(out, &entry.started_at);
        let _ = write!(out, ", {elapsed}, {}, ", self.dialect.flag(entry.success));
        self.dialect.push_optional_literal(out, entry.error.as_deref());
        out.push_str(", ");
        self.dialect.push_optional_literal(out, entry.reason.as_deref());
        out.push_str(", ");
        self.dialect.push_optional_literal(out, entry.placeholders.as_deref());
        out.push(')');
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    /// The history row `entry` as one literal INSERT, its duration the SQL
    /// expression `elapsed` (evaluated by the database, inside the batch).
    pub(crate) fn history_row_literal(&self, entry: &HistoryEntry, elapsed: &str) -> String {
        format!(
            "{} VALUES {}",
            self.insert_into_history(),
            self.history_values(entry, elapsed)
        )
    }

    #[cfg(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "rusqlite",
        feature = "tokio-postgres"
    ))]
    /// One `DELETE` of the tracking rows a batch's `changes` replace: the
    /// rows of the migrations it reverts and of the repeatable ones it
    /// applies again (negative keys). None when there are none: a
    /// versioned migration never has a row when it is applied (the state
    /// guard sees to that), so a batch of such migrations deletes nothing.
    pub(crate) fn delete_records_literal(&self, changes: &[Change<'_>]) -> Option<String> {
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

    #[cfg(any(feature = "sqlite", feature = "rusqlite", feature = "tokio-postgres"))]
    /// The tracking writes of a batch whose changes' statements ran, the
    /// durations in milliseconds one per change (numbers the client
    /// measured, or SQL the server evaluates): every history row in one `INSERT`, the rows the
    /// batch replaces deleted, every tracking row in one `INSERT`, and the
    /// new state. Four statements however many changes; the state guard ran
    /// before the changes' statements.
    pub(crate) fn batch_writes(&self, changes: &[Change<'_>], durations_ms: &[impl std::fmt::Display]) -> Vec<String> {
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
            self.dialect.push_literal(&mut records, &row.name);
            records.push_str(", ");
            self.dialect.push_literal(&mut records, &row.checksum.to_hex());
            records.push_str(", ");
            self.dialect.push_literal(&mut records, &row.applied_at);
            let _ = write!(records, ", {ms}, {})", self.dialect.flag(false));
        }
        if any_record {
            statements.push(records);
        }
        statements.push(self.write_state_literal(&last.state_after));
        statements
    }

    /// Another tool's history table, every column cast to text (hex for
    /// binary columns), so that one decoder reads every dialect.
    pub(crate) fn select_foreign(&self, table: &str, columns: &[ForeignColumn]) -> String {
        let list: Vec<String> = columns
            .iter()
            .map(|column| match (column, self.dialect) {
                (ForeignColumn::Text(c), Dialect::MySql) => format!("CAST({c} AS CHAR)"),
                (ForeignColumn::Text(c), _) => format!("CAST({c} AS TEXT)"),
                (ForeignColumn::Hex(c), Dialect::Postgres) => format!("encode({c}, 'hex')"),
                (ForeignColumn::Hex(c), _) => format!("lower(hex({c}))"),
            })
            .collect();
        format!("SELECT {} FROM {table}", list.join(", "))
    }
}
