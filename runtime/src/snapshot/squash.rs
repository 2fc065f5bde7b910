//! Squashing: a baseline migration written from the schema of a database
//! migrated to a version (`Migrator::squash_baseline`, `cargo xtask
//! squash`), and the proof that the squashed folder gives the schema the
//! unsquashed one gives (`Migrator::verify_squashed`).
//!
//! The schema comes from the database itself ([`SchemaDdl`]), as
//! statements that run: SQLite's `CREATE` texts from `sqlite_master`,
//! PostgreSQL's `pg_dump --schema-only`, MySQL's `SHOW CREATE`. A snapshot
//! is normalised text for comparing two schemas, not something to run; the
//! snapshot is what `verify_squashed` compares.

use super::check::snapshots;
use super::schema::SchemaDiff;
use crate::backend::SchemaDdl;
use crate::core::baseline::Squashed;
use crate::core::Language;
use crate::engine::{Connect, Engine};
use crate::report::MigrationState;
use crate::Error;
use std::fmt;

/// A baseline migration, from [`Migrator::squash_baseline`](crate::Migrator::squash_baseline).
#[derive(Clone, Debug)]
pub struct Baseline {
    /// What its `migrate:baseline` directive says: the versions it
    /// replaces, how many, and the running hash a database migrated before
    /// the squash has after them.
    pub squashed: Squashed,
    /// The up file's text: the directive, a description, the schema.
    pub up: String,
    /// The down file's text: `migrate:irreversible`.
    pub down: String,
    /// The files it replaces (up and down, or the `.rs` file), to delete.
    pub replaced: Vec<&'static str>,
    /// The replaced migrations whose up file changes rows (`INSERT`,
    /// `UPDATE`, `DELETE`, `COPY`) or is Rust code: the baseline holds the
    /// schema only, so rows they wrote for every database (reference data)
    /// must be written again after it, by hand.
    pub data: Vec<(i64, &'static str)>,
}

/// What [`Migrator::verify_squashed`](crate::Migrator::verify_squashed) found.
#[derive(Clone, Debug, Default)]
pub struct SquashCheck {
    /// The schema of the unsquashed history against the squashed one's
    /// (`-` unsquashed only, `+` squashed only): empty when they agree.
    pub diff: SchemaDiff,
    /// What the squashed binary applied on the database of the unsquashed
    /// history, as `(version, name)`: only what follows the baseline may
    /// be there; the baseline itself must not.
    pub applied_on_unsquashed: Vec<(i64, String)>,
    /// `validate` of the squashed binary on that database: its problems,
    /// empty when none (drift and missing rows must not fire).
    pub problems: Vec<String>,
}

impl SquashCheck {
    /// The two histories give the same schema, and a database of the
    /// unsquashed one takes the squashed binary without running the
    /// baseline and without a problem.
    pub fn is_same(&self, baseline_version: i64) -> bool {
        self.diff.is_empty()
            && self.problems.is_empty()
            && self
                .applied_on_unsquashed
                .iter()
                .all(|(version, _)| *version > baseline_version)
    }
}

impl fmt::Display for SquashCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.diff.is_empty() {
            writeln!(f, "the squashed and unsquashed histories give the same schema")?;
        } else {
            writeln!(f, "the schemas differ (- unsquashed, + squashed):")?;
            write!(f, "{}", self.diff)?;
        }
        for problem in &self.problems {
            writeln!(f, "on the unsquashed database: {problem}")?;
        }
        Ok(())
    }
}

/// See [`Migrator::squash_baseline`](crate::Migrator::squash_baseline).
pub(crate) async fn squash_baseline(engine: &Engine<'_>, db: &dyn Connect, to: i64) -> Result<Baseline, Error> {
    let ddl = schema_ddl(db)?;
    let (squashed, replaced) = plan(engine, to)?;
    migrated_to(engine, db, to).await?;
    let schema = ddl.schema_ddl(engine.settings).await?;
    let data = replaced
        .iter()
        .filter(|m| engine.code.iter().any(|c| c.version == m.version) || changes_rows(m.up.text))
        .map(|m| (m.version, m.up.file))
        .collect();
    let mut files = Vec::new();
    for migration in &replaced {
        files.push(migration.up.file);
        if !migration.down.file.is_empty() && migration.down.file != migration.up.file {
            files.push(migration.down.file);
        }
    }
    let up = format!(
        "{}\n-- description: baseline of migrations {}..{} ({} migration(s)), squashed\n\
         -- Written by `cargo xtask squash --to {to}` from the schema of a database migrated to {to}.\n\
         -- A database migrated before the squash keeps its rows of those versions: they count as this\n\
         -- baseline applied, and it does not run there.\n\n{}",
        squashed.directive(Language::Sql),
        squashed.first,
        squashed.last,
        squashed.migrations,
        schema.trim_end()
    ) + "\n";
    let down =
        "-- migrate:irreversible\n-- A baseline stands for every migration it replaced; it is not reverted as one.\n"
            .to_string();
    Ok(Baseline {
        squashed,
        up,
        down,
        replaced: files,
        data,
    })
}

fn schema_ddl(db: &dyn Connect) -> Result<&dyn SchemaDdl, Error> {
    db.schema_ddl().ok_or_else(|| Error::Unsupported {
        backend: "this database",
        what: "squashing (its `Database` cannot write its schema as statements: SQLite, PostgreSQL and \
               MySQL/MariaDB can)"
            .to_string(),
    })
}

/// The directive of a squash to `to`, and the migrations it replaces.
fn plan(engine: &Engine<'_>, to: i64) -> Result<(Squashed, Vec<&'static crate::Migration>), Error> {
    let refuse = |message: String| Err(Error::InvalidSettings { message });
    if let Some(squashed) = &engine.squashed {
        return refuse(format!(
            "the folder is squashed already (its baseline replaces {}..{}); squash the unsquashed folder again \
             instead, to a later version",
            squashed.first, squashed.last
        ));
    }
    let Some(index) = engine.migrations.iter().position(|m| m.version == to) else {
        return Err(Error::UnknownVersion {
            version: to,
            in_binary: false,
            in_database: None,
        });
    };
    let replaced: Vec<_> = engine.migrations[..=index].iter().collect();
    let squashed = Squashed {
        first: engine.migrations[0].version,
        last: to,
        migrations: replaced.len() as u64,
        chain: engine.chains[index],
    };
    Ok((squashed, replaced))
}

/// `db` migrated to exactly `to`: an empty scratch database is migrated
/// there; one at exactly `to` (with nothing wrong) is taken as it is.
async fn migrated_to(engine: &Engine<'_>, db: &dyn Connect, to: i64) -> Result<(), Error> {
    let status = engine.validate(db).await?;
    let applied: Vec<i64> = status
        .entries
        .iter()
        .filter(|e| e.state != MigrationState::Pending)
        .map(|e| e.version)
        .collect();
    let wanted: Vec<i64> = engine
        .migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| *v <= to)
        .collect();
    if applied.is_empty() {
        engine.up(db, Some(to)).await?;
        return Ok(());
    }
    if applied != wanted {
        return Err(Error::InvalidSettings {
            message: format!(
                "a squash to {to} reads the schema of a database migrated to exactly {to}: give it an empty \
                 scratch database (it is migrated there) or one at {to}; this one is at {}",
                status.current_version()
            ),
        });
    }
    Ok(())
}

/// Whether an SQL file writes rows, which a schema dump does not keep.
fn changes_rows(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    ["INSERT ", "UPDATE ", "DELETE ", "COPY ", "REPLACE INTO"]
        .iter()
        .any(|word| upper.lines().any(|line| line.trim_start().starts_with(word)))
}

/// See [`Migrator::verify_squashed`](crate::Migrator::verify_squashed).
pub(crate) async fn verify_squashed(
    squashed: &Engine<'_>,
    unsquashed: &Engine<'_>,
    unsquashed_db: &dyn Connect,
    squashed_db: &dyn Connect,
) -> Result<SquashCheck, Error> {
    let snapshots_a = snapshots(unsquashed_db)?;
    let snapshots_b = snapshots(squashed_db)?;
    unsquashed.up(unsquashed_db, None).await?;
    squashed.up(squashed_db, None).await?;
    let before = snapshots_a.snapshot(unsquashed.settings).await?;
    let after = snapshots_b.snapshot(squashed.settings).await?;
    let report = squashed.up(unsquashed_db, None).await?;
    let problems = match squashed.validate(unsquashed_db).await {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { problems }) => problems.iter().map(ToString::to_string).collect(),
        Err(other) => return Err(other),
    };
    Ok(SquashCheck {
        diff: before.diff(&after),
        applied_on_unsquashed: report.steps.iter().map(|s| (s.version, s.name.clone())).collect(),
        problems,
    })
}
