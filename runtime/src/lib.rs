//! Database migrations compiled into the binary.
//!
//! ```ignore
//! static MIGRATIONS: embedded_migrations::Migrations =
//!     embedded_migrations::embed_migrations!("migrations");
//!
//! MIGRATIONS.run(&pool).await?;
//! ```
//!
//! `embed_migrations!` checks the folder while the crate compiles (every up
//! file has its down file, versions are unique, files are UTF-8, ...) and
//! embeds each file with its checksum. At run time a [`Migrations`] table is
//! applied through a backend: one module per database behind the
//! [`backend::Session`] trait.

pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
mod engine;
mod error;
/// The guide: one chapter per topic (the repository's `docs/` folder), its examples compiled as doctests.
pub mod guide;
mod readiness;
mod report;
mod settings;
pub mod snapshot;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql_batch;
mod targets;
mod tenants;

// One module per backend, each behind its cargo feature.
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "neo4j")]
mod neo4j;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use embedded_migrations_core as core;
pub use embedded_migrations_core::{Checksum, Direction, Migration, Script};
pub use embedded_migrations_macros::embed_migrations;
pub use engine::Tool;
pub use error::{Committed, Error};
pub use readiness::{Readiness, ReadinessState};
pub use report::{
    AcceptedEdit, AdoptedMigration, Adoption, AppliedMigration, HistoryEntry, MigrationState, Plan, PlannedStep,
    Progress, ProgressEvent, Repair, Report, Status, StatusEntry, StepReport,
};
pub use report::{BatchProgress, DirtyRun, PlannedBatch};
pub use settings::Settings;
pub use targets::{NamedReadiness, Target, TargetReport, Targets, TargetsReadiness};
pub use tenants::{TenantOutcome, TenantRun, Tenants, TenantsReport, TenantsStatus};

#[cfg(feature = "neo4j")]
#[doc(hidden)]
pub use neo4j::PinnedGraph as __PinnedNeo4jGraph;
/// The neo4rs this crate implements `Database` for: a `Graph` of another
/// neo4rs version is another type, so use this one (or the same version).
#[cfg(feature = "neo4j")]
pub use neo4rs;

use backend::Database;
use std::marker::PhantomData;

/// Marker for a table of SQL migrations.
#[derive(Clone, Copy, Debug)]
pub struct Sql;

/// Marker for a table of Cypher migrations (Neo4j).
#[derive(Clone, Copy, Debug)]
pub struct Cypher;

/// The language a table is written in. A table only runs on a database of
/// the same language: a Cypher table on a SQL pool does not compile.
pub trait Language: Send + Sync + 'static + sealed::Sealed {
    const LANGUAGE: embedded_migrations_core::Language;
}

impl Language for Sql {
    const LANGUAGE: embedded_migrations_core::Language = embedded_migrations_core::Language::Sql;
}

impl Language for Cypher {
    const LANGUAGE: embedded_migrations_core::Language = embedded_migrations_core::Language::Cypher;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Sql {}
    impl Sealed for super::Cypher {}
}

/// The migrations of one folder, embedded by `embed_migrations!`.
///
/// Every operation (`run`, `plan`, `down`, `status`, ...) is a method of
/// [`Migrator`]: a table is a migrator with the default settings, and
/// dereferences to it, so `MIGRATIONS.run(&pool)` and
/// `MIGRATIONS.with(settings).run(&pool)` are the same code.
pub struct Migrations<L: Language = Sql> {
    defaults: Migrator<'static, L>,
}

/// A table of Cypher migrations, as `embed_migrations!` emits for a folder of
/// `.cypher`/`.cql` files.
pub type CypherMigrations = Migrations<Cypher>;

impl<L: Language> Migrations<L> {
    #[doc(hidden)]
    pub const fn __embedded(migrations: &'static [Migration], chains: &'static [Checksum]) -> Self {
        Self::__embedded_with_repeatables(migrations, chains, &[])
    }

    /// A folder with repeatable migrations (`<name>.repeatable.sql`): each
    /// a `Migration` under its negative key, in name order.
    #[doc(hidden)]
    pub const fn __embedded_with_repeatables(
        migrations: &'static [Migration],
        chains: &'static [Checksum],
        repeatables: &'static [Migration],
    ) -> Self {
        Migrations {
            defaults: Migrator {
                migrations,
                chains,
                repeatables,
                settings: None,
                reason: None,
                progress: None,
                language: PhantomData,
            },
        }
    }

    /// The migrations with settings other than the defaults.
    pub fn with(&self, settings: Settings) -> Migrator<'_, L> {
        Migrator {
            settings: Some(settings),
            ..self.defaults.clone()
        }
    }
}

impl<L: Language> std::ops::Deref for Migrations<L> {
    type Target = Migrator<'static, L>;

    fn deref(&self) -> &Migrator<'static, L> {
        &self.defaults
    }
}

/// A table with settings, a rollback reason and a progress callback: the one
/// home of every operation.
pub struct Migrator<'a, L: Language> {
    migrations: &'static [Migration],
    /// `chains[i]`: running hash after the first `i + 1` migrations.
    chains: &'static [Checksum],
    /// Repeatable migrations, in name order, each under its negative key.
    repeatables: &'static [Migration],
    /// `None`: `Settings::default()`, which a `const` table cannot hold.
    settings: Option<Settings>,
    reason: Option<String>,
    progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
    language: PhantomData<fn() -> L>,
}

impl<L: Language> Clone for Migrator<'_, L> {
    fn clone(&self) -> Self {
        Migrator {
            migrations: self.migrations,
            chains: self.chains,
            repeatables: self.repeatables,
            settings: self.settings.clone(),
            reason: self.reason.clone(),
            progress: self.progress,
            language: PhantomData,
        }
    }
}

impl<'a, L: Language> Migrator<'a, L> {
    /// Recorded in history with every step of this operation (for `down`).
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Called before and after each migration, for progress lines.
    pub fn on_progress(mut self, progress: &'a (dyn Fn(&Progress) + Send + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn settings(&self) -> &Settings {
        static DEFAULT: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
        match &self.settings {
            Some(settings) => settings,
            None => DEFAULT.get_or_init(Settings::default),
        }
    }

    /// Every migration, in version order.
    pub fn migrations(&self) -> &'static [Migration] {
        self.migrations
    }

    /// The repeatable migrations (`<name>.repeatable.sql`), in name order;
    /// each `version` is its negative tracking key.
    pub fn repeatables(&self) -> &'static [Migration] {
        self.repeatables
    }

    fn engine(&self) -> engine::Engine<'_> {
        engine::Engine {
            migrations: self.migrations,
            chains: self.chains,
            repeatables: self.repeatables,
            settings: self.settings(),
            reason: self.reason.as_deref(),
            progress: self.progress,
        }
    }

    /// Applies every pending migration. With nothing pending this reads one
    /// row and takes no lock.
    pub async fn run<D: Database<Language = L>>(&self, db: &D) -> Result<Report, Error> {
        self.engine().up(db, None).await
    }

    /// Applies pending migrations up to and including `version`.
    pub async fn run_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        self.engine().up(db, Some(version)).await
    }

    /// What `run` would do, with the statements, changing nothing.
    pub async fn plan<D: Database<Language = L>>(&self, db: &D) -> Result<Plan, Error> {
        self.engine().plan_up(db, None).await
    }

    /// What `run_to` would do, changing nothing.
    pub async fn plan_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        self.engine().plan_up(db, Some(version)).await
    }

    /// Reverts the last `steps` applied migrations.
    pub async fn down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Report, Error> {
        self.engine().down(db, engine::DownTarget::Steps(steps)).await
    }

    /// Reverts every applied migration above `version` (0 reverts all).
    pub async fn down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        self.engine().down(db, engine::DownTarget::Version(version)).await
    }

    /// What `down` would do, changing nothing.
    pub async fn plan_down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Plan, Error> {
        self.engine().plan_down(db, engine::DownTarget::Steps(steps)).await
    }

    /// What `down_to` would do, changing nothing.
    pub async fn plan_down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        self.engine().plan_down(db, engine::DownTarget::Version(version)).await
    }

    /// Every migration of the binary and of the database, with its state.
    pub async fn status<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.engine().status(db).await
    }

    /// Compares every applied row with the binary; lists every problem.
    pub async fn validate<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.engine().validate(db).await
    }

    /// Every up and down run recorded, oldest first.
    pub async fn history<D: Database<Language = L>>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        self.engine().history(db).await
    }

    /// Adopts an existing database: records every migration up to and
    /// including `version` as applied without running it, each with a
    /// history row whose reason is `baseline` (with `.reason(why)`:
    /// `baseline: why`). Refused, writing nothing, when the database already
    /// has tracking rows other than exactly those it would record. The
    /// checksums recorded are this binary's; later migrations then apply
    /// with `run`.
    pub async fn baseline<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Adoption, Error> {
        self.engine().baseline(db, version, false).await
    }

    /// What `baseline` would record, reading only.
    pub async fn plan_baseline<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Adoption, Error> {
        self.engine().baseline(db, version, true).await
    }

    /// Adopts a database migrated until now by `tool`: reads its history
    /// table in the same database, checks every row against this binary
    /// (failed or dirty rows, versions the binary lacks, sqlx checksums,
    /// versions below the highest applied that the tool never applied) and
    /// refuses with the whole list, or records those migrations as applied
    /// in one transaction, with history rows naming the tool. The tool's
    /// table is left as it is.
    pub async fn import<D: Database<Language = L>>(&self, db: &D, tool: Tool) -> Result<Adoption, Error> {
        self.engine().import(db, tool, false).await
    }

    /// What `import` would record, reading only.
    pub async fn plan_import<D: Database<Language = L>>(&self, db: &D, tool: Tool) -> Result<Adoption, Error> {
        self.engine().import(db, tool, true).await
    }

    /// Marks `version` as applied and clean without running it: recovery after
    /// a migration that failed halfway was finished or undone by hand.
    pub async fn force<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.engine().force(db, version).await
    }

    /// Removes the record of `version` without running anything: recovery
    /// after a failed migration was undone by hand.
    pub async fn forget<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.engine().forget(db, version).await
    }

    /// Rebuilds the state row from the tracking rows, under the migration
    /// lock, running nothing: the fix after the tracking rows were edited by
    /// hand (a row deleted so that its migration runs again) or restored in
    /// part, which `validate` and `Error::StateMismatch` report. Writes a
    /// history row with the old and new state and `.reason(..)`; a state
    /// row that already agrees is left alone (`Repair::changed` is false).
    pub async fn repair<D: Database<Language = L>>(&self, db: &D) -> Result<Repair, Error> {
        self.engine().repair(db, None).await
    }

    /// [`repair`](Self::repair), and first records applied `version`'s
    /// current checksum: its file was edited on purpose after it was applied
    /// (a comment, a fix the database already has), which `Error::Drift`
    /// would otherwise refuse for good. The history row keeps both checksums.
    pub async fn repair_accepting_edit<D: Database<Language = L>>(
        &self,
        db: &D,
        version: i64,
    ) -> Result<Repair, Error> {
        self.engine().repair(db, Some(version)).await
    }
}
