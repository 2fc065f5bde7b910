//! What the commands print for people: the status and history tables, the
//! plan as a script, the readiness line, the total over several sets, and
//! the durations they show. Each returns a `String`; the command prints it.

use super::set::Set;
use crate::core::split::is_cypher_schema;
use crate::core::Language;
use crate::{
    Error, HistoryEntry, MigrationState, Plan, PlannedBatch, PlannedStep, Readiness, ReadinessState, Status,
    StatusEntry, TenantsStatus,
};
use std::fmt::Write as _;
use std::time::Duration;

pub(super) fn format_duration(duration: Duration) -> String {
    format_ms(duration.as_millis() as i64)
}

fn format_ms(ms: i64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl Set<'_, '_> {
    /// The comment marker of this set's language, for the plan script.
    fn comment(&self) -> &'static str {
        self.target.language().comment()
    }

    pub(super) fn readiness_line(&self, readiness: &Readiness) -> String {
        let latest = self.v(readiness.latest_version);
        match (readiness.state, readiness.current_version) {
            (ReadinessState::Ready, Some(current)) => format!("ready: at version {}, the latest", self.v(current)),
            (ReadinessState::Pending, Some(current)) => format!(
                "not ready: {} pending; at version {}, latest {latest}",
                readiness.pending_count,
                self.v(current)
            ),
            (state, Some(current)) => format!(
                "not ready: {}; at version {}, latest {latest}",
                state.as_str(),
                self.v(current)
            ),
            (state, None) => format!("not ready: {} (the database could not be read)", state.as_str()),
        }
    }

    /// The plan as a script a person could read or paste: one comment line
    /// per migration, then its statements exactly as they would be sent.
    /// `label`: `dry run` or `plan`, the command that printed it.
    pub(super) fn plan_text(&self, plan: &Plan, verb: &str, label: &str) -> String {
        let c = self.comment();
        let mut out = String::new();
        if plan.steps.is_empty() {
            let _ = writeln!(out, "{c} {label}: nothing would be {verb}");
            return out;
        }
        let _ = writeln!(
            out,
            "{c} {label}: {} migration(s) would be {verb}, in this order; nothing was changed",
            plan.steps.len()
        );
        let total = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate() {
            let language = Language::of_file(&step.file);
            let self_batched = language == Some(Language::Cypher);
            let chroma = language == Some(Language::Chroma);
            let mode = if chroma {
                chroma_mode(step)
            } else {
                step_mode(step, self_batched)
            };
            let _ = writeln!(
                out,
                "\n{c} [{}/{total}] {} {} {}: {} ({})",
                i + 1,
                step.direction.as_str(),
                self.v(step.version),
                step.name,
                step.file,
                mode
            );
            out.push_str(&statements_text(c, step, self_batched, !chroma));
            match &step.batch {
                Some(batch) if chroma => {
                    let _ = writeln!(
                        out,
                        "{c} {} records per batch, the checkpoint written after each",
                        batch.size
                    );
                }
                Some(batch) => out.push_str(&batch_plan_text(c, batch, self_batched)),
                None => {}
            }
        }
        out
    }

    pub(super) fn status_table(&self, status: &Status) -> String {
        let header = ["version", "name", "description", "state", "applied at", "duration"];
        let rows: Vec<[String; 6]> = status
            .entries
            .iter()
            .map(|e| {
                [
                    self.v(e.version),
                    e.name.clone(),
                    truncate(e.description.as_deref().unwrap_or(""), 48),
                    entry_state(e),
                    e.applied_at.clone().unwrap_or_else(|| "-".to_string()),
                    e.execution_ms.map_or_else(|| "-".to_string(), format_ms),
                ]
            })
            .collect();
        let mut out = table(&header, &rows);
        out.push_str(&self.status_summary(status));
        out
    }

    /// The lines under the status table: versions, counts, problems, warnings.
    fn status_summary(&self, status: &Status) -> String {
        let mut problems = Vec::new();
        for state in [MigrationState::Drifted, MigrationState::Missing, MigrationState::Dirty] {
            let n = status.count(state);
            if n > 0 {
                problems.push(format!("{n} {}", state.as_str()));
            }
        }
        let mut out = format!(
            "\ncurrent version {}, latest {}: {} applied, {} pending",
            self.v(status.current_version()),
            self.v(status.latest_version()),
            status.applied_count(),
            status.pending_count()
        );
        if !problems.is_empty() {
            let _ = write!(out, ", {} (see `migrate validate`)", problems.join(", "));
        }
        out.push('\n');
        for warning in &status.warnings {
            let _ = writeln!(out, "WARNING: {warning}");
        }
        out
    }

    pub(super) fn history_table(&self, history: &[HistoryEntry]) -> String {
        if history.is_empty() {
            return "no migration has run yet\n".to_string();
        }
        let header = [
            "started at",
            "version",
            "name",
            "direction",
            "duration",
            "result",
            "reason",
        ];
        let rows: Vec<[String; 7]> = history
            .iter()
            .map(|h| {
                let result = match (&h.error, h.success) {
                    (_, true) => "ok".to_string(),
                    (Some(error), false) => format!("failed: {}", truncate(error.lines().next().unwrap_or(""), 60)),
                    (None, false) => "failed".to_string(),
                };
                [
                    h.started_at.clone(),
                    self.v(h.version),
                    h.name.clone(),
                    h.direction.as_str().to_string(),
                    format_ms(h.duration_ms),
                    result,
                    self.history_reason(h),
                ]
            })
            .collect();
        table(&header, &rows)
    }

    /// A history row's reason: the one given to the run, the placeholder
    /// values it used, then, for an up run, the lint rules its up file
    /// allows and why (`migrate:allow`, as this binary embeds it).
    fn history_reason(&self, h: &HistoryEntry) -> String {
        let mut parts: Vec<String> = h.reason.iter().cloned().collect();
        if let Some(values) = &h.placeholders {
            parts.push(format!("placeholders {values}"));
        }
        for allowed in crate::report::AllowedRule::of_run(self.target.migrations(), h) {
            parts.push(format!("allows {}: {}", allowed.rule, allowed.reason));
        }
        parts.join("; ")
    }
}

/// A status row's state cell: the state, or a batch migration's progress,
/// with its marks (repeatable, irreversible, baseline, noop).
fn entry_state(e: &StatusEntry) -> String {
    let mut state = e.state.as_str().to_string();
    if let Some(checkpoint) = e.batch {
        state = format!(
            "in progress ({} batches, {} rows done)",
            checkpoint.batches, checkpoint.rows
        );
    }
    // A repeatable one is never reverted because the next version replaces
    // it, not because its down file refuses: it is named for what it is.
    if e.repeatable {
        state.push_str(" (repeatable)");
    } else if e.irreversible {
        state.push_str(" (irreversible)");
    }
    if e.baseline.is_some() {
        state.push_str(" (baseline)");
    }
    if e.noop {
        state.push_str(" (noop)");
    }
    state
}

/// How a planned step would run: in one transaction, statement by statement,
/// in batches, or (a Cypher batch) once with Neo4j committing as it goes.
fn step_mode(step: &PlannedStep, self_batched: bool) -> String {
    match &step.batch {
        Some(batch) if self_batched => format!(
            "once, auto-commit: Neo4j commits every {} rows (CALL {{ ... }} IN TRANSACTIONS)",
            batch.size
        ),
        Some(batch) => format!("in batches of {} rows, one transaction each", batch.size),
        None if step.code && step.no_transaction => "marked dirty while its function runs".to_string(),
        None if step.no_transaction => "statement by statement, no transaction".to_string(),
        None => "in one transaction".to_string(),
    }
}

/// How a ChromaDB step would run: it has no transactions.
fn chroma_mode(step: &PlannedStep) -> String {
    match &step.batch {
        Some(_) => "a copy, batch by batch, resumed from its checkpoint".to_string(),
        None if step.code => "marked dirty while its function runs".to_string(),
        None => "step by step, marked dirty until every step ran: ChromaDB has no transactions".to_string(),
    }
}

/// A step's statements, terminated (`terminate`: TOML steps are shown as
/// written), ready to paste. A Cypher step that runs
/// statement by statement commits each statement in a transaction of its
/// own (and may mix schema and data under `migrate:no-transaction`), so
/// each is preceded by a comment saying so and what kind it is: what a
/// failure halfway would leave committed.
fn statements_text(c: &str, step: &PlannedStep, cypher: bool, terminate: bool) -> String {
    let mut out = String::new();
    if step.code {
        let _ = writeln!(
            out,
            "{c} Rust code migration, `{}`: its `{}` function runs",
            step.file,
            step.direction.as_str()
        );
    } else if step.statements.is_empty() {
        let _ = writeln!(out, "{c} (no statement)");
    }
    let total = step.statements.len();
    let separately = cypher && step.no_transaction && step.batch.is_none();
    for (i, statement) in step.statements.iter().enumerate() {
        if separately {
            let kind = if is_cypher_schema(statement) { "schema" } else { "data" };
            let _ = writeln!(out, "{c} statement {}/{total} ({kind}), commits on its own:", i + 1);
        }
        let end = if terminate { ";" } else { "" };
        let _ = writeln!(out, "{statement}{end}");
    }
    out
}

/// The dry run's lines about a batch migration, as comments.
fn batch_plan_text(c: &str, batch: &PlannedBatch, self_batched: bool) -> String {
    let mut out = if self_batched {
        format!(
            "{c} run once outside any explicit transaction; the database commits every {} rows\n",
            batch.size
        )
    } else {
        format!(
            "{c} run again and again with :batch = {} until a batch changes no row\n",
            batch.size
        )
    };
    match (&batch.total_query, batch.total, &batch.total_error) {
        (Some(query), Some(total), _) => {
            let _ = writeln!(out, "{c} total: {total} rows to process now ({query})");
        }
        (Some(query), None, Some(err)) => {
            let _ = writeln!(out, "{c} total: unknown now, `{query}` failed: {err}");
        }
        _ => {
            let _ = writeln!(out, "{c} total: no migrate:total query");
        }
    }
    if let Some(checkpoint) = batch.checkpoint {
        let _ = writeln!(
            out,
            "{c} resumes from its checkpoint: {} batches, {} rows done",
            checkpoint.batches, checkpoint.rows
        );
    }
    out
}

/// The last line of a status over several sets (and tenant sets).
pub(super) fn total_line(statuses: &[&Result<Status, Error>], groups: &[(&str, &TenantsStatus)]) -> String {
    let ok: Vec<&Status> = statuses.iter().filter_map(|r| r.as_ref().ok()).collect();
    let up_to_date = ok.iter().filter(|s| s.is_up_to_date()).count();
    let sets = match statuses.len() {
        1 => "1 set".to_string(),
        n => format!("{n} sets"),
    };
    let mut line = format!(
        "total: {sets}, {up_to_date} up to date: {} applied, {} pending",
        ok.iter().map(|s| s.applied_count()).sum::<usize>(),
        ok.iter().map(|s| s.pending_count()).sum::<usize>()
    );
    let unreadable = statuses.len() - ok.len();
    if unreadable > 0 {
        let _ = write!(line, ", {unreadable} unreadable");
    }
    let mut parts = Vec::new();
    for (name, status) in groups {
        parts.push(format!(
            "{name}: {} of {} tenants up to date",
            status.up_to_date, status.total
        ));
    }
    if statuses.is_empty() {
        return format!("total: {}", parts.join("; "));
    }
    for part in parts {
        let _ = write!(line, "; {part}");
    }
    line
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Left-aligned columns sized to their widest cell; the last column is not
/// padded, so lines carry no trailing blanks.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    // Named from the crate: .ci/imports.py reads `super` in an inline
    // module as this file's parent, `cli/mod.rs`.
    use crate::cli::text::{entry_state, statements_text, table};
    use crate::{Direction, MigrationState, PlannedStep, StatusEntry};

    #[test]
    fn tables_align_and_carry_no_trailing_blanks() {
        let rows = [
            ["1".to_string(), "a".to_string(), String::new()],
            ["10".to_string(), "bbb".to_string(), "x".to_string()],
        ];
        let text = table(&["v", "name", "note"], &rows);
        assert_eq!(text, "v   name  note\n1   a\n10  bbb   x\n");
    }

    fn step(file: &str, no_transaction: bool, statements: &[&str]) -> PlannedStep {
        PlannedStep {
            version: 1,
            name: "people".to_string(),
            direction: Direction::Up,
            file: file.to_string(),
            no_transaction,
            statements: statements.iter().map(|s| s.to_string()).collect(),
            batch: None,
            code: false,
        }
    }

    #[test]
    fn a_cypher_step_by_step_plan_says_what_commits_on_its_own() {
        let mixed = step(
            "001_people.up.cypher",
            true,
            &[
                "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE",
                "MATCH (p:Person) SET p.seen = true",
            ],
        );
        assert_eq!(
            statements_text("//", &mixed, true, true),
            "// statement 1/2 (schema), commits on its own:\n\
             CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;\n\
             // statement 2/2 (data), commits on its own:\n\
             MATCH (p:Person) SET p.seen = true;\n"
        );
        let data = step("002_seed.up.cypher", false, &["CREATE (:Person {id: 1})"]);
        assert_eq!(statements_text("//", &data, true, true), "CREATE (:Person {id: 1});\n");
    }

    #[test]
    fn a_repeatable_migration_is_labelled_repeatable_not_irreversible() {
        let entry = |repeatable: bool, irreversible: bool| StatusEntry {
            version: if repeatable { -6919695421210683602 } else { 3 },
            name: "views".to_string(),
            description: None,
            state: MigrationState::Applied,
            applied_at: None,
            execution_ms: None,
            irreversible,
            baseline: None,
            noop: false,
            repeatable,
            batch: None,
            allowed: Vec::new(),
        };
        assert_eq!(entry_state(&entry(true, true)), "applied (repeatable)");
        assert_eq!(entry_state(&entry(false, true)), "applied (irreversible)");
    }
}
