//! Schema snapshots: the database's schema as deterministic, normalised text,
//! so that two databases with the same schema give the same text whatever
//! order their objects were created in.
//!
//! A snapshot is a sorted list of objects, one per line:
//!
//! ```text
//! column users.email: text NOT NULL
//! index users_email: CREATE INDEX users_email ON public.users USING btree (email)
//! table users: columns(id, email, created_at)
//! ```
//!
//! The key (`<kind> <name>`) names the object; the rest is its definition as
//! the database reports it, whitespace collapsed. The migration tracking
//! tables (and their nodes in Neo4j) are left out, under the table name the
//! [`Settings`](crate::Settings) give. What each backend reads is in its
//! `snapshot.rs` and in the guide's chapter on testing.
//!
//! Four uses: [`Migrator::verify_squashed`](crate::Migrator::verify_squashed)
//! (do a squashed folder and the unsquashed one give the same schema?), [`Migrator::verify_reversible`](crate::Migrator::verify_reversible)
//! (does every down file undo its up file?), the schema record and check
//! (has someone changed the schema by hand since the last migration?), and
//! [`SchemaSnapshot::diff`] in the user's own tests.

mod check;
mod record;
mod schema;
mod squash;
mod verify;

pub use crate::backend::{Snapshot, SnapshotFuture};
pub(crate) use check::{check_schema, record_schema};
pub use record::{SchemaCheck, SchemaRecord};
#[cfg(feature = "sqlite")]
pub(crate) use schema::collapse_whitespace;
pub use schema::{ObjectChange, SchemaDiff, SchemaSnapshot};
pub(crate) use squash::{squash_baseline, verify_squashed};
pub use squash::{Baseline, SquashCheck};
pub(crate) use verify::verify_reversible;
pub use verify::{NotReverted, Reversibility};
