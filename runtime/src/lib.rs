//! Database migrations compiled into the binary.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn boot(pool: sqlx::SqlitePool) -> Result<(), embedded_migrations::Error> {
//! // Your folder, relative to your crate's Cargo.toml: "migrations/sqlite", say.
//! static MIGRATIONS: embedded_migrations::Migrations =
//!     embedded_migrations::embed_migrations!("docs/migrations/sqlite");
//!
//! MIGRATIONS.run(&pool).await?;
//! # Ok(())
//! # }
//! ```
//!
//! `embed_migrations!` checks the folder while the crate compiles (every up
//! file has its down file, versions are unique, files are UTF-8, ...) and
//! embeds each file with its checksum. At run time a [`Migrations`] table is
//! applied through a backend: one module per database behind the
//! [`backend::Session`] trait.

// The sqlx the SQL backends are written against, named `sqlx` whichever it
// is: 0.9 (`sqlx-0-9`, the default; the dependency's own name) or 0.8
// (`sqlx-0-8`, the dependency `sqlx08`). With both features on, as
// `--all-features` builds, 0.9 is used. What differs between the two
// versions is in sql/compat.rs, so the rest reads the same on both.
#[cfg(all(feature = "sqlx-0-8", not(feature = "sqlx-0-9")))]
extern crate sqlx08 as sqlx;
#[cfg(all(
    any(feature = "sqlite", feature = "postgres", feature = "mysql"),
    not(any(feature = "sqlx-0-9", feature = "sqlx-0-8"))
))]
compile_error!(
    "the `sqlite`, `postgres` and `mysql` features of embedded-migrations run on sqlx: add the feature `sqlx-0-9` \
     (for sqlx 0.9) or `sqlx-0-8` (for sqlx 0.8), the version your application's pool comes from"
);

pub mod backend;
mod backup;
#[cfg(feature = "cli")]
pub mod cli;
pub mod code;
#[cfg(any(feature = "rusqlite", feature = "tokio-postgres"))]
mod driver;
mod engine;
mod error;
#[cfg(any(feature = "sqlite", feature = "rusqlite"))]
mod file_lock;
/// The guide: one chapter per topic (the repository's `docs/` folder), its examples compiled as doctests.
pub mod guide;
mod language;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "neo4j"))]
mod lease;
mod migrator;
mod placeholders;
mod readiness;
mod records;
mod report;
mod settings;
pub mod snapshot;
#[cfg(any(
    feature = "sqlite",
    feature = "postgres",
    feature = "mysql",
    feature = "rusqlite",
    feature = "tokio-postgres"
))]
mod sql;
mod targets;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod template;

// One module per backend, each behind its cargo feature.
/// ChromaDB: the client migrations run on, and what its code migrations
/// receive.
#[cfg(feature = "chroma")]
pub mod chroma;
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

pub use backup::Backup;
pub use embedded_migrations_core as core;
pub use embedded_migrations_core::{Checksum, Direction, Migration, Script};
pub use embedded_migrations_macros::embed_migrations;
pub use engine::Tool;
pub use error::{Committed, Error, MissingPlaceholder, Timeout};
pub use language::{Chroma, Cypher, Language, Sql};
pub use migrator::{CypherMigrations, Migrations, Migrator};
pub use placeholders::SECRET;
pub use readiness::{Readiness, ReadinessState};
pub use records::{AppliedMigration, Checkpoint, DirtyRun, HistoryEntry};
pub use report::{
    AcceptedEdit, AdoptedMigration, Adoption, AllowedRule, BatchProgress, LintReport, MigrationState, Plan,
    PlannedBatch, PlannedStep, Progress, ProgressEvent, Repair, Report, Status, StatusEntry, StepReport,
};
pub use settings::{LockMode, Settings};
pub use targets::{
    NamedReadiness, Target, TargetReport, Targets, TargetsReadiness, TenantOutcome, TenantRun, Tenants, TenantsReport,
    TenantsStatus,
};

#[cfg(feature = "rusqlite")]
pub use driver::rusqlite::Rusqlite;
/// The rusqlite [`Rusqlite`] is built from: a `Connection` of another
/// rusqlite version is another type, so use this one (or the same version).
#[cfg(feature = "rusqlite")]
pub use rusqlite;

/// The deadpool-postgres whose `Pool` is a [`backend::Database`].
#[cfg(feature = "deadpool-postgres")]
pub use deadpool_postgres;
/// The tokio-postgres whose `Client` is a [`backend::Database`]: a
/// `Client` of another tokio-postgres version is another type.
#[cfg(feature = "tokio-postgres")]
pub use tokio_postgres;

#[cfg(feature = "neo4j")]
#[doc(hidden)]
pub use neo4j::PinnedGraph as __PinnedNeo4jGraph;
/// The neo4rs this crate implements `Database` for: a `Graph` of another
/// neo4rs version is another type, so use this one (or the same version).
#[cfg(feature = "neo4j")]
pub use neo4rs;
