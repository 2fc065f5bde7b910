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
mod report;
mod settings;
pub mod snapshot;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod sql;

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
pub use error::Error;
pub use report::{
    AppliedMigration, HistoryEntry, MigrationState, Plan, PlannedStep, Progress, ProgressEvent, Report, Status,
    StatusEntry, StepReport,
};
pub use settings::Settings;

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
pub struct Migrations<L: Language = Sql> {
    migrations: &'static [Migration],
    /// `chains[i]`: running hash after the first `i + 1` migrations.
    chains: &'static [Checksum],
    language: PhantomData<L>,
}

/// A table of Cypher migrations, as `embed_migrations!` emits for a folder of
/// `.cypher`/`.cql` files.
pub type CypherMigrations = Migrations<Cypher>;

impl<L: Language> Migrations<L> {
    #[doc(hidden)]
    pub const fn __embedded(migrations: &'static [Migration], chains: &'static [Checksum]) -> Self {
        Migrations {
            migrations,
            chains,
            language: PhantomData,
        }
    }

    /// Every migration, in version order.
    pub fn migrations(&self) -> &'static [Migration] {
        self.migrations
    }

    /// The migrations with settings other than the defaults.
    pub fn with(&self, settings: Settings) -> Migrator<'_, L> {
        Migrator {
            table: self,
            settings,
            reason: None,
            progress: None,
        }
    }

    fn migrator(&self) -> Migrator<'_, L> {
        self.with(Settings::default())
    }

    /// Applies every pending migration. With nothing pending this reads one
    /// row and takes no lock.
    pub async fn run<D: Database<Language = L>>(&self, db: &D) -> Result<Report, Error> {
        self.migrator().run(db).await
    }

    /// Applies pending migrations up to and including `version`.
    pub async fn run_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        self.migrator().run_to(db, version).await
    }

    /// What `run` would do, with the statements, changing nothing.
    pub async fn plan<D: Database<Language = L>>(&self, db: &D) -> Result<Plan, Error> {
        self.migrator().plan(db).await
    }

    /// Reverts the last `steps` applied migrations.
    pub async fn down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Report, Error> {
        self.migrator().down(db, steps).await
    }

    /// Reverts every applied migration above `version` (0 reverts all).
    pub async fn down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        self.migrator().down_to(db, version).await
    }

    /// What `down` would do, changing nothing.
    pub async fn plan_down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Plan, Error> {
        self.migrator().plan_down(db, steps).await
    }

    /// What `down_to` would do, changing nothing.
    pub async fn plan_down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        self.migrator().plan_down_to(db, version).await
    }

    /// Every migration of the binary and of the database, with its state.
    pub async fn status<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.migrator().status(db).await
    }

    /// Compares every applied row with the binary; lists every problem.
    pub async fn validate<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.migrator().validate(db).await
    }

    /// Every up and down run recorded, oldest first.
    pub async fn history<D: Database<Language = L>>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        self.migrator().history(db).await
    }

    /// Marks `version` as applied and clean without running it: recovery after
    /// a migration that failed halfway was finished or undone by hand.
    pub async fn force<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.migrator().force(db, version).await
    }

    /// Removes the record of `version` without running anything: recovery
    /// after a failed migration was undone by hand.
    pub async fn forget<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        self.migrator().forget(db, version).await
    }
}

/// A table with settings, a rollback reason and a progress callback.
pub struct Migrator<'a, L: Language> {
    table: &'a Migrations<L>,
    settings: Settings,
    reason: Option<String>,
    progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
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
        &self.settings
    }

    pub fn migrations(&self) -> &'static [Migration] {
        self.table.migrations
    }

    fn engine(&self) -> engine::Engine<'_> {
        engine::Engine {
            migrations: self.table.migrations,
            chains: self.table.chains,
            settings: &self.settings,
            reason: self.reason.as_deref(),
            progress: self.progress,
        }
    }

    pub async fn run<D: Database<Language = L>>(&self, db: &D) -> Result<Report, Error> {
        let engine = self.engine();
        db.__up(&engine, None).await
    }

    pub async fn run_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        let engine = self.engine();
        db.__up(&engine, Some(version)).await
    }

    pub async fn plan<D: Database<Language = L>>(&self, db: &D) -> Result<Plan, Error> {
        let engine = self.engine();
        db.__plan_up(&engine, None).await
    }

    pub async fn plan_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        let engine = self.engine();
        db.__plan_up(&engine, Some(version)).await
    }

    pub async fn down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Report, Error> {
        let engine = self.engine();
        db.__down(&engine, engine::DownTarget::Steps(steps)).await
    }

    pub async fn down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        let engine = self.engine();
        db.__down(&engine, engine::DownTarget::Version(version)).await
    }

    pub async fn plan_down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Plan, Error> {
        let engine = self.engine();
        db.__plan_down(&engine, engine::DownTarget::Steps(steps)).await
    }

    pub async fn plan_down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        let engine = self.engine();
        db.__plan_down(&engine, engine::DownTarget::Version(version)).await
    }

    pub async fn status<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        let engine = self.engine();
        db.__status(&engine).await
    }

    pub async fn validate<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        let engine = self.engine();
        db.__validate(&engine).await
    }

    pub async fn history<D: Database<Language = L>>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        let engine = self.engine();
        db.__history(&engine).await
    }

    pub async fn force<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        let engine = self.engine();
        db.__force(&engine, version).await
    }

    pub async fn forget<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<(), Error> {
        let engine = self.engine();
        db.__forget(&engine, version).await
    }
}
