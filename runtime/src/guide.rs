//! One chapter per topic, from the migration folder to the ops command line.
//! Each chapter is a file of the repository's `docs/` folder, shown here as
//! it is there; its Rust examples are compiled, and most are run, as
//! doctests of this crate.
//!
//! 1. [The folder](crate::guide::folder): file names, pairs, repeatable migrations, header directives.
//! 2. [Build errors](crate::guide::build_errors): every rule the build checks, the statements it refuses, rebuilds.
//! 3. [At run time](crate::guide::runtime): the calls, the settings, what `run` does, errors, a database ahead of the binary.
//! 4. [SQLite](crate::guide::sqlite), [PostgreSQL](crate::guide::postgres) (and TimescaleDB), [MySQL and MariaDB](crate::guide::mysql), [Neo4j](crate::guide::neo4j), [ChromaDB](crate::guide::chroma); without sqlx: [rusqlite and tokio-postgres](crate::guide::drivers), and the blocking API.
//! 5. [Several databases and tenants](crate::guide::targets): `Targets`, `Tenants`, plans, tenants on the command line.
//! 6. [Health checks and deploy gates](crate::guide::health): `Readiness`, `migrate check`.
//! 7. [Repair and adoption](crate::guide::repair): damaged tracking tables, `repair`, `baseline`, `import`.
//! 8. [The command line](crate::guide::cli): the `migrate` commands in your binary, JSON, exit codes, `cargo xtask`.
//! 9. [Batch migrations](crate::guide::batches): backfills on big tables, resumable.
//! 10. [Testing](crate::guide::testing): `verify_reversible`, the test kit, schema record and check.
//! 11. [Writing a backend](crate::guide::backend): the `Database` and `Session` contract, the capabilities, a complete in-memory backend.
//! 12. [Migrations written in Rust](crate::guide::rust_migrations): `.rs` files in the folder, typed to their database.
//! 13. [Dangerous changes](crate::guide::lint): the lint, its rules per database, `migrate:allow`, `migrate lint`.
//! 14. [Placeholders](crate::guide::placeholders): `${name}` in a file, its value from the settings, secrets, the escape.
//!
//! Links between chapters point at the `.md` files, for reading on the
//! repository's host; here, use the list above. A chapter whose examples
//! need a feature (a backend, `cli`, `testkit`) is shown only in a build
//! with that feature, such as docs.rs's `--all-features` build.
//!
//! The examples embed folders under `docs/migrations/`, relative to this
//! crate's `Cargo.toml` as every `embed_migrations!` path is: in your crate
//! the path is your own folder's, such as `"migrations"`.

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/folder.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "The folder and its directives (shown with the `sqlite` feature)."
)]
pub mod folder {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/build-errors.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "What each build error means (shown with the `sqlite` feature)."
)]
// Its `build.rs` example is a `fn main`, which is the point of it.
#[allow(clippy::needless_doctest_main)]
pub mod build_errors {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/runtime.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "What happens at run time (shown with the `sqlite` feature)."
)]
pub mod runtime {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/sqlite.md"))]
#[cfg_attr(not(feature = "sqlite"), doc = "SQLite (shown with the `sqlite` feature).")]
pub mod sqlite {}

#[cfg_attr(feature = "postgres", doc = include_str!("../docs/postgres.md"))]
#[cfg_attr(
    not(feature = "postgres"),
    doc = "PostgreSQL and TimescaleDB (shown with the `postgres` feature)."
)]
pub mod postgres {}

#[cfg_attr(feature = "mysql", doc = include_str!("../docs/mysql.md"))]
#[cfg_attr(not(feature = "mysql"), doc = "MySQL and MariaDB (shown with the `mysql` feature).")]
pub mod mysql {}

#[cfg_attr(feature = "neo4j", doc = include_str!("../docs/neo4j.md"))]
#[cfg_attr(not(feature = "neo4j"), doc = "Neo4j (shown with the `neo4j` feature).")]
pub mod neo4j {}

#[cfg_attr(feature = "chroma", doc = include_str!("../docs/chroma.md"))]
#[cfg_attr(not(feature = "chroma"), doc = "ChromaDB (shown with the `chroma` feature).")]
pub mod chroma {}

#[cfg_attr(
    all(feature = "rusqlite", feature = "tokio-postgres"),
    doc = include_str!("../docs/drivers.md")
)]
#[cfg_attr(
    not(all(feature = "rusqlite", feature = "tokio-postgres")),
    doc = "rusqlite and tokio-postgres, and the blocking API (shown with the `rusqlite` and `tokio-postgres` features)."
)]
pub mod drivers {}

#[cfg_attr(all(feature = "sqlite", feature = "cli"), doc = include_str!("../docs/targets.md"))]
#[cfg_attr(
    not(all(feature = "sqlite", feature = "cli")),
    doc = "Several databases and tenants (shown with the `sqlite` and `cli` features)."
)]
pub mod targets {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/health.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "Health checks and deploy gates (shown with the `sqlite` feature)."
)]
pub mod health {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/repair.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "Repair and adoption (shown with the `sqlite` feature)."
)]
pub mod repair {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/squash.md"))]
#[cfg_attr(not(feature = "sqlite"), doc = "Squashing (shown with the `sqlite` feature).")]
pub mod squash {}

#[cfg_attr(all(feature = "sqlite", feature = "cli"), doc = include_str!("../docs/cli.md"))]
#[cfg_attr(
    not(all(feature = "sqlite", feature = "cli")),
    doc = "The command line (shown with the `sqlite` and `cli` features)."
)]
pub mod cli {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/batches.md"))]
#[cfg_attr(not(feature = "sqlite"), doc = "Batch migrations (shown with the `sqlite` feature).")]
pub mod batches {}

#[cfg_attr(all(feature = "sqlite", feature = "testkit"), doc = include_str!("../docs/testing.md"))]
#[cfg_attr(
    not(all(feature = "sqlite", feature = "testkit")),
    doc = "Testing: reversibility, the test kit, schema snapshots (shown with the `sqlite` and `testkit` features)."
)]
pub mod testing {}

#[doc = include_str!("../docs/backend.md")]
pub mod backend {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/rust-migrations.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "Migrations written in Rust (shown with the `sqlite` feature)."
)]
pub mod rust_migrations {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/lint.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "Dangerous changes: the lint (shown with the `sqlite` feature)."
)]
pub mod lint {}

#[cfg_attr(feature = "sqlite", doc = include_str!("../docs/placeholders.md"))]
#[cfg_attr(
    not(feature = "sqlite"),
    doc = "Placeholders: `${name}` in a file, its value from the settings (shown with the `sqlite` feature)."
)]
pub mod placeholders {}
