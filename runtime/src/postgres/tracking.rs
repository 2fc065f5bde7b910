//! PostgreSQL's own tracking statements: the end of its one-query batch,
//! where the tracking writes are folded into one data-modifying `WITH`
//! under the state guard, timed by the server, and that statement prepared
//! once per run.

use crate::backend::Change;
use crate::records::{AppliedMigration, HistoryEntry};
use crate::sql::text::SqlText;
use crate::sql::tracking::TrackingSql;

/// PostgreSQL's types of [`PgTracking::finish_one`]'s values: the state
/// after, the state before, the history row but its duration, the tracking
/// row but its duration and flag.
const FINISH_ONE_TYPES: [&str; 20] = [
    "bigint", "bigint", "text", "boolean", "bigint", "bigint", "text", "boolean", "bigint", "text", "text", "text",
    "boolean", "text", "text", "bigint", "text", "text", "text", "text",
];

/// The tracking statements of PostgreSQL's batch, on top of the shared ones.
pub(super) struct PgTracking<'a> {
    sql: &'a TrackingSql,
}

impl std::ops::Deref for PgTracking<'_> {
    type Target = TrackingSql;

    fn deref(&self) -> &TrackingSql {
        self.sql
    }
}

impl<'a> PgTracking<'a> {
    pub(super) fn new(sql: &'a TrackingSql) -> Self {
        PgTracking { sql }
    }

    /// Milliseconds since the server received the batch, computed when the
    /// statement runs, so that a change's duration is written in the same
    /// trip as its statements (PostgreSQL's batch, which carries its own
    /// transaction; SQLite's batch is timed by the client instead).
    fn elapsed_ms(&self) -> &'static str {
        "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::bigint"
    }

    /// The tracking schema first on the search path for the transaction,
    /// as literal SQL for a batch (see search_path.rs).
    pub(super) fn enter_schema_literal(&self) -> Option<String> {
        let schema = self.dialect.literal(self.schema.as_ref()?);
        Some(format!(
            "SELECT set_config('search_path', CASE WHEN current_setting('search_path') = '' THEN {schema} \
             ELSE {schema} || ', ' || current_setting('search_path') END, true)"
        ))
    }

    /// A change's history row, as literal SQL for the batch, written right
    /// after the change's statements. Its `duration_ms` is first the time
    /// since the batch began (a cheap clock read, where subtracting the
    /// earlier changes' rows here would read k rows for the k-th change of a
    /// group); [`Self::settle_durations_literal`] turns these running totals
    /// into each change's own duration once the group's statements are done.
    pub(super) fn history_literal(&self, change: &Change<'_>) -> String {
        // Clocks read at millisecond precision and rounded differently can
        // put the end a millisecond before the start: never below zero.
        let elapsed = self.greatest("0", self.elapsed_ms());
        self.history_row_literal(&change.history, &elapsed)
    }

    /// One statement turning the running totals of the batch's `count`
    /// history rows (the last ones: the batch holds the write lock, or the
    /// migration lock on PostgreSQL) into each change's own duration: none
    /// needed for one. The new values are computed from the old ones first
    /// (a window over the last `count` rows, read backwards through the
    /// primary key), then written by primary key.
    pub(super) fn settle_durations_literal(&self, count: usize) -> Option<String> {
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
                    self.dialect.literal(&row.name),
                    self.dialect.literal(&row.checksum.to_hex()),
                    self.dialect.literal(&row.applied_at),
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
    pub(super) fn finish_batch_literal(&self, changes: &[Change<'_>]) -> String {
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
            self.dialect.flag(false),
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
        values.extend(self.sql.state_parts(&change.state_after));
        values.extend(self.sql.state_parts(&change.state_before));
        values.extend(self.history_parts(&change.history));
        values.extend([
            record.version.to_string(),
            self.dialect.literal(&record.name),
            self.dialect.literal(&record.checksum.to_hex()),
            self.dialect.literal(&record.applied_at),
        ]);
        // Last, so that the history row's other columns keep their places.
        values.push(self.dialect.optional_literal(change.history.placeholders.as_deref()));
        Some(values)
    }

    /// The change of a batch of one that applies a migration, and its
    /// tracking row: the batches [`Self::finish_one`] ends.
    pub(super) fn one_applied<'c>(changes: &'c [Change<'_>]) -> Option<(&'c Change<'c>, &'c AppliedMigration)> {
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
            set = TrackingSql::set_state(&v[0..4]),
            matches = TrackingSql::state_matches(&v[4..8]),
            clean = self.dialect.flag(false),
            history = self.insert_into_history(),
            row = Self::history_row(&v[8..15], &v[19], &elapsed),
            table = self.table,
        )
    }

    /// PostgreSQL: [`Self::finish_one`] as a prepared statement `name`. The
    /// server plans the literal form again for every migration, and after
    /// the migration's own DDL has emptied its catalog caches that planning
    /// cost more than the rest of the tracking, measured with pg_stat_statements;
    /// a prepared statement keeps its plan across the run.
    pub(super) fn prepare_finish_one(&self, name: &str) -> String {
        let params: Vec<String> = (1..=FINISH_ONE_TYPES.len()).map(|i| self.dialect.param(i)).collect();
        format!(
            "PREPARE {name} ({}) AS {}",
            FINISH_ONE_TYPES.join(", "),
            self.finish_one(&params)
        )
    }

    /// The `EXECUTE` of [`Self::prepare_finish_one`]'s statement for a batch
    /// of one change with a tracking row; none for other batches.
    pub(super) fn execute_finish_one(&self, name: &str, changes: &[Change<'_>]) -> Option<String> {
        let values = self.finish_one_values(changes)?;
        Some(format!("EXECUTE {name}({})", values.join(", ")))
    }

    /// A history row's columns but its duration, as SQL literals, in
    /// column order.
    fn history_parts(&self, entry: &HistoryEntry) -> [String; 7] {
        [
            entry.version.to_string(),
            self.dialect.literal(&entry.name),
            self.dialect.literal(entry.direction.as_str()),
            self.dialect.literal(&entry.started_at),
            self.dialect.flag(entry.success).to_string(),
            self.dialect.optional_literal(entry.error.as_deref()),
            self.dialect.optional_literal(entry.reason.as_deref()),
        ]
    }

    /// [`TrackingSql::history_values`] from the seven values, the
    /// placeholders and the duration.
    fn history_row(parts: &[String], placeholders: &str, elapsed: &str) -> String {
        format!(
            "({}, {}, {}, {}, {elapsed}, {}, {}, {}, {placeholders})",
            parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]
        )
    }

    /// `GREATEST(a, b)`.
    fn greatest(&self, a: &str, b: &str) -> String {
        format!("GREATEST({a}, {b})")
    }
}
