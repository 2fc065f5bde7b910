//! The one place where the migration model and the folder rules live.
//!
//! The proc macro checks a folder with [`scan`] at build time, xtask runs the
//! very same [`scan`] from the command line, and the runtime works on the
//! [`Migration`] values the macro emits. Keeping them together is what makes a
//! build error, `cargo xtask validate` and the runtime agree on every rule.
//!
//! - `migration`: [`Language`], [`Direction`], and the [`Migration`] and
//!   [`Script`] the macro embeds;
//! - `checksum`: a file's [`Checksum`] and the running hash over a set;
//! - `directive`: the [`Header`] of a file, its `migrate:` lines;
//! - [`split`]: the statement splitter;
//! - `folder`: [`scan`], the folder rules, run in phases;
//! - `problem`: the [`Rule`] a [`Problem`] reports broken;
//! - `scanned`: the [`Folder`] a scan gives back;
//! - [`baseline`]: a squashed folder's baseline migration;
//! - [`batch`]: batch migrations, checked at build time and run by the
//!   runtime;
//! - [`chroma`]: the steps of a ChromaDB migration file;
//! - `refusal`: statements a SQL file must not hold;
//! - [`placeholder`]: `${name}` in a file, replaced at run time;
//! - [`lint`]: statements that lock or destroy, per database, and the
//!   `migrate:allow` lines that permit one with a reason;
//! - [`time`]: timestamps without a date crate.

pub mod baseline;
pub mod batch;
mod checksum;
pub mod chroma;
mod directive;
mod folder;
pub mod lint;
mod migration;
pub mod placeholder;
mod problem;
mod refusal;
mod scanned;
pub mod split;
pub mod time;
pub mod timeout;

pub use checksum::{chain_step, checksum, Checksum};
pub use directive::{parse_header, Allow, Header};
pub use folder::{
    diesel_version, parse_file_name, repeatable_key, scan, scan_as, scan_layout, FileName, Layout,
    DIESEL_SETUP_VERSION, REPEATABLE,
};
pub use migration::{Direction, Language, Migration, Script};
pub use problem::{Problem, Rule};
pub use scanned::{Folder, ScannedFile, ScannedMigration, ScannedRepeatable};
