//! Rust code migrations: a `<version>_<name>.rs` file in the migration
//! folder, beside the SQL or Cypher files and in the same order, whose
//! `up` and `down` functions receive the migration's transaction on the
//! database the set is embedded for (docs/rust-migrations.md).
//!
//! `embed_migrations!("migrations", database = sqlite)` compiles each such
//! file as a module and, for each direction, a function of one signature,
//! [`Function`], that calls it through [`call`]: a function written for
//! another database's transaction fails `call`'s bound and the build. The
//! table keeps each function as a [`Code`], its type erased; the backend
//! that runs it downcasts it to the function type of its own connection, so
//! a set embedded for one database and run on another stops with
//! [`Error::CodeForAnotherDatabase`](crate::Error) before anything runs.
//!
//! The items here are what the macro's expansion names; an application
//! writes only its `up` and `down`. Running one, as a backend does, is
//! run.rs.

// A plain driver (driver/) runs no code migration.
#[cfg_attr(
    not(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "neo4j",
        feature = "chroma"
    )),
    allow(dead_code)
)]
pub(crate) mod run;

use crate::Error;
use std::future::Future;
use std::pin::Pin;

/// A boxed future that can be sent: what a code migration's function
/// returns, and what every `Database` and `Session` method returns
/// (re-exported as `backend::BoxFuture`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The function of a code migration for one direction, its type erased:
/// the backend that runs it downcasts `function` to the function type of
/// its own connection, and `database` names the database it was written
/// for in messages.
#[derive(Clone, Copy)]
pub struct Code {
    /// "SQLite", "PostgreSQL", "MySQL" or "Neo4j": `Session::backend`'s name.
    pub database: &'static str,
    /// The function, a [`Function`] of that database.
    pub function: &'static (dyn std::any::Any + Send + Sync),
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Code({})", self.database)
    }
}

/// A Rust code migration's functions, kept beside the table (which holds
/// its file name and checksum like any migration's), so that a folder
/// without one expands as it always did.
#[derive(Clone, Copy, Debug)]
pub struct CodeMigration {
    /// The migration's version.
    pub version: i64,
    /// Its `up`.
    pub up: Code,
    /// Its `down`; `None` when the file says `migrate:irreversible`.
    pub down: Option<Code>,
    /// A batch code migration's size and count query (`// migrate:batch
    /// size=N`, `// migrate:total`): its `up` is then a [`BatchFunction`].
    pub batch: Option<CodeBatch>,
}

/// The batch directives of a batch code migration: its `up` runs once per
/// batch with `size`, in a transaction of its own with the checkpoint,
/// until it returns 0 rows.
#[derive(Clone, Copy, Debug)]
pub struct CodeBatch {
    /// The size each call receives.
    pub size: u64,
    /// The count query of `// migrate:total`, for progress and its bound.
    pub total: Option<&'static str>,
}

impl CodeMigration {
    /// The function of `direction`.
    pub fn function(&self, direction: crate::Direction) -> Option<Code> {
        match direction {
            crate::Direction::Up => Some(self.up),
            crate::Direction::Down => self.down,
        }
    }
}

/// The error a code migration's function may return: any error, boxed
/// (`sqlx::Error`, `neo4rs::Error`, `anyhow::Error`, a `String` ...).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a code migration's function returns, its error boxed.
pub type Outcome = Result<(), BoxError>;

/// A database code migrations can be written for: the transaction their
/// functions receive. The marker types below are; each is implemented when
/// its cargo feature is on.
#[diagnostic::on_unimplemented(
    message = "embedded-migrations runs no code migration on `{Self}` in this build",
    note = "enable the cargo feature of that database (`sqlite`, `postgres`, `mysql`, `neo4j` or `chroma`) on embedded-migrations"
)]
pub trait CodeDatabase: Sized + 'static {
    /// What `up` and `down` receive: the migration's transaction (or, for a
    /// `migrate:no-transaction` migration, the connection).
    type Transaction: Send + 'static;
    /// The database as messages name it, `Session::backend`'s name.
    const NAME: &'static str;
}

/// `database = sqlite`: functions receive `&mut sqlx::SqliteConnection`.
#[derive(Clone, Copy, Debug)]
pub struct Sqlite;
/// `database = postgres`: functions receive `&mut sqlx::PgConnection`.
#[derive(Clone, Copy, Debug)]
pub struct Postgres;
/// `database = mysql` (MySQL and MariaDB): functions receive
/// `&mut sqlx::MySqlConnection`.
#[derive(Clone, Copy, Debug)]
pub struct MySql;
/// `database = neo4j`: functions receive `&mut neo4rs::Txn`.
#[derive(Clone, Copy, Debug)]
pub struct Neo4j;
/// `database = chroma`: functions receive `&mut chroma::ChromaClient`
/// (Chroma has no transactions: what they write stays, under the
/// migration's dirty mark until it is recorded).
#[derive(Clone, Copy, Debug)]
pub struct Chroma;

#[cfg(feature = "sqlite")]
impl CodeDatabase for Sqlite {
    type Transaction = sqlx::SqliteConnection;
    const NAME: &'static str = "SQLite";
}

#[cfg(feature = "postgres")]
impl CodeDatabase for Postgres {
    type Transaction = sqlx::PgConnection;
    const NAME: &'static str = "PostgreSQL";
}

#[cfg(feature = "mysql")]
impl CodeDatabase for MySql {
    type Transaction = sqlx::MySqlConnection;
    const NAME: &'static str = "MySQL";
}

#[cfg(feature = "chroma")]
impl CodeDatabase for Chroma {
    type Transaction = crate::chroma::ChromaClient;
    const NAME: &'static str = "ChromaDB";
}

#[cfg(feature = "neo4j")]
impl CodeDatabase for Neo4j {
    type Transaction = neo4rs::Txn;
    const NAME: &'static str = "Neo4j";
}

/// One direction of a code migration, as the table keeps it: the user's
/// function behind the one signature of its database.
pub type Function<D> = for<'c> fn(&'c mut <D as CodeDatabase>::Transaction) -> BoxFuture<'c, Outcome>;

/// The function of a code migration on a transaction of type `T`: what a
/// backend downcasts [`Code::function`] to.
#[cfg_attr(
    not(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "neo4j",
        feature = "chroma"
    )),
    allow(dead_code)
)]
pub(crate) type On<T> = for<'c> fn(&'c mut T) -> BoxFuture<'c, Outcome>;

/// A batch code migration's `up`, as the table keeps it: one batch, given
/// its size, returning the rows it processed (0 ends the migration).
pub type BatchFunction<D> = for<'c> fn(&'c mut <D as CodeDatabase>::Transaction, u64) -> BoxFuture<'c, BatchOutcome>;

/// What one call of a batch code migration returns: the rows it processed.
pub type BatchOutcome = Result<u64, BoxError>;

/// [`BatchFunction`] on a transaction of type `T`: what a backend
/// downcasts [`Code::function`] to for a batch code migration's `up`.
#[cfg_attr(
    not(any(
        feature = "sqlite",
        feature = "postgres",
        feature = "mysql",
        feature = "neo4j",
        feature = "chroma"
    )),
    allow(dead_code)
)]
pub(crate) type BatchOn<T> = for<'c> fn(&'c mut T, u64) -> BoxFuture<'c, BatchOutcome>;

/// A batch `up`, its type erased, for the table.
pub const fn batch_code<D: CodeDatabase>(function: &'static BatchFunction<D>) -> Code {
    Code {
        database: D::NAME,
        function,
    }
}

/// `function`, its type erased, for the table.
pub const fn code<D: CodeDatabase>(function: &'static Function<D>) -> Code {
    Code {
        database: D::NAME,
        function,
    }
}

/// A code migration's `up` or `down`: an `async fn` taking the database's
/// transaction and returning `Result<(), E>` for any error `E` that boxes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a code migration function for {D}",
    label = "a Rust code migration's `up` or `down` does not take the transaction of the database the macro names",
    note = "in a folder embedded with `database = sqlite` it is `pub async fn up(tx: &mut sqlx::SqliteConnection) -> Result<(), E>`; \
            `postgres` takes `&mut sqlx::PgConnection`, `mysql` `&mut sqlx::MySqlConnection`, `neo4j` `&mut neo4rs::Txn`, `chroma` `&mut embedded_migrations::chroma::ChromaClient`"
)]
pub trait MigrationFn<'c, D: CodeDatabase> {
    /// The future the function returns.
    type Future: Future<Output = Result<(), Self::Error>> + Send + 'c;
    /// The function's error.
    type Error: Into<BoxError>;
    /// Calls the function.
    fn call(self, tx: &'c mut D::Transaction) -> Self::Future;
}

impl<'c, D, F, Fut, E> MigrationFn<'c, D> for F
where
    D: CodeDatabase,
    F: FnOnce(&'c mut D::Transaction) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'c,
    E: Into<BoxError>,
{
    type Future = Fut;
    type Error = E;

    fn call(self, tx: &'c mut D::Transaction) -> Fut {
        self(tx)
    }
}

/// Calls a code migration's function, boxing its future and its error.
pub fn call<'c, D, F>(function: F, tx: &'c mut D::Transaction) -> BoxFuture<'c, Outcome>
where
    D: CodeDatabase,
    F: for<'x> MigrationFn<'x, D>,
{
    let future = function.call(tx);
    Box::pin(async move { future.await.map_err(Into::into) })
}

/// A batch code migration's `up`: an `async fn` taking the database's
/// transaction and the batch size, returning `Result<u64, E>`: the rows
/// this batch processed, 0 when none were left.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the `up` of a batch code migration for {D}",
    label = "a file that says `// migrate:batch size=N` has an `up` that takes the transaction and the batch size, and returns the rows it processed",
    note = "in a folder embedded with `database = sqlite` it is `pub async fn up(tx: &mut sqlx::SqliteConnection, size: u64) -> Result<u64, E>`; \
            `postgres` takes `&mut sqlx::PgConnection`, `mysql` `&mut sqlx::MySqlConnection`, `neo4j` `&mut neo4rs::Txn`"
)]
pub trait BatchMigrationFn<'c, D: CodeDatabase> {
    /// The future the function returns.
    type Future: Future<Output = Result<u64, Self::Error>> + Send + 'c;
    /// The function's error.
    type Error: Into<BoxError>;
    /// Calls the function for one batch of `size`.
    fn call(self, tx: &'c mut D::Transaction, size: u64) -> Self::Future;
}

impl<'c, D, F, Fut, E> BatchMigrationFn<'c, D> for F
where
    D: CodeDatabase,
    F: FnOnce(&'c mut D::Transaction, u64) -> Fut,
    Fut: Future<Output = Result<u64, E>> + Send + 'c,
    E: Into<BoxError>,
{
    type Future = Fut;
    type Error = E;

    fn call(self, tx: &'c mut D::Transaction, size: u64) -> Fut {
        self(tx, size)
    }
}

/// Calls a batch code migration's `up` for one batch, boxing its future
/// and its error.
pub fn call_batch<'c, D, F>(function: F, tx: &'c mut D::Transaction, size: u64) -> BoxFuture<'c, BatchOutcome>
where
    D: CodeDatabase,
    F: for<'x> BatchMigrationFn<'x, D>,
{
    let future = function.call(tx, size);
    Box::pin(async move { future.await.map_err(Into::into) })
}

/// The code migrations of a table that were written for another database
/// than `backend`: refused before anything runs.
pub(crate) fn check_database(
    migrations: &[crate::Migration],
    code: &[CodeMigration],
    backend: &'static str,
) -> Result<(), Error> {
    for entry in code {
        if entry.up.database != backend {
            let file = migrations
                .iter()
                .find(|m| m.version == entry.version)
                .map_or_else(|| entry.version.to_string(), |m| m.up.file.to_string());
            return Err(Error::CodeForAnotherDatabase {
                file,
                written_for: entry.up.database,
                database: backend,
            });
        }
    }
    Ok(())
}
