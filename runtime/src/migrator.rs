//! The API a user calls: [`Migrations`], the table `embed_migrations!`
//! emits, and [`Migrator`], that table with settings, where every operation
//! is a method.
//!
//! Each method is a two-line shim: it builds an [`Engine`] and hands it the
//! user's handle as `&dyn Connect`, a [`Database`] with its type and
//! language erased. That shim is all the application crate compiles of us;
//! the rules are compiled once, in this crate.

use crate::backend::Database;
use crate::code::CodeMigration;
use crate::engine::{DownTarget, Engine, Table, Tool};
use crate::readiness::Readiness;
use crate::records::HistoryEntry;
use crate::report::{Adoption, Plan, Progress, Repair, Report, Status};
use crate::snapshot::{Reversibility, SchemaCheck, SchemaRecord};
use crate::{Backup, Checksum, Cypher, Error, Language, Migration, Settings, Sql};
use std::marker::PhantomData;

/// The migrations of one folder, embedded by `embed_migrations!`.
///
/// Every operation (`run`, `plan`, `down`, `status`, ...) is a method of
/// [`Migrator`]: a table is a migrator with the default settings, and
/// dereferences to it, so `MIGRATIONS.run(&pool)` and
/// `MIGRATIONS.with(settings).run(&pool)` are the same code.
pub struct Migrations<L: Language = Sql> {
    defaults: Migrator<'static, L>,
}

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
        Self::__embedded_with_code(migrations, chains, repeatables, &[])
    }

    /// A folder with Rust code migrations: their functions, by version.
    #[doc(hidden)]
    pub const fn __embedded_with_code(
        migrations: &'static [Migration],
        chains: &'static [Checksum],
        repeatables: &'static [Migration],
        code: &'static [CodeMigration],
    ) -> Self {
        Migrations {
            defaults: Migrator {
                table: Table {
                    migrations,
                    chains,
                    repeatables,
                    code,
                },
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

    /// The table without its language, for a target that erases it.
    pub(crate) fn table(&self) -> Table {
        self.defaults.table
    }
}

impl<L: Language> std::ops::Deref for Migrations<L> {
    type Target = Migrator<'static, L>;

    fn deref(&self) -> &Migrator<'static, L> {
        &self.defaults
    }
}

/// A table of Cypher migrations, as `embed_migrations!` emits for a folder of
/// `.cypher`/`.cql` files.
pub type CypherMigrations = Migrations<Cypher>;

/// A table with settings, a rollback reason and a progress callback: the one
/// home of every operation.
pub struct Migrator<'a, L: Language> {
    table: Table,
    /// `None`: `Settings::default()`, which a `const` table cannot hold.
    settings: Option<Settings>,
    reason: Option<String>,
    progress: Option<&'a (dyn Fn(&Progress) + Send + Sync)>,
    language: PhantomData<fn() -> L>,
}

impl<L: Language> Clone for Migrator<'_, L> {
    fn clone(&self) -> Self {
        Migrator {
            table: self.table,
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

    /// The settings this migrator applies the table with.
    pub fn settings(&self) -> &Settings {
        static DEFAULT: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
        match &self.settings {
            Some(settings) => settings,
            None => DEFAULT.get_or_init(Settings::default),
        }
    }

    /// Every migration, in version order.
    pub fn migrations(&self) -> &'static [Migration] {
        self.table.migrations
    }

    /// The Rust code migrations' functions (`004_split_names.rs`), in
    /// version order; each is also in [`Migrator::migrations`], with its
    /// file name and checksum.
    pub fn code_migrations(&self) -> &'static [CodeMigration] {
        self.table.code
    }

    /// The repeatable migrations (`<name>.repeatable.sql`), in name order;
    /// each `version` is its negative tracking key.
    pub fn repeatables(&self) -> &'static [Migration] {
        self.table.repeatables
    }

    fn engine(&self) -> Engine<'_> {
        Engine::new(self.table, self.settings())
            .with_reason(self.reason.as_deref())
            .with_progress(self.progress)
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
        self.engine().down(db, DownTarget::Steps(steps)).await
    }

    /// Reverts every applied migration above `version` (0 reverts all).
    pub async fn down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        self.engine().down(db, DownTarget::Version(version)).await
    }

    /// [`down`](Self::down), after writing a backup of the whole database
    /// to `backup`'s path: SQLite `VACUUM INTO`, PostgreSQL `pg_dump`, MySQL
    /// and MariaDB `mariadb-dump` or `mysqldump`. Nothing is reverted
    /// unless the backup is complete; [`Error::BackupFailed`] says why it
    /// is not (the program missing, its own message, the path taken).
    /// With nothing to revert no backup is written. Each history row of
    /// this `down` gives the path in its reason (`backup: <path>`).
    /// Neo4j and Chroma refuse: docs/repair.md says why.
    pub async fn down_with_backup<D: Database<Language = L>>(
        &self,
        db: &D,
        steps: usize,
        backup: &Backup,
    ) -> Result<Report, Error> {
        self.engine()
            .down_after_backup(db, DownTarget::Steps(steps), Some(backup))
            .await
    }

    /// [`down_to`](Self::down_to) after a backup, as
    /// [`down_with_backup`](Self::down_with_backup).
    pub async fn down_to_with_backup<D: Database<Language = L>>(
        &self,
        db: &D,
        version: i64,
        backup: &Backup,
    ) -> Result<Report, Error> {
        self.engine()
            .down_after_backup(db, DownTarget::Version(version), Some(backup))
            .await
    }

    /// What `down` would do, changing nothing.
    pub async fn plan_down<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Plan, Error> {
        self.engine().plan_down(db, DownTarget::Steps(steps)).await
    }

    /// What `down_to` would do, changing nothing.
    pub async fn plan_down_to<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Plan, Error> {
        self.engine().plan_down(db, DownTarget::Version(version)).await
    }

    /// Every migration of the binary and of the database, with its state.
    pub async fn status<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.engine().status(db).await
    }

    /// The statements of the binary's up files that lock or destroy, by the
    /// rules of the database `db` is (docs/lint.md), with the versions it has
    /// applied. Reads the tracking rows only; changes nothing.
    pub async fn lint<D: Database<Language = L>>(&self, db: &D) -> Result<crate::LintReport, Error> {
        self.engine().lint(db).await
    }

    /// Compares every applied row with the binary; lists every problem.
    pub async fn validate<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        self.engine().validate(db).await
    }

    /// Every up and down run recorded, oldest first.
    pub async fn history<D: Database<Language = L>>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        self.engine().history(db).await
    }

    /// Where the database stands against this binary, in one value that
    /// never fails (a database that cannot be read gives the state
    /// `error`). Reads only: no lock, no table created.
    pub async fn readiness<D: Database<Language = L>>(&self, db: &D) -> Readiness {
        self.engine().readiness(db).await
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

    /// Applies, reverts and re-applies each pending migration on `db`, a
    /// scratch database, comparing schema snapshots: see [`Reversibility`].
    /// Leaves `db` migrated to the latest version (or, on a failure, with
    /// the failing migration reverted).
    ///
    /// Errors are those of `run` and `down` (a failing statement names its
    /// file and line); a down file that runs but leaves a different schema is
    /// not an error but [`Reversibility::failure`].
    pub async fn verify_reversible<D: Database<Language = L>>(&self, db: &D) -> Result<Reversibility, Error> {
        crate::snapshot::verify_reversible(&self.engine(), db).await
    }

    /// A baseline migration for `cargo xtask squash --to V`: migrates `db`,
    /// an empty scratch database (or one at exactly `to`), to `to`, and
    /// reads its schema as statements (SQLite `sqlite_master`, PostgreSQL
    /// `pg_dump --schema-only`, MySQL `SHOW CREATE`). The baseline's
    /// `migrate:baseline` directive names the versions it replaces and the
    /// running hash of their rows, by which a database migrated before the
    /// squash is recognised and left as it is (docs/squash.md).
    pub async fn squash_baseline<D: Database<Language = L>>(
        &self,
        db: &D,
        to: i64,
    ) -> Result<crate::snapshot::Baseline, Error> {
        crate::snapshot::squash_baseline(&self.engine(), db, to).await
    }

    /// Proves that this table, a squashed folder, and `unsquashed`, the
    /// folder before the squash, give the same schema: runs `unsquashed`
    /// on `unsquashed_db` and this table on `squashed_db` (two scratch
    /// databases of the same kind), compares their snapshots, then runs
    /// this table on `unsquashed_db`, which must not run the baseline, and
    /// validates it there (no drift, nothing missing).
    pub async fn verify_squashed<D: Database<Language = L>>(
        &self,
        unsquashed: &Migrator<'_, L>,
        unsquashed_db: &D,
        squashed_db: &D,
    ) -> Result<crate::snapshot::SquashCheck, Error> {
        crate::snapshot::verify_squashed(&self.engine(), &unsquashed.engine(), unsquashed_db, squashed_db).await
    }

    /// [`run`](Self::run), then, if it applied anything, records the schema
    /// it left for [`check_schema`](Self::check_schema). With nothing pending
    /// it costs what `run` costs: one row.
    pub async fn run_recording_schema<D: Database<Language = L>>(&self, db: &D) -> Result<Report, Error> {
        let engine = self.engine();
        let report = engine.up(db, None).await?;
        if !report.is_empty() {
            crate::snapshot::record_schema(&engine, db).await?;
        }
        Ok(report)
    }

    /// Records the live schema as the one the current version leaves.
    pub async fn record_schema<D: Database<Language = L>>(&self, db: &D) -> Result<SchemaRecord, Error> {
        crate::snapshot::record_schema(&self.engine(), db).await
    }

    /// Compares the live schema with the recorded one: manual changes.
    pub async fn check_schema<D: Database<Language = L>>(&self, db: &D) -> Result<SchemaCheck, Error> {
        crate::snapshot::check_schema(&self.engine(), db).await
    }
}

/// The operations driven on the calling thread, for a program with no
/// async runtime (a CLI tool, a desktop app on [`Rusqlite`](crate::Rusqlite)).
/// Each is its async namesake run to its end by a small executor of the
/// calling thread (`futures-executor`): the engine spawns nothing and
/// waits on no timer, so this needs no runtime, but the database's driver
/// must not either. rusqlite needs none; a sqlx pool or a tokio-postgres
/// client does, and belongs with the async methods.
#[cfg(feature = "blocking")]
impl<L: Language> Migrator<'_, L> {
    /// [`run`](Self::run), blocking.
    pub fn run_blocking<D: Database<Language = L>>(&self, db: &D) -> Result<Report, Error> {
        futures_executor::block_on(self.run(db))
    }

    /// [`run_to`](Self::run_to), blocking.
    pub fn run_to_blocking<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        futures_executor::block_on(self.run_to(db, version))
    }

    /// [`plan`](Self::plan), blocking.
    pub fn plan_blocking<D: Database<Language = L>>(&self, db: &D) -> Result<Plan, Error> {
        futures_executor::block_on(self.plan(db))
    }

    /// [`down`](Self::down), blocking.
    pub fn down_blocking<D: Database<Language = L>>(&self, db: &D, steps: usize) -> Result<Report, Error> {
        futures_executor::block_on(self.down(db, steps))
    }

    /// [`down_to`](Self::down_to), blocking.
    pub fn down_to_blocking<D: Database<Language = L>>(&self, db: &D, version: i64) -> Result<Report, Error> {
        futures_executor::block_on(self.down_to(db, version))
    }

    /// [`status`](Self::status), blocking.
    pub fn status_blocking<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        futures_executor::block_on(self.status(db))
    }

    /// [`validate`](Self::validate), blocking.
    pub fn validate_blocking<D: Database<Language = L>>(&self, db: &D) -> Result<Status, Error> {
        futures_executor::block_on(self.validate(db))
    }

    /// [`history`](Self::history), blocking.
    pub fn history_blocking<D: Database<Language = L>>(&self, db: &D) -> Result<Vec<HistoryEntry>, Error> {
        futures_executor::block_on(self.history(db))
    }

    /// [`readiness`](Self::readiness), blocking.
    pub fn readiness_blocking<D: Database<Language = L>>(&self, db: &D) -> Readiness {
        futures_executor::block_on(self.readiness(db))
    }
}
