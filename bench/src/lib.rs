//! Benchmark harness: embedded-migrations against `sqlx::migrate!`
//! and refinery's `embed_migrations!`, in one run.
//!
//! The macros take literal paths, so the harness (`src/main.rs`) first writes
//! the migration folders and one small app crate per tool and N under
//! `generated/` ([`gen`]); each app holds only the tool's real macro call and
//! hands the embedded set to the workloads in [`work`], which print one JSON
//! line per measured series for the harness to collect.

pub mod gen;
pub mod real;
pub mod stats;
pub mod work;
