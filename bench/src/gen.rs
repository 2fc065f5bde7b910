//! The generator: migration folders in each tool's own format, and the small
//! crates that embed them with the tool's real macro.
//!
//! Files are written only when their content differs, so a second run of the
//! harness leaves mtimes alone and cargo rebuilds nothing (refinery's
//! 2,000-migration app costs minutes to compile).

use crate::real::Dialect;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Ours,
    Sqlx,
    Refinery,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Ours, Tool::Sqlx, Tool::Refinery];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
        }
    }

    pub fn parse(s: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// Migration i of the plain workload (W1, W2, W3). The id is explicit: on
/// PostgreSQL `INTEGER PRIMARY KEY` is not an auto-increment column.
pub fn up_sql(i: usize) -> String {
    format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t_{i} (id, v) VALUES (1, 'x');\n")
}

/// The same migration with a different value, used by W3's edit. `marker`
/// sits in a string literal, so it survives any statement splitting and can be
/// looked for in the built binary.
pub fn up_sql_with(i: usize, marker: &str) -> String {
    format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t_{i} (id, v) VALUES (1, '{marker}');\n")
}

/// (file name, content) pairs of migration `version`, in the tool's format.
/// Ours and sqlx: reversible pairs `0001_t_1.up.sql` / `.down.sql`; refinery
/// has no down migrations: `V1__t_1.sql`.
pub fn files(tool: Tool, version: usize, name: &str, up: String) -> Vec<(String, String)> {
    in_format(tool, version, name, up, down_sql_named(name))
}

/// The up and down file of one migration as `tool` names them; refinery's
/// format has no down file, so `down` is dropped there.
fn in_format(tool: Tool, version: usize, name: &str, up: String, down: String) -> Vec<(String, String)> {
    match tool {
        Tool::Ours | Tool::Sqlx => vec![
            (format!("{version:04}_{name}.up.sql"), up),
            (format!("{version:04}_{name}.down.sql"), down),
        ],
        Tool::Refinery => vec![(format!("V{version}__{name}.sql"), up)],
    }
}

/// (file name, content) pairs of the realistic workload ([`crate::real`])
/// in `tool`'s format. Its downs (ours and sqlx) are never run by the bench.
pub fn real_files(tool: Tool, dialect: Dialect, n: usize) -> Vec<(String, String)> {
    crate::real::migrations(dialect, n)
        .into_iter()
        .enumerate()
        .flat_map(|(i, up)| {
            let version = i + 1;
            in_format(tool, version, &format!("r_{version}"), up, "SELECT 1;\n".to_string())
        })
        .collect()
}

/// The down migration: `DROP TABLE t_i;`.
pub fn down_sql_named(table: &str) -> String {
    format!("DROP TABLE {table};\n")
}

/// The file of migration `version` that W3 edits (the up file).
pub fn up_file_name(tool: Tool, version: usize, name: &str) -> String {
    files(tool, version, name, String::new()).remove(0).0
}

/// Writes `content` to `path` unless it already holds exactly that.
pub fn write_if_changed(path: &Path, content: &str) -> io::Result<bool> {
    if let Ok(old) = fs::read(path) {
        if old == content.as_bytes() {
            return Ok(false);
        }
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, content)?;
    Ok(true)
}

/// Makes `dir` hold exactly migrations 1..=n of the workload in `tool`'s
/// format: missing or different files are written, others left alone, and
/// files that do not belong are removed.
pub fn write_migrations(dir: &Path, tool: Tool, n: usize) -> io::Result<()> {
    let all = (1..=n)
        .flat_map(|i| files(tool, i, &format!("t_{i}"), up_sql(i)))
        .collect();
    write_folder(dir, all)
}

/// Makes `dir` hold exactly `files` (name, content).
pub fn write_folder(dir: &Path, files: Vec<(String, String)>) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut wanted = std::collections::BTreeSet::new();
    for (file, content) in files {
        write_if_changed(&dir.join(&file), &content)?;
        wanted.insert(file);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted.contains(&name) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Where things go: `bench/generated/...`.
pub struct Layout {
    /// The bench crate's folder (holds Cargo.toml, Cargo.lock).
    pub bench: PathBuf,
}

impl Layout {
    pub fn generated(&self) -> PathBuf {
        self.bench.join("generated")
    }
    /// The app of `tool` over N migrations of W1's workload, or with `real`,
    /// of the realistic workload in that dialect.
    pub fn app_dir(&self, tool: Tool, n: usize, real: Option<Dialect>) -> PathBuf {
        self.generated().join("apps").join(self.app_bin(tool, n, real))
    }
    pub fn app_bin(&self, tool: Tool, n: usize, real: Option<Dialect>) -> String {
        match real {
            None => format!("app-{}-{n}", tool.name()),
            // Short: it ends up in database names (63 characters at most).
            Some(d) => format!("app-{}-r{}-{n}", tool.name(), &d.name()[..1]),
        }
    }
    pub fn w3_dir(&self, tool: Tool) -> PathBuf {
        self.generated().join("w3").join(tool.name())
    }
    pub fn w3_bin(&self, tool: Tool) -> String {
        format!("w3-{}", tool.name())
    }
    pub fn target(&self) -> PathBuf {
        self.bench.join("target")
    }
}

const PROFILE: &str = "\n[profile.release]\ndebug = false\n";

// Paths from generated/{apps,w3}/<x>/ back to bench/ and to the runtime.
const TO_BENCH: &str = "../../..";
const TO_RUNTIME: &str = "../../../../runtime";

/// One app per tool and N, as two crates in one generated workspace:
/// `embed/` (a lib holding only the tool's real macro over `embed/migrations/`,
/// depending only on the tool) and the app binary (a call into [`crate::work`]).
/// Keeping the macro in its own crate means a change to the workloads never
/// recompiles refinery's 2,000-migration expansion (15 minutes here). The bench's
/// lock file is copied in (same versions), the release profile and target dir are
/// the bench's (same artifacts).
pub fn write_app(layout: &Layout, tool: Tool, n: usize, real: Option<Dialect>) -> io::Result<PathBuf> {
    let dir = layout.app_dir(tool, n, real);
    let embed = dir.join("embed");
    match real {
        None => write_migrations(&embed.join("migrations"), tool, n)?,
        Some(d) => write_folder(&embed.join("migrations"), real_files(tool, d, n))?,
    }
    let bin = layout.app_bin(tool, n, real);
    let parts = app_parts(tool, n);
    let embed_name = format!("embed-{}", &bin[4..]);
    write_embed_crate(&embed, &embed_name, &parts)?;
    write_app_crate(&dir, &bin, &embed_name, &parts)?;
    // The layout before the embed crate existed.
    let _ = fs::remove_dir_all(dir.join("migrations"));
    copy_lock(layout, &dir)?;
    Ok(dir)
}

/// What an app's crates hold that depends on the tool.
struct AppParts {
    /// The embed crate's dependencies: the tool alone.
    embed_deps: String,
    /// The embed crate's lib.rs: the tool's macro over `migrations/`.
    embed_lib: String,
    /// What the app adds to its dependency on the bench crate (ours' feature).
    app_features: String,
    /// The app's main: a call into the workloads with the embedded set.
    call: String,
}

/// The tool's parts of the app over `n` migrations.
fn app_parts(tool: Tool, n: usize) -> AppParts {
    let (embed_deps, embed_lib, app_features, call) = match tool {
        Tool::Sqlx => (
            "sqlx = { version = \"=0.9.0\", default-features = false, features = [\"migrate\", \"macros\"] }\n".to_string(),
            "pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!(\"./migrations\");\n".to_string(),
            String::new(),
            format!("embedded_migrations_bench::work::main_sqlx(&embed::MIGRATOR, {n});"),
        ),
        Tool::Refinery => (
            "refinery = { version = \"=0.10.0\", default-features = false, features = [\"rusqlite\", \"tokio-postgres\"] }\n".to_string(),
            "refinery::embed_migrations!(\"migrations\");\n".to_string(),
            String::new(),
            format!("embedded_migrations_bench::work::main_refinery(embed::migrations::runner, {n});"),
        ),
        Tool::Ours => (
            format!("embedded-migrations = {{ path = \"../{TO_RUNTIME}\", default-features = false, features = [\"sqlx-0-9\", \"sqlite\", \"postgres\", \"mysql\"] }}\n"),
            "pub static M: embedded_migrations::Migrations = embedded_migrations::embed_migrations!(\"migrations\");\n".to_string(),
            ", features = [\"ours\"]".to_string(),
            format!("embedded_migrations_bench::work::main_ours(&embed::M, {n});"),
        ),
    };
    AppParts {
        embed_deps,
        embed_lib,
        app_features,
        call,
    }
}

/// `embed/`: the lib crate holding only the tool's macro, named `embed` for
/// the app and `embed_name` for cargo.
fn write_embed_crate(embed: &Path, embed_name: &str, parts: &AppParts) -> io::Result<()> {
    let AppParts {
        embed_deps, embed_lib, ..
    } = parts;
    write_if_changed(
        &embed.join("Cargo.toml"),
        &format!(
            "# Generated by the bench harness; do not edit.\n\
             [package]\nname = \"{embed_name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [lib]\nname = \"embed\"\n\n[dependencies]\n{embed_deps}"
        ),
    )?;
    write_if_changed(&embed.join("src/lib.rs"), embed_lib)?;
    Ok(())
}

/// The app binary `bin` in `dir`: the workspace around `embed/`, depending on
/// the bench crate and the embed crate, and its main.
fn write_app_crate(dir: &Path, bin: &str, embed_name: &str, parts: &AppParts) -> io::Result<()> {
    let AppParts { app_features, call, .. } = parts;
    let manifest = format!(
        "# Generated by the bench harness; do not edit.\n\
         [package]\nname = \"{bin}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\nmembers = [\"embed\"]\n\n[dependencies]\n\
         embedded-migrations-bench = {{ path = \"{TO_BENCH}\"{app_features} }}\n\
         embed = {{ package = \"{embed_name}\", path = \"embed\" }}\n\
         {PROFILE}"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), &format!("fn main() {{\n    {call}\n}}\n"))?;
    Ok(())
}

/// W3's tiny crate: what a user's app looks like (embed 500 migrations, open
/// a SQLite file given as the first argument, run them), with only the tool
/// and its SQLite driver as dependencies, so its binary size means something.
///
/// With `build_script`, the crate gets the one documented `build.rs` line,
/// `cargo:rerun-if-changed=migrations`, so cargo also sees added files.
pub fn write_w3(layout: &Layout, tool: Tool, n: usize, build_script: bool) -> io::Result<PathBuf> {
    let dir = layout.w3_dir(tool);
    write_migrations(&dir.join("migrations"), tool, n)?;
    let bin = layout.w3_bin(tool);
    let (deps, main) = w3_sources(tool);
    let manifest = format!(
        "# Generated by the bench harness (W3); do not edit.\n\
         [package]\nname = \"{bin}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{deps}{PROFILE}"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), &main)?;
    let build_rs = dir.join("build.rs");
    if build_script {
        write_if_changed(&build_rs, BUILD_RS)?;
    } else if build_rs.exists() {
        fs::remove_file(&build_rs)?;
    }
    copy_lock(layout, &dir)?;
    Ok(dir)
}

/// The Rust code migration W3's code crate adds after the `n` SQL ones:
/// its `up` writes a row whose value is `marker` (a string literal, so it
/// can be looked for in the built binary).
pub fn code_migration_with(n: usize, marker: &str) -> String {
    format!(
        "use sqlx::SqliteConnection;\n\n\
         pub async fn up(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {{\n    \
         sqlx::query(\"INSERT INTO t_{n} (id, v) VALUES (2, '{marker}')\").execute(&mut *tx).await?;\n    Ok(())\n}}\n\n\
         pub async fn down(tx: &mut SqliteConnection) -> Result<(), sqlx::Error> {{\n    \
         sqlx::query(\"DELETE FROM t_{n} WHERE id = 2\").execute(&mut *tx).await?;\n    Ok(())\n}}\n"
    )
}

/// The file name of W3's code migration, version `n + 1`.
pub fn code_migration_file(n: usize) -> String {
    format!("{:04}_t_code.rs", n + 1)
}

/// W3's crate for ours with a Rust code migration: the same `n` SQL
/// migrations as [`write_w3`]'s, then one `.rs` file, embedded with
/// `database = sqlite`; built without a build script.
pub fn write_w3_code(layout: &Layout, n: usize) -> io::Result<PathBuf> {
    let dir = layout.generated().join("w3").join("ours-code");
    let mut all: Vec<(String, String)> = (1..=n)
        .flat_map(|i| files(Tool::Ours, i, &format!("t_{i}"), up_sql(i)))
        .collect();
    all.push((code_migration_file(n), code_migration_with(n, "base")));
    write_folder(&dir.join("migrations"), all)?;
    let (deps, main) = w3_sources(Tool::Ours);
    let main = main.replace(
        "embed_migrations!(\"migrations\")",
        "embed_migrations!(\"migrations\", database = sqlite)",
    );
    let manifest = format!(
        "# Generated by the bench harness (W3, a Rust migration); do not edit.\n\
         [package]\nname = \"w3-ours-code\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{deps}{PROFILE}"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), &main)?;
    copy_lock(layout, &dir)?;
    Ok(dir)
}

/// The dependencies and main.rs of W3's crate for `tool`.
fn w3_sources(tool: Tool) -> (String, String) {
    match tool {
        Tool::Sqlx => (
            "sqlx = { version = \"=0.9.0\", default-features = false, features = [\"runtime-tokio\", \"sqlite\", \"migrate\", \"macros\"] }\n\
             tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }\n".to_string(),
            "#[tokio::main]\nasync fn main() {\n    let path = std::env::args().nth(1).expect(\"database path\");\n    \
             let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);\n    \
             let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();\n    \
             sqlx::migrate!(\"./migrations\").run(&pool).await.unwrap();\n}\n".to_string(),
        ),
        Tool::Refinery => (
            "refinery = { version = \"=0.10.0\", default-features = false, features = [\"rusqlite\"] }\n\
             rusqlite = { version = \"0.32\", features = [\"bundled\"] }\n".to_string(),
            "mod embedded {\n    refinery::embed_migrations!(\"migrations\");\n}\n\n\
             fn main() {\n    let path = std::env::args().nth(1).expect(\"database path\");\n    \
             let mut conn = rusqlite::Connection::open(path).unwrap();\n    \
             embedded::migrations::runner().run(&mut conn).unwrap();\n}\n".to_string(),
        ),
        Tool::Ours => (
            format!(
                "embedded-migrations = {{ path = \"{TO_RUNTIME}\", default-features = false, features = [\"sqlx-0-9\", \"sqlite\"] }}\n\
                 sqlx = {{ version = \"=0.9.0\", default-features = false, features = [\"runtime-tokio\", \"sqlite\"] }}\n\
                 tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n"
            ),
            "static M: embedded_migrations::Migrations = embedded_migrations::embed_migrations!(\"migrations\");\n\n\
             #[tokio::main]\nasync fn main() {\n    let path = std::env::args().nth(1).expect(\"database path\");\n    \
             let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(true);\n    \
             let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();\n    \
             M.run(&pool).await.unwrap();\n}\n".to_string(),
        ),
    }
}

/// The one line a crate needs so that cargo notices an added or removed file.
pub const BUILD_RS: &str = "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n";

/// Starts the generated crate from the bench's lock file, so it resolves to
/// the same versions (cargo adds the crate's own entry). Only when it has none.
fn copy_lock(layout: &Layout, dir: &Path) -> io::Result<()> {
    let src = layout.bench.join("Cargo.lock");
    let dst = dir.join("Cargo.lock");
    if src.exists() && !dst.exists() {
        fs::copy(src, dst)?;
    }
    Ok(())
}
