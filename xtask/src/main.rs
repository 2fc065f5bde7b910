//! `cargo xtask`: project chores that need no build of the app (and, but for `squash`, no database).
//!
//! - `new-migration <name>` writes the next up/down pair from a template
//!   (`--rust`: the next Rust code migration, `<version>_<name>.rs`; with
//!   `--batch`, one that commits batch by batch);
//! - `validate [dir ...]` checks folders with the very rules `embed_migrations!`
//!   applies at build time (`embedded_migrations_core::scan`, the one shared
//!   implementation), and lists every problem.
//!
//! - `lint [dir ...] [--db X] [--json]` lists the statements that lock or
//!   destroy, with the rules of each folder's database
//!   (`embedded_migrations_core::lint`, what `embed_migrations!(..., lint =
//!   "deny")` and `migrate lint` apply).
//!
//! - `squash --to V --database-url URL` replaces the migrations up to V with
//!   one baseline migration written from a scratch database's schema
//!   (`squash.rs`; the one command here that needs a database).
//!
//! Exit codes: 0 success, 1 lint findings, 2 refused (bad name, broken folder, validation
//! problems, usage). Relative paths are taken from the workspace root, so the
//! command means the same thing from any directory of the project.

mod refused;
mod squash;

use refused::Refused;

use clap::{Parser, Subcommand, ValueEnum};
use embedded_migrations_core::lint::Dialect;
use embedded_migrations_core::{parse_file_name, scan_as, scan_layout, time, Folder, Language, Layout, Problem};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Scaffold and check embedded migrations",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the next up/down migration pair from the database's template.
    NewMigration {
        /// Lowercase letters, digits and underscores, e.g. `add_user_preferences`.
        name: String,
        /// Migration folder (default: `migrations/<db>`).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Which template to use (default: guessed from the folder's name or files).
        #[arg(long, value_enum)]
        db: Option<Db>,
        /// Version the migration with the current UTC time (`20261123093000`)
        /// instead of the next number. Folders already using timestamps get
        /// one without this flag.
        #[arg(long)]
        timestamp: bool,
        /// Write a Rust code migration (`<version>_<name>.rs`, its `up` and
        /// `down` functions typed to the database) instead of a pair of files.
        #[arg(long)]
        rust: bool,
        /// With `--rust`: a batch code migration (`// migrate:batch size=N`), whose
        /// `up` is called batch after batch, each committed with its checkpoint.
        #[arg(long, requires = "rust")]
        batch: bool,
    },
    /// Check migration folders with the same rules as `embed_migrations!`, listing every problem.
    Validate {
        /// Folders to check (default: every folder under `migrations/`).
        dirs: Vec<PathBuf>,
        /// Another tool's folder layout, as `embed_migrations!`'s `layout = "..."` reads it.
        #[arg(long, value_enum)]
        layout: Option<ForeignLayout>,
    },
    /// Replace the migrations up to V with one baseline migration, written from the schema of a
    /// scratch database migrated to V (docs/squash.md). Deletes the replaced files.
    Squash {
        /// The last version the baseline replaces.
        #[arg(long, value_name = "V")]
        to: i64,
        /// Migration folder (default: `migrations/<db>`).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Which database the folder is for (default: guessed from the folder's name).
        #[arg(long, value_enum)]
        db: Option<Db>,
        /// An empty scratch database (or one migrated to exactly V) of that kind:
        /// sqlite:..., postgres://..., mysql://...; it is migrated to V.
        #[arg(long, value_name = "URL")]
        database_url: String,
    },
    /// List the statements that lock or destroy (docs/lint.md), with the rules of each folder's database.
    Lint {
        /// Folders to lint (default: every folder under `migrations/`).
        dirs: Vec<PathBuf>,
        /// Whose rules apply (default: guessed from each folder's name, e.g. `migrations/postgres`).
        #[arg(long, value_enum)]
        db: Option<Db>,
        /// Print the findings as JSON: one folder's as an array, several as an object keyed by folder.
        #[arg(long)]
        json: bool,
        /// Another tool's folder layout, as `embed_migrations!`'s `layout = "..."` reads it.
        #[arg(long, value_enum)]
        layout: Option<ForeignLayout>,
    },
}

/// The folder layouts of other tools that `embed_migrations!` reads as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ForeignLayout {
    /// diesel's `<timestamp>_<name>/up.sql`, `down.sql`, `metadata.toml`.
    Diesel,
    /// refinery's `V<n>__<name>.sql`, with a `V<n>__<name>.down.sql` beside each.
    Refinery,
}

/// The layout to scan with: ours without `--layout`.
fn layout_of(layout: Option<ForeignLayout>) -> Layout {
    match layout {
        None => Layout::Native,
        Some(ForeignLayout::Diesel) => Layout::Diesel,
        Some(ForeignLayout::Refinery) => Layout::Refinery,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
    Mysql,
    Neo4j,
    Chroma,
}

impl Db {
    fn from_folder_name(name: &str) -> Option<Db> {
        match name {
            "sqlite" => Some(Db::Sqlite),
            "postgres" | "postgresql" | "pg" => Some(Db::Postgres),
            "mysql" | "mariadb" => Some(Db::Mysql),
            "neo4j" | "cypher" => Some(Db::Neo4j),
            "chroma" | "chromadb" => Some(Db::Chroma),
            _ => None,
        }
    }

    /// How the lint reads this database's migrations: Chroma's steps
    /// (create, modify, delete, copy a collection) lock nothing a lint
    /// rule could name, so it has none.
    fn dialect(self) -> Option<Dialect> {
        match self {
            Db::Sqlite => Some(Dialect::Sqlite),
            Db::Postgres => Some(Dialect::Postgres),
            Db::Mysql => Some(Dialect::MySql),
            Db::Neo4j => Some(Dialect::Cypher),
            Db::Chroma => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
            Db::Mysql => "mysql",
            Db::Neo4j => "neo4j",
            Db::Chroma => "chroma",
        }
    }

    fn language(self) -> Language {
        match self {
            Db::Neo4j => Language::Cypher,
            Db::Chroma => Language::Chroma,
            _ => Language::Sql,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Db::Neo4j => "cypher",
            Db::Chroma => "toml",
            _ => "sql",
        }
    }

    /// The template of a Rust code migration for this database.
    fn code_template(self) -> &'static str {
        match self {
            Db::Sqlite => include_str!("../templates/sqlite.rs"),
            Db::Postgres => include_str!("../templates/postgres.rs"),
            Db::Mysql => include_str!("../templates/mysql.rs"),
            Db::Neo4j => include_str!("../templates/neo4j.rs"),
            Db::Chroma => include_str!("../templates/chroma.rs"),
        }
    }

    /// The template of a batch code migration for this database.
    fn batch_template(self) -> &'static str {
        match self {
            Db::Sqlite => include_str!("../templates/sqlite.batch.rs"),
            Db::Postgres => include_str!("../templates/postgres.batch.rs"),
            Db::Mysql => include_str!("../templates/mysql.batch.rs"),
            Db::Neo4j => include_str!("../templates/neo4j.batch.rs"),
            Db::Chroma => include_str!("../templates/chroma.batch.rs"),
        }
    }

    /// (up, down) templates.
    fn templates(self) -> (&'static str, &'static str) {
        match self {
            Db::Sqlite => (
                include_str!("../templates/sqlite.up.sql"),
                include_str!("../templates/sqlite.down.sql"),
            ),
            Db::Postgres => (
                include_str!("../templates/postgres.up.sql"),
                include_str!("../templates/postgres.down.sql"),
            ),
            Db::Mysql => (
                include_str!("../templates/mysql.up.sql"),
                include_str!("../templates/mysql.down.sql"),
            ),
            Db::Neo4j => (
                include_str!("../templates/neo4j.up.cypher"),
                include_str!("../templates/neo4j.down.cypher"),
            ),
            Db::Chroma => (
                include_str!("../templates/chroma.up.toml"),
                include_str!("../templates/chroma.down.toml"),
            ),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::NewMigration {
            name,
            dir,
            db,
            timestamp,
            rust,
            batch,
        } => new_migration(&root, &name, dir.as_deref(), db, timestamp, rust.then_some(batch)),
        Command::Validate { dirs, layout } => validate(&root, &dirs, layout_of(layout)),
        Command::Lint { dirs, db, json, layout } => lint(&root, &dirs, db, json, layout_of(layout)),
        Command::Squash {
            to,
            dir,
            db,
            database_url,
        } => squash_folder(&root, to, dir.as_deref(), db, &database_url),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Refused(message)) if message.is_empty() => ExitCode::from(1),
        Err(Refused(message)) => {
            let _ = std::io::stdout().flush();
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The xtask crate sits one level below the workspace root.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn resolve(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

/// How a path is shown: relative to the workspace root when inside it, as the
/// user would type it.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn check_name(name: &str) -> Result<(), Refused> {
    // The name rule is core's: build the file name and let its parser judge.
    if parse_file_name(&format!("1_{name}.up.sql")).is_ok() {
        return Ok(());
    }
    let suggestion: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>()
        .split('_')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let mut message = format!("`{name}` is not a migration name: use lowercase letters, digits and underscores only");
    if !suggestion.is_empty() && parse_file_name(&format!("1_{suggestion}.up.sql")).is_ok() {
        let _ = write!(message, ", e.g. `{suggestion}`");
    }
    message.push_str("; nothing was written");
    Err(Refused(message))
}

/// True when the folder has no file a scan would look at (dot files aside).
fn is_empty_folder(dir: &Path) -> Result<bool, Refused> {
    let entries = std::fs::read_dir(dir).map_err(|err| Refused(format!("cannot read `{}`: {err}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|err| Refused(format!("cannot read `{}`: {err}", dir.display())))?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            return Ok(false);
        }
    }
    Ok(true)
}

fn list_problems(label: &str, problems: &[Problem]) -> String {
    let mut text = format!("`{label}` breaks the migration rules ({} problem(s)):", problems.len());
    for problem in problems {
        let _ = write!(text, "\n  - {problem}");
    }
    text
}

/// Versions at or above this many digits are read as `YYYYMMDDhhmmss` timestamps.
const TIMESTAMP_DIGITS: usize = 14;

fn new_migration(
    root: &Path,
    name: &str,
    dir: Option<&Path>,
    db: Option<Db>,
    timestamp: bool,
    // `Some(batch)`: a Rust code migration, a batch one when `batch`.
    rust: Option<bool>,
) -> Result<(), Refused> {
    check_name(name)?;
    let dir = target_folder(root, dir, db)?;
    let label = shown(root, &dir);
    let existing = existing_folder(&dir, &label)?;
    let db = folder_db(&dir, &label, db, existing.as_ref())?;
    if let Some(folder) = &existing {
        check_fits(folder, &label, db, name)?;
    }
    let highest = existing
        .as_ref()
        .and_then(|folder| folder.migrations.last())
        .map(|m| (m.version, m.version_text.as_str()));
    let version_text = next_version(highest, existing.as_ref(), timestamp)?;
    if let Some(batch) = rust {
        write_code(root, &dir, db, name, &version_text, batch)?;
        let what = match batch {
            false => "write the change in `up` and its reverse in `down`",
            true => {
                "write one batch in `up` (the next `size` items not done yet; return how many, 0 ends it) \
                 and the reverse of the whole change in `down`"
            }
        };
        println!(
            "{what}; embed the folder with `embed_migrations!(\"{}\", database = {})`",
            shown(root, &dir),
            db.name()
        );
        return Ok(());
    }
    write_pair(root, &dir, db, name, &version_text)?;
    println!(
        "write the change in the up file and its reverse in the down file (the {} template's comments show the way); \
         the build refuses them while they hold no statement",
        db.name()
    );
    Ok(())
}

/// The folder the pair goes into: `--dir`, or `migrations/<db>`.
fn target_folder(root: &Path, dir: Option<&Path>, db: Option<Db>) -> Result<PathBuf, Refused> {
    let dir = match (dir, db) {
        (Some(dir), _) => resolve(root, dir),
        (None, Some(db)) => root.join("migrations").join(db.name()),
        (None, None) => {
            return Err(Refused(
                "say which folder: `--db sqlite|postgres|mysql|neo4j|chroma` (for `migrations/<db>`) or `--dir <folder>`; nothing was written"
                    .to_string(),
            ))
        }
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Refused(format!(
            "`{}` is a file, not a folder; nothing was written",
            shown(root, &dir)
        )));
    }
    Ok(dir)
}

/// The folder's migrations, `None` for a new or empty folder (it starts
/// the sequence). Any other folder must pass every rule first, so that the
/// new pair is not added to a broken set.
fn existing_folder(dir: &Path, label: &str) -> Result<Option<Folder>, Refused> {
    if !dir.exists() || is_empty_folder(dir)? {
        return Ok(None);
    }
    match scan_as(dir, label) {
        Ok(folder) => Ok(Some(folder)),
        Err(problems) => Err(Refused(format!(
            "{}\nfix these first (`cargo xtask validate {label}`); nothing was written",
            list_problems(label, &problems)
        ))),
    }
}

/// The database the folder is for: `--db`, a Cypher folder's, or the
/// folder's name.
fn folder_db(dir: &Path, label: &str, db: Option<Db>, existing: Option<&Folder>) -> Result<Db, Refused> {
    let named = dir.file_name().and_then(|n| n.to_str()).and_then(Db::from_folder_name);
    match (db, existing) {
        (Some(db), _) => Ok(db),
        (None, Some(folder)) if folder.language == Language::Cypher => Ok(Db::Neo4j),
        (None, Some(folder)) if folder.language == Language::Chroma => Ok(Db::Chroma),
        (None, _) => named.ok_or_else(|| {
            Refused(format!(
                "cannot tell which database `{label}` is for; add `--db sqlite|postgres|mysql|neo4j|chroma`; nothing was written"
            ))
        }),
    }
}

/// The new pair fits the folder: same language, a name not taken.
fn check_fits(folder: &Folder, label: &str, db: Db, name: &str) -> Result<(), Refused> {
    // A folder of Rust code migrations alone says no language: its
    // database is the macro's `database = ...`, which `--db` names here.
    let has_files = folder.migrations.iter().any(|m| !m.up.file_name.ends_with(".rs"));
    if has_files && folder.language != db.language() {
        let (has, wants) = (folder.language.label(), db.language().label());
        return Err(Refused(format!(
            "`{label}` holds {has} migrations and `--db {}` writes {wants}; a folder holds one language; nothing was written",
            db.name()
        )));
    }
    if let Some(same) = folder.migrations.iter().find(|m| m.name == name) {
        return Err(Refused(format!(
            "`{label}` already has a migration named `{name}`: `{}`; pick another name; nothing was written",
            same.up.file_name
        )));
    }
    Ok(())
}

/// Writes the up and down files from the database's templates, both or
/// neither.
fn write_pair(root: &Path, dir: &Path, db: Db, name: &str, version_text: &str) -> Result<(), Refused> {
    let label = shown(root, dir);
    let extension = db.extension();
    let up_name = format!("{version_text}_{name}.up.{extension}");
    let down_name = format!("{version_text}_{name}.down.{extension}");
    let up_path = dir.join(&up_name);
    let down_path = dir.join(&down_name);
    for path in [&up_path, &down_path] {
        if path.exists() {
            return Err(Refused(format!(
                "`{}` already exists; nothing was written",
                shown(root, path)
            )));
        }
    }
    let (up_template, down_template) = db.templates();
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{description}}", &name.replace('_', " "))
            .replace("{{label}}", &camel_case(name))
            .replace("{{up_file}}", &up_name)
            .replace("{{down_file}}", &down_name)
    };
    std::fs::create_dir_all(dir).map_err(|err| Refused(format!("cannot create `{label}`: {err}")))?;
    write_new(&up_path, &fill(up_template)).map_err(|err| Refused(format!("cannot write `{up_name}`: {err}")))?;
    if let Err(err) = write_new(&down_path, &fill(down_template)) {
        // Half a pair is exactly what the rules forbid: take the up file back.
        let _ = std::fs::remove_file(&up_path);
        return Err(Refused(format!(
            "cannot write `{down_name}`: {err}; nothing was written"
        )));
    }
    println!("created {}", shown(root, &up_path));
    println!("created {}", shown(root, &down_path));
    Ok(())
}

/// Writes a Rust code migration from the database's template.
fn write_code(root: &Path, dir: &Path, db: Db, name: &str, version_text: &str, batch: bool) -> Result<(), Refused> {
    let label = shown(root, dir);
    let file = format!("{version_text}_{name}.rs");
    let path = dir.join(&file);
    let text = render_code(db, name, &file, batch);
    std::fs::create_dir_all(dir).map_err(|err| Refused(format!("cannot create `{label}`: {err}")))?;
    write_new(&path, &text).map_err(|err| Refused(format!("cannot write `{file}`: {err}; nothing was written")))?;
    println!("created {}", shown(root, &path));
    Ok(())
}

/// The code template of `db` (its batch one when `batch`) filled in for
/// the file `file`.
fn render_code(db: Db, name: &str, file: &str, batch: bool) -> String {
    let template = match batch {
        false => db.code_template(),
        true => db.batch_template(),
    };
    template
        .replace("{{name}}", name)
        .replace("{{description}}", &name.replace('_', " "))
        .replace("{{label}}", &camel_case(name))
        .replace("{{file}}", file)
}

/// Never overwrites: a file that appeared since the checks is left alone.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}

fn next_version(highest: Option<(i64, &str)>, folder: Option<&Folder>, timestamp: bool) -> Result<String, Refused> {
    let uses_timestamps = highest.is_some_and(|(_, text)| text.len() >= TIMESTAMP_DIGITS);
    let after = |version: i64| {
        version.checked_add(1).ok_or_else(|| {
            Refused(format!(
                "the highest version {version} leaves no room for another; nothing was written"
            ))
        })
    };
    if timestamp || uses_timestamps {
        let now = time::now_version();
        let now_value: i64 = now.parse().unwrap_or(0);
        // Two migrations in the same second, or a clock behind the folder,
        // still get distinct, increasing versions.
        return match highest {
            Some((version, _)) if version >= now_value => Ok(after(version)?.to_string()),
            _ => Ok(now),
        };
    }
    let Some((version, _)) = highest else {
        return Ok("001".to_string());
    };
    let padded = folder.is_some_and(|f| f.migrations.iter().any(|m| m.version_text.starts_with('0')));
    let width = if padded {
        highest.map_or(0, |(_, text)| text.len())
    } else {
        0
    };
    Ok(format!("{:0width$}", after(version)?))
}

/// `add_user_nodes` -> `AddUserNodes`: a Neo4j label for the template.
fn camel_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The folders `validate` checks when none is named: `migrations/` itself if
/// it holds files, else each of its subfolders.
fn default_folders(root: &Path) -> Result<Vec<PathBuf>, Refused> {
    let base = root.join("migrations");
    let entries = std::fs::read_dir(&base).map_err(|err| {
        Refused(format!(
            "cannot read `{}`: {err}; name the folders to check",
            shown(root, &base)
        ))
    })?;
    let mut folders = Vec::new();
    let mut has_files = false;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.path().is_dir() {
            folders.push(entry.path());
        } else {
            has_files = true;
        }
    }
    if has_files || folders.is_empty() {
        return Ok(vec![base]);
    }
    folders.sort();
    Ok(folders)
}

fn validate(root: &Path, dirs: &[PathBuf], layout: Layout) -> Result<(), Refused> {
    let folders = if dirs.is_empty() {
        default_folders(root)?
    } else {
        dirs.iter().map(|d| resolve(root, d)).collect()
    };
    let mut total_problems = 0;
    let mut broken = 0;
    for dir in &folders {
        let label = shown(root, dir);
        match scan_layout(dir, &label, layout) {
            Ok(folder) => {
                let range = match (folder.migrations.first(), folder.migrations.last()) {
                    (Some(first), Some(last)) => format!(", {} to {}", first.version_text, last.version_text),
                    _ => String::new(),
                };
                println!("ok {label}: {} migration(s){range}", folder.migrations.len());
            }
            Err(problems) => {
                total_problems += problems.len();
                broken += 1;
                eprintln!("{}", list_problems(&label, &problems));
            }
        }
    }
    if total_problems == 0 {
        Ok(())
    } else {
        Err(Refused(format!(
            "{total_problems} problem(s) in {broken} of {} folder(s)",
            folders.len()
        )))
    }
}

/// `lint`: each folder checked as `validate` does, then linted with its
/// database's rules. Exit code 1 when there are findings (nothing is
/// applied here, so every one counts), 2 when a folder is broken or its
/// database cannot be told.
fn lint(root: &Path, dirs: &[PathBuf], db: Option<Db>, json: bool, layout: Layout) -> Result<(), Refused> {
    let folders = if dirs.is_empty() {
        default_folders(root)?
    } else {
        dirs.iter().map(|d| resolve(root, d)).collect()
    };
    let mut documents = Vec::new();
    let mut total = 0;
    for dir in &folders {
        let label = shown(root, dir);
        let folder = scan_layout(dir, &label, layout).map_err(|problems| {
            Refused(format!(
                "{}\nfix these first (`cargo xtask validate {label}{}`)",
                list_problems(&label, &problems),
                match layout {
                    Layout::Native => String::new(),
                    other => format!(" --layout {}", other.name()),
                }
            ))
        })?;
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        // TimescaleDB is PostgreSQL, and its rules are PostgreSQL's.
        let guessed = Db::from_folder_name(name).or((name == "timescaledb").then_some(Db::Postgres));
        let Some(db) = db.or(guessed) else {
            let question = format!(
                "`{label}`: which database's rules apply? name it with `--db` (sqlite, postgres, mysql or neo4j)"
            );
            if dirs.is_empty() {
                // Listing every folder: one whose name says no database is
                // passed over, and said so.
                eprintln!("skipped {question}");
                continue;
            }
            return Err(Refused(question));
        };
        let Some(dialect) = db.dialect() else {
            eprintln!("skipped `{label}`: {} migrations have no lint rules", db.name());
            continue;
        };
        let findings = embedded_migrations_core::lint::lint(&folder, dialect);
        total += findings.len();
        let never = |_| false;
        if json {
            documents.push((label, embedded_migrations_core::lint::json(&findings, &never)));
        } else {
            if folders.len() > 1 {
                println!("== {label} ({}) ==", db.name());
            }
            print!("{}", embedded_migrations_core::lint::text(&findings, &never));
        }
    }
    if json {
        match documents.as_slice() {
            [(_, one)] => println!("{one}"),
            _ => {
                let fields: Vec<String> = documents
                    .iter()
                    .map(|(label, findings)| format!("{:?}:{findings}", label))
                    .collect();
                println!("{{{}}}", fields.join(","));
            }
        }
    }
    match total {
        0 => Ok(()),
        _ => Err(Refused(String::new())),
    }
}

/// `squash`: the folder checked with the build's rules, then squashed
/// (squash.rs).
fn squash_folder(root: &Path, to: i64, dir: Option<&Path>, db: Option<Db>, url: &str) -> Result<(), Refused> {
    let dir = target_folder(root, dir, db)?;
    let label = shown(root, &dir);
    let Some(folder) = existing_folder(&dir, &label)? else {
        return Err(Refused(format!(
            "`{label}` holds no migration to squash; nothing was written"
        )));
    };
    squash::squash(&folder, &label, to, url)
}

#[cfg(test)]
mod tests {
    use super::{render_code, Db};

    /// The scaffolded files are checked in under tests/fixtures/scaffolded_*,
    /// where the root package's tests compile and run them
    /// (tests/scaffolded.rs): a template that stops compiling, or that
    /// changes without them, fails here or there.
    #[test]
    fn code_templates_match_the_compiled_fixtures() {
        let root = super::workspace_root();
        for db in [Db::Sqlite, Db::Postgres, Db::Mysql, Db::Neo4j, Db::Chroma] {
            for (file, batch) in [("001_scaffolded.rs", false), ("002_scaffolded_batch.rs", true)] {
                let fixture = root.join(format!("tests/fixtures/scaffolded_{}/{file}", db.name()));
                let expected = std::fs::read_to_string(&fixture).expect("the fixture");
                let name = file[4..].trim_end_matches(".rs");
                assert_eq!(render_code(db, name, file, batch), expected, "{}", fixture.display());
            }
        }
    }
}
