//! Migration folders for the shared scenarios; portable SQL that SQLite,
//! PostgreSQL and MySQL all accept.

use embedded_migrations::{embed_migrations, Migrations};

/// 001 create_a, 002 create_b, 003 seed_a.
pub static BASE: Migrations = embed_migrations!("tests/fixtures/base");
/// BASE with 002 edited after it was applied, plus a new 004.
pub static DRIFTED: Migrations = embed_migrations!("tests/fixtures/drifted");
/// An older binary: 001 only.
pub static SHORT: Migrations = embed_migrations!("tests/fixtures/short");
/// 001 and 003: 002 arrives later from a branch merged late.
pub static GAPPED: Migrations = embed_migrations!("tests/fixtures/gapped");
/// 002 creates table `c`, then fails on its second statement.
pub static FAILING: Migrations = embed_migrations!("tests/fixtures/failing");
/// 002's down file says `migrate:irreversible`.
pub static IRREVERSIBLE: Migrations = embed_migrations!("tests/fixtures/irreversible");
