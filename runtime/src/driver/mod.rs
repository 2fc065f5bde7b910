//! Databases reached through a plain driver rather than sqlx: rusqlite
//! and tokio-postgres. A driver does little (io.rs: run a script of
//! statements, read rows as text, run one migration transaction, lock);
//! the `Session` over it is written once (session.rs), from the tracking
//! statements every SQL database shares (sql/tracking.rs), bound as
//! literals (text.rs).
//!
//! - io.rs: the [`Driver`](io::Driver) trait;
//! - text.rs: the tracking statements bound, their rows decoded;
//! - session.rs: the `Session` of every driver;
//! - rusqlite.rs: SQLite through rusqlite, its write lock and file lock;
//! - tokio_postgres.rs: PostgreSQL through tokio-postgres, its advisory lock.

mod io;
mod session;
mod text;

#[cfg(feature = "rusqlite")]
pub(crate) mod rusqlite;
#[cfg(feature = "tokio-postgres")]
pub(crate) mod tokio_postgres;
