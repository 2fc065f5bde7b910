//! How each error reads: `Display` for [`Error`] and the types it carries,
//! one named phase per kind of failure.

use super::{Committed, CorruptChecksum, Error};
use crate::backend::State;
use crate::{Checksum, Direction};
use std::fmt;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MigrationFailed { .. } => self.fmt_failed_statement(f),
            Error::TimedOut { timeout, error } => write!(
                f,
                "{error}\n  it ran past its {timeout} (`migrate:timeout` in its file, or Settings::statement_timeout \
                 and Settings::statement_lock_timeout)"
            ),
            Error::Drift { .. }
            | Error::MissingInBinary { .. }
            | Error::Ahead { .. }
            | Error::ForeignTable { .. }
            | Error::OutOfOrder { .. } => self.fmt_disagreement(f),
            Error::Dirty { .. } => self.fmt_dirty(f),
            Error::LockTimeout { backend, waited, holder } => {
                write!(f, "gave up waiting for the {backend} migration lock after {:.1}s", waited.as_secs_f64())?;
                match holder {
                    Some(holder) => write!(f, "; it is held by {holder}"),
                    None => write!(f, "; another process is applying migrations"),
                }
            }
            Error::Irreversible { version, name, file } => write!(
                f,
                "migration {version} ({name}) cannot be reverted: `{file}` says migrate:irreversible; nothing was changed"
            ),
            Error::NotApplied { version, name } => write!(
                f,
                "migration {version} ({name}) is not applied: there is no recorded checksum to replace; `run` applies it"
            ),
            Error::UnknownVersion {
                version,
                in_binary,
                in_database,
            } => match (in_binary, in_database) {
                (true, _) => write!(f, "migration {version} is in this binary, but the database has no record of it"),
                (false, Some(true)) => write!(
                    f,
                    "this binary has no migration {version}, though the database has a record of it (applied by \
                     another build)"
                ),
                (false, Some(false)) => write!(f, "version {version} is neither in this binary nor in the database"),
                (false, None) => write!(f, "this binary has no migration {version}"),
            },
            Error::Unsupported { backend, what } => write!(f, "{backend} does not support {what}"),
            Error::InvalidSettings { message } => write!(f, "invalid settings: {message}"),
            Error::Invalid { problems } => {
                let header = format!("validation found {} problem(s):", problems.len());
                write_list(f, &header, problems)
            }
            Error::Database { backend, operation, message, .. } => write!(f, "{backend}: {operation} failed: {message}"),
            Error::Target { name, tenant, error } => match tenant {
                true => write!(f, "tenant `{name}`: {error}"),
                false => write!(f, "migration set `{name}`: {error}"),
            },
            Error::Incomplete { applied, error } => {
                let done: Vec<String> = applied.steps.iter().map(|s| format!("{} ({})", s.version, s.name)).collect();
                let verb = match applied.steps[0].direction {
                    Direction::Up => "applied",
                    Direction::Down => "reverted",
                };
                write!(f, "{error}\n  {verb} in this run before the failure, and kept: {}", done.join(", "))
            }
            Error::StateMismatch { .. } => self.fmt_state_mismatch(f),
            Error::Contended { backend, rounds } => write!(
                f,
                "{backend}: other processes changed the migration state {rounds} times while this run planned; it \
                 stopped between two migrations, leaving nothing half-applied: run it again"
            ),
            Error::NotReversible { version, name, file, objects } => write!(
                f,
                "migration {version} ({name}) does not revert: after `{file}` these objects differ from before its up file: {}",
                objects.join(", ")
            ),
            Error::SchemaChanged { .. } => self.fmt_schema_changed(f),
            Error::BackupFailed { backend, path, message } => write!(
                f,
                "{backend}: the backup before down to `{}` failed, so nothing was reverted: {message}",
                path.display()
            ),
            Error::Adoption { what, problems } => {
                let header = format!("{what} refused, nothing was written ({} problem(s)):", problems.len());
                write_list(f, &header, problems)
            }
            Error::CorruptChecksum { .. } => self.fmt_corrupt_checksum(f),
            Error::CodeFailed { .. } => self.fmt_code_failed(f),
            Error::CodeForAnotherDatabase { file, written_for, database } => write!(
                f,
                "`{file}` is a Rust code migration written for {written_for}, but this set runs on {database}; \
                 nothing was changed: embed the folder with the `database = ...` of the database it runs on"
            ),
            Error::MissingPlaceholders { missing } => {
                write!(f, "no value is given for the placeholder(s) ")?;
                for (i, placeholder) in missing.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}`${{{}}}` (used by `{}`)", placeholder.name, placeholder.files.join("`, `"))?;
                }
                write!(
                    f,
                    "; nothing was changed: give each with `Settings::placeholder` (or `--placeholder NAME=VALUE`)"
                )
            }
            Error::Conflict => write!(f, "another process changed the migration state concurrently"),
        }
    }
}

/// The longer messages, a function each.
impl Error {
    fn fmt_code_failed(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::CodeFailed {
            version,
            name,
            file,
            direction,
            message,
            panicked,
            rolled_back,
            batches,
            ..
        } = self
        else {
            return Ok(());
        };
        let what = if *panicked { "panicked" } else { "returned an error" };
        if let Some(done) = batches {
            return write!(
                f,
                "migration {version} ({name}) failed up: batch {} of the Rust code migration `{file}` {what}: {message}\n  \
                 that batch was rolled back; the checkpoint keeps the {} batches ({} rows) committed before it, \
                 and the migration is not recorded: fix the cause and run again, it resumes from the checkpoint",
                done.batches + 1,
                done.batches,
                done.rows,
            );
        }
        write!(
            f,
            "migration {version} ({name}) failed {}: the function `{}` of the Rust code migration `{file}` {what}: {message}",
            direction.as_str(),
            direction.as_str(),
        )?;
        if *rolled_back {
            write!(f, "\n  the migration was rolled back and not recorded")
        } else {
            write!(f, "\n  what the function committed stays, and the migration is marked dirty: fix the database by hand, then `force` {version} (if it is now applied) or `forget` {version} (if it is undone)")
        }
    }

    fn fmt_failed_statement(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::MigrationFailed {
            version,
            name,
            file,
            direction,
            statement,
            line,
            message,
            rolled_back,
            committed,
            batches,
            number,
            ..
        } = self
        else {
            return Ok(());
        };
        write!(
            f,
            "migration {version} ({name}) failed {} in `{file}` at line {line}: {message}\n  statement: {}",
            direction.as_str(),
            excerpt(statement)
        )?;
        if let Some(done) = batches {
            // Its batches commit one by one: what committed is the checkpoint's.
            write!(
                f,
                "\n  {} batch(es) ({} rows) committed before the failure and stay, kept by the checkpoint{}; the \
                 migration is not recorded as applied, and the next run resumes after them",
                done.batches,
                done.rows,
                if *rolled_back {
                    "; the failing batch was rolled back"
                } else {
                    ""
                }
            )
        } else if *rolled_back {
            write!(f, "\n  the migration was rolled back and not recorded")
        } else {
            // Statements between the committed ones and the failing one ran
            // in a transaction the file opened itself, rolled back with it.
            let between = match number.saturating_sub(committed + 1) {
                0 => String::new(),
                1 => format!(
                    "statement {} ran in the file's own transaction, which was rolled back; ",
                    committed + 1
                ),
                _ => format!(
                    "statements {}-{} ran in the file's own transaction, which was rolled back; ",
                    committed + 1,
                    number - 1
                ),
            };
            match committed {
                0 if *number <= 1 => write!(f, "\n  no statement of it committed (it was the first): nothing is marked dirty, and the next run tries it again"),
                0 => write!(f, "\n  no statement of it committed ({between}statement {number} failed): nothing is marked dirty, and the next run tries it again"),
                _ => write!(f, "\n  statements 1-{committed} committed; {between}statement {number} failed; the migration is marked dirty: fix the database by hand, then `force` {version} (if it is now applied) or `forget` {version} (if it is undone)"),
            }
        }
    }

    /// The database's records and the binary disagree.
    fn fmt_disagreement(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Drift { version, name, file, recorded, embedded } => write!(
                f,
                "migration {version} ({name}) was changed after it was applied: `{file}` has checksum {embedded}, the database recorded {recorded}; restore the file, or add a new migration for the change; if the edit was intentional and the database already matches it, accept it with `migrate repair --accept-edit {version} --reason '...'`"
            ),
            Error::MissingInBinary { migrations } => write!(
                f,
                "the database has applied migrations this binary does not contain: {}; deploy the binary that has them, or set allow_missing",
                listed(migrations)
            ),
            Error::Ahead { latest, migrations } => write!(
                f,
                "the database is ahead of this binary: it has applied {}, above this binary's latest migration {latest} \
                 (a newer release applied them); deploy that release, or, if this older code is known to work on \
                 the newer schema (a rolling deploy), set allow_ahead",
                listed(migrations)
            ),
            Error::ForeignTable { table, rows, count } => write!(
                f,
                "the tracking table `{table}` belongs to another migration set: none of its {count} row(s) ({}{}) \
                 is a migration of this binary (same version and name); two applications share it: give this one \
                 its own table with Settings::table(\"<app>_migrations\")",
                listed(rows),
                if *count > rows.len() { ", ..." } else { "" }
            ),
            Error::OutOfOrder { version, name, file, highest_applied } => write!(
                f,
                "migration {version} ({name}, `{file}`) is pending but migration {highest_applied} is already applied; renumber it above {highest_applied}, or set allow_out_of_order"
            ),
            _ => Ok(()),
        }
    }

    fn fmt_dirty(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::Dirty {
            version,
            name,
            direction,
            committed,
        } = self
        else {
            return Ok(());
        };
        write!(
            f,
            "migration {version} ({name}) is dirty: its {} run failed or was interrupted ",
            direction.as_str()
        )?;
        match committed {
            Some(committed) => write!(f, "{committed}")?,
            None => write!(f, "after changing the database")?,
        }
        write!(f, "; repair the schema by hand, then mark it with `force {version}` (applied) or `forget {version}` (not applied)")
    }

    fn fmt_state_mismatch(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::StateMismatch {
            backend,
            recorded,
            rows,
        } = self
        else {
            return Ok(());
        };
        write!(
            f,
            "{backend}: the tracking state row says {} migration(s) applied up to version {}{}, but the tracking \
             table holds {} up to version {}{}{}: the tracking tables were edited by hand or restored in part, \
             and nothing was applied. If the rows are right (a row deleted so that its migration runs again), \
             rebuild the state row from them with `migrate repair --reason '...'` (API: `repair`); otherwise \
             restore the rows the state row describes",
            recorded.applied_count,
            recorded.last_version,
            if recorded.dirty { " (dirty)" } else { "" },
            rows.applied_count,
            rows.last_version,
            if rows.dirty { " (dirty)" } else { "" },
            mismatch_cause(recorded, rows),
        )
    }

    fn fmt_schema_changed(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::SchemaChanged {
            recorded_version,
            current_version,
            objects,
        } = self
        else {
            return Ok(());
        };
        let Some(recorded) = recorded_version else {
            return write!(f, "no schema was recorded: run `migrate schema record` after migrating");
        };
        write!(f, "the schema differs from the one recorded at version {recorded}")?;
        if recorded != current_version {
            write!(f, " (the database is at version {current_version})")?;
        }
        if objects.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", objects.join(", "))
        }
    }

    fn fmt_corrupt_checksum(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::CorruptChecksum {
            backend,
            version,
            stored,
        } = self
        else {
            return Ok(());
        };
        match version {
            Some(version) => write!(
                f,
                "{backend}: the tracking row of version {version} holds the checksum '{stored}', which is not a \
                 SHA-256 in hex: the tracking table was edited by hand or damaged; put back the checksum of its \
                 file (`status` of a build that has it, or the value in a backup)"
            ),
            None => write!(
                f,
                "{backend}: the tracking state row holds the chain '{stored}', which is not a SHA-256 in hex: it \
                 was edited by hand or damaged; put back the value from a backup, or, if the tracking rows are \
                 right, reset the state row to the empty chain ('{}') and run `migrate repair`, which rebuilds it \
                 from the rows",
                Checksum::ZERO
            ),
        }
    }
}

/// What differs between a state row and the rows' state when their counts
/// agree (the counts, when they differ, say it themselves): the dirty flag,
/// the chain of checksums, or both.
fn mismatch_cause(recorded: &State, rows: &State) -> String {
    if recorded.applied_count != rows.applied_count || recorded.last_version != rows.last_version {
        return String::new();
    }
    let mut causes = Vec::new();
    match (recorded.dirty, rows.dirty) {
        (true, false) => causes.push("the state row's dirty flag is set, and no tracking row is dirty"),
        (false, true) => causes.push("a tracking row is dirty, and the state row's dirty flag is not set"),
        _ => {}
    }
    if recorded.chain != rows.chain {
        causes.push("the tracking rows hold checksums other than the ones the state row was computed from");
    }
    match causes.is_empty() {
        true => String::new(),
        false => format!("; {}", causes.join(", and ")),
    }
}

/// `version (name), ...`.
fn listed(migrations: &[(i64, String)]) -> String {
    let list: Vec<String> = migrations.iter().map(|(v, n)| format!("{v} ({n})")).collect();
    list.join(", ")
}

/// `header`, then each item on a line of its own.
fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, header: &str, items: &[T]) -> fmt::Result {
    write!(f, "{header}")?;
    for item in items {
        write!(f, "\n  - {item}")?;
    }
    Ok(())
}
impl fmt::Display for CorruptChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checksum '{}' of version {:?} is not a SHA-256 in hex",
            self.stored, self.version
        )
    }
}

impl fmt::Display for Committed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of = self.total.map(|total| format!(" of {total}")).unwrap_or_default();
        let next = self.statements + 1;
        let next_line = self.next_line.map(|line| format!(" (line {line})")).unwrap_or_default();
        if self.statements == 0 {
            return write!(
                f,
                "before any statement{of} committed; statement 1{next_line} may have run in part"
            );
        }
        let lines: Vec<String> = self.lines.iter().map(usize::to_string).collect();
        let more = if (self.lines.len() as u64) < self.statements {
            ", ..."
        } else {
            ""
        };
        if self.total.is_some_and(|total| total as u64 <= self.statements) {
            return write!(
                f,
                "after all {} statements committed (lines {}{more}), before it was recorded",
                self.statements,
                lines.join(", ")
            );
        }
        write!(
            f,
            "after statements 1-{}{of} committed (lines {}{more}); nothing from statement {next}{next_line} on committed",
            self.statements,
            lines.join(", ")
        )
    }
}

/// A statement as shown in an error: whole if short, else its start.
fn excerpt(statement: &str) -> String {
    const LIMIT: usize = 300;
    let one_line: String = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.len() <= LIMIT {
        return one_line;
    }
    let mut end = LIMIT;
    while !one_line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} ...", &one_line[..end])
}
