//! Manual schema changes: the schema a run of migrations left, recorded, and
//! compared later with the live schema.
//!
//! The record is written after a run that applied something (by
//! [`Migrator::run_recording_schema`](crate::Migrator::run_recording_schema) or `migrate schema record`), for the
//! version the run reached, not after each migration: what the check needs
//! is the schema the last migration left, and one snapshot per run instead
//! of one per migration keeps a deploy of many migrations cheap. It lives in
//! its own table/node, written by this module, so the boot check still reads
//! one row and the engine does not know about it. The full snapshot text is
//! stored with its hash, so that the check names the objects that changed.

use super::schema::{SchemaDiff, SchemaSnapshot};
use crate::Checksum;
use std::fmt;

/// The schema as a run of migrations left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaRecord {
    /// The version the database was at (0: none applied).
    pub version: i64,
    /// [`SchemaSnapshot::hash`] of `snapshot`, as it was stored.
    pub hash: Checksum,
    /// The schema's objects.
    pub snapshot: SchemaSnapshot,
    /// ISO-8601, UTC.
    pub recorded_at: String,
}

impl SchemaRecord {
    /// A record of `snapshot` at `version`, stamped now.
    pub fn new(version: i64, snapshot: SchemaSnapshot) -> SchemaRecord {
        SchemaRecord {
            version,
            hash: snapshot.hash(),
            snapshot,
            recorded_at: crate::core::time::now_iso8601(),
        }
    }

    /// A record as a backend read it back. A stored hash that is not hex is
    /// kept as the hash of nothing, so the check reports it as a difference.
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
    pub(crate) fn from_stored(version: i64, hash: &str, snapshot: &str, recorded_at: String) -> SchemaRecord {
        SchemaRecord {
            version,
            hash: Checksum::from_hex(hash).unwrap_or(Checksum::ZERO),
            snapshot: SchemaSnapshot::parse(snapshot),
            recorded_at,
        }
    }
}

/// What [`Migrator::check_schema`](crate::Migrator::check_schema) found.
#[derive(Clone, Debug)]
pub struct SchemaCheck {
    /// The version the database is at now.
    pub current_version: i64,
    /// `None` when no schema was ever recorded.
    pub record: Option<SchemaRecord>,
    /// From the recorded schema to the live one: empty when nobody changed it.
    pub diff: SchemaDiff,
    /// The live schema's hash.
    pub live_hash: Checksum,
}

impl SchemaCheck {
    /// A record exists for the current version and the live schema matches it.
    pub fn is_unchanged(&self) -> bool {
        self.record
            .as_ref()
            .is_some_and(|r| r.version == self.current_version && r.hash == self.live_hash)
            && self.diff.is_empty()
    }
}

impl fmt::Display for SchemaCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(record) = &self.record else {
            return writeln!(
                f,
                "no schema was recorded yet: run `migrate schema record` (or `run_recording_schema`) after migrating"
            );
        };
        if record.version != self.current_version {
            writeln!(
                f,
                "the schema was recorded at version {} ({}), but the database is at version {}: \
                 migrations ran without recording; check the differences below, then `migrate schema record`",
                record.version, record.recorded_at, self.current_version
            )?;
        }
        if self.diff.is_empty() {
            if record.version == self.current_version {
                writeln!(
                    f,
                    "the schema is as migration {} left it (recorded {}, hash {})",
                    record.version, record.recorded_at, self.live_hash
                )?;
            }
            return Ok(());
        }
        writeln!(
            f,
            "the schema differs from what migration {} left ({} object(s); - recorded, + live):",
            record.version,
            self.diff.changes.len()
        )?;
        write!(f, "{}", self.diff)
    }
}
