//! What differs between sqlx 0.9 and sqlx 0.8 (lib.rs names the one in use
//! `sqlx`), said once, so every statement and every bound reads the same on
//! both versions:
//!
//! - 0.9 takes a query's text as `impl SqlSafeStr`, and text built at run
//!   time (ours: quoted names, the migration's own text) must be wrapped in
//!   `AssertSqlSafe`; 0.8 takes a `&str`. [`assert_sql_safe!`] is either.
//! - 0.9's `Database::Arguments` has no lifetime and `IntoArguments` is
//!   generic over the database alone; 0.8 gives both a lifetime `'q`.
//!   [`Arguments`] and [`IntoArguments`] take the lifetime on both.
//! - 0.8's `RawSql` leaves a generic `async fn` that awaits it not provably
//!   `Send`; [`raw_sql`] is 0.9's own on 0.9, and on 0.8 a thin wrapper
//!   with 0.9's bounds.

/// Text built at run time, handed to `sqlx::query`, `raw_sql` or
/// `query_scalar`: every such text here is ours (quoted identifiers,
/// literals we render, a migration's own file), never a user's input.
///
/// sqlx 0.9: `AssertSqlSafe(text)`, the text moved into the query.
#[cfg(feature = "sqlx-0-9")]
macro_rules! assert_sql_safe {
    ($text:expr) => {
        sqlx::AssertSqlSafe($text)
    };
}

/// Text built at run time, handed to `sqlx::query`, `raw_sql` or
/// `query_scalar`: every such text here is ours (quoted identifiers,
/// literals we render, a migration's own file), never a user's input.
///
/// sqlx 0.8: the text borrowed, so a query lives no longer than its text
/// (a temporary lives to the end of the statement that awaits it).
#[cfg(not(feature = "sqlx-0-9"))]
macro_rules! assert_sql_safe {
    ($text:expr) => {
        &*$text
    };
}

pub(crate) use assert_sql_safe;

/// The arguments a query of `DB` carries.
#[cfg(feature = "sqlx-0-9")]
pub(crate) type Arguments<'q, DB> = <DB as sqlx::Database>::Arguments;

/// The arguments a query of `DB` carries.
#[cfg(not(feature = "sqlx-0-9"))]
pub(crate) type Arguments<'q, DB> = <DB as sqlx::Database>::Arguments<'q>;

/// sqlx's `IntoArguments`, with the lifetime 0.8 gives it (0.9's has none).
#[cfg(feature = "sqlx-0-9")]
pub(crate) trait IntoArguments<'q, DB: sqlx::Database>: sqlx::IntoArguments<DB> {}

#[cfg(feature = "sqlx-0-9")]
impl<DB: sqlx::Database, A: sqlx::IntoArguments<DB>> IntoArguments<'_, DB> for A {}

/// sqlx's `IntoArguments`, with the lifetime 0.8 gives it (0.9's has none).
#[cfg(not(feature = "sqlx-0-9"))]
pub(crate) trait IntoArguments<'q, DB: sqlx::Database>: sqlx::IntoArguments<'q, DB> {}

#[cfg(not(feature = "sqlx-0-9"))]
impl<'q, DB: sqlx::Database, A: sqlx::IntoArguments<'q, DB>> IntoArguments<'q, DB> for A {}

/// `sqlx::raw_sql`: text sent as it is, in the simple protocol.
#[cfg(feature = "sqlx-0-9")]
pub(crate) use sqlx::raw_sql;

/// `sqlx::raw_sql`: text sent as it is, in the simple protocol.
///
/// sqlx 0.8's own `RawSql` names its database as the executor's associated
/// type (`E::Database`), which leaves a future in a generic `async fn` not
/// provably `Send` ("implementation of `Executor` is not general enough");
/// this one names it as a parameter, as 0.9 does, and hands the text to the
/// executor the same way.
#[cfg(not(feature = "sqlx-0-9"))]
pub(crate) fn raw_sql(sql: &str) -> RawSql<'_> {
    RawSql(sqlx::raw_sql(sql))
}

/// Text for [`raw_sql`], run by the methods sqlx 0.9's `RawSql` has.
#[cfg(not(feature = "sqlx-0-9"))]
pub(crate) struct RawSql<'q>(sqlx::RawSql<'q>);

// sqlx's own methods, each kept though a backend alone uses only some.
#[cfg(not(feature = "sqlx-0-9"))]
#[allow(dead_code)]
impl<'q> RawSql<'q> {
    pub(crate) fn execute<'e, E, DB>(self, executor: E) -> BoxFuture<'e, Result<DB::QueryResult, sqlx::Error>>
    where
        'q: 'e,
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
    {
        executor.execute(self.0)
    }

    pub(crate) fn fetch_all<'e, E, DB>(self, executor: E) -> BoxFuture<'e, Result<Vec<DB::Row>, sqlx::Error>>
    where
        'q: 'e,
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
    {
        executor.fetch_all(self.0)
    }

    pub(crate) fn fetch_one<'e, E, DB>(self, executor: E) -> BoxFuture<'e, Result<DB::Row, sqlx::Error>>
    where
        'q: 'e,
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
    {
        executor.fetch_one(self.0)
    }

    pub(crate) fn fetch_optional<'e, E, DB>(self, executor: E) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'q: 'e,
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
    {
        executor.fetch_optional(self.0)
    }

    pub(crate) fn fetch_many<'e, E, DB>(self, executor: E) -> BoxStream<'e, Result<Either<DB>, sqlx::Error>>
    where
        'q: 'e,
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
    {
        executor.fetch_many(self.0)
    }
}

/// What a statement of many yields: its result, or a row.
#[cfg(not(feature = "sqlx-0-9"))]
type Either<DB> = sqlx::Either<<DB as sqlx::Database>::QueryResult, <DB as sqlx::Database>::Row>;

#[cfg(not(feature = "sqlx-0-9"))]
use futures_util::future::BoxFuture;
#[cfg(not(feature = "sqlx-0-9"))]
use futures_util::stream::BoxStream;
