//! `cargo xtask squash --to V --database-url URL`: the folder's migrations
//! up to V replaced by one baseline migration, written from the schema of a
//! scratch database migrated to V (docs/squash.md).
//!
//! The folder is read at run time with the build's own rules (`scan`) and
//! turned into the table `embed_migrations!` would emit, so the runtime
//! migrates the scratch database exactly as the application would, and
//! `Migrator::squash_baseline` reads the schema back with the database's
//! own words. The files it replaces are deleted and the baseline written
//! only once all of that succeeded.

use crate::refused::Refused;
use embedded_migrations::core::{chain_step, parse_header, Checksum, Folder, Language};
use embedded_migrations::snapshot::Baseline;
use embedded_migrations::{Migration, Migrations, Script};

/// Squashes `folder` (already scanned, shown as `label`) to `to` on the
/// scratch database at `url`.
pub(crate) fn squash(folder: &Folder, label: &str, to: i64, url: &str) -> Result<(), Refused> {
    if folder.language != Language::Sql {
        return Err(Refused(format!(
            "`{label}` holds {} migrations; squash is for SQL folders (SQLite, PostgreSQL, MySQL/MariaDB); nothing was written",
            folder.language.label()
        )));
    }
    let Some(last) = folder.migrations.iter().find(|m| m.version == to) else {
        return Err(Refused(format!(
            "`{label}` has no migration {to}: `--to` names the last version the baseline replaces; nothing was written"
        )));
    };
    let version_text = last.version_text.clone();
    let table = table_up_to(folder, label, to)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| Refused(format!("starting the async runtime failed: {err}")))?;
    let baseline = runtime
        .block_on(baseline_on(table, url, to))
        .map_err(|err| Refused(format!("{err}; nothing was written")))?;
    write(folder, &version_text, &baseline)?;
    report(label, &version_text, &baseline);
    Ok(())
}

/// The table `embed_migrations!` would emit for the folder's migrations up
/// to `to` (leaked: this process makes one). A Rust code migration cannot
/// run outside the application's build.
fn table_up_to(folder: &Folder, label: &str, to: i64) -> Result<&'static Migrations, Refused> {
    let mut chain = Checksum::ZERO;
    let mut chains = Vec::new();
    let mut migrations = Vec::new();
    for scanned in folder.migrations.iter().filter(|m| m.version <= to) {
        if scanned.code {
            return Err(Refused(format!(
                "`{label}/{}` is a Rust code migration, which runs only inside the application's build: squash \
                 from the application with `Migrator::squash_baseline` (docs/squash.md); nothing was written",
                scanned.up.file_name
            )));
        }
        let script = |file: &embedded_migrations::core::ScannedFile| {
            let text: &'static str = String::leak(file.text.clone());
            Script {
                file: String::leak(file.file_name.clone()),
                text,
                checksum: file.checksum,
                no_transaction: file.header.no_transaction,
                // A file naming a placeholder is refused by the run below,
                // which has no values: a baseline must not carry one
                // environment's.
                placeholders: Vec::leak(embedded_migrations::core::placeholder::names(text).unwrap_or_default()),
            }
        };
        let up = script(&scanned.up);
        chain = chain_step(&chain, scanned.version, &up.checksum);
        chains.push(chain);
        let description = parse_header(&scanned.up.text, Language::Sql)
            .ok()
            .and_then(|header| header.description)
            .map(|d| &*String::leak(d));
        migrations.push(Migration {
            version: scanned.version,
            name: String::leak(scanned.name.clone()),
            description,
            up,
            down: script(&scanned.down),
            irreversible: scanned.down.header.irreversible,
        });
    }
    Ok(Box::leak(Box::new(Migrations::__embedded(
        Vec::leak(migrations),
        Vec::leak(chains),
    ))))
}

/// The baseline, from the scratch database at `url` migrated to `to`.
async fn baseline_on(table: &'static Migrations, url: &str, to: i64) -> Result<Baseline, String> {
    let connect = |err: sqlx::Error| format!("connecting to the scratch database failed: {err}");
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.map_err(connect)?;
        table.squash_baseline(&pool, to).await.map_err(|e| e.to_string())
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = sqlx::PgPool::connect(url).await.map_err(connect)?;
        table.squash_baseline(&pool, to).await.map_err(|e| e.to_string())
    } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
        let pool = sqlx::MySqlPool::connect(&url.replacen("mariadb:", "mysql:", 1))
            .await
            .map_err(connect)?;
        table.squash_baseline(&pool, to).await.map_err(|e| e.to_string())
    } else {
        Err("`--database-url` must start with sqlite:, postgres:, mysql: or mariadb:".to_string())
    }
}

/// Deletes the replaced files, then writes the baseline's pair.
fn write(folder: &Folder, version_text: &str, baseline: &Baseline) -> Result<(), Refused> {
    let io = |what: String| move |err: std::io::Error| Refused(format!("{what} failed: {err}"));
    for file in &baseline.replaced {
        let path = folder.path.join(file);
        std::fs::remove_file(&path).map_err(io(format!("deleting `{}`", path.display())))?;
    }
    let stem = format!("{version_text}_baseline");
    for (direction, text) in [("up", &baseline.up), ("down", &baseline.down)] {
        let path = folder.path.join(format!("{stem}.{direction}.sql"));
        std::fs::write(&path, text).map_err(io(format!("writing `{}`", path.display())))?;
    }
    Ok(())
}

fn report(label: &str, version_text: &str, baseline: &Baseline) {
    let squashed = &baseline.squashed;
    println!(
        "wrote {label}/{version_text}_baseline.up.sql and .down.sql: the schema after migrations {}..{} ({} migration(s)), \
         replacing {} file(s)",
        squashed.first,
        squashed.last,
        squashed.migrations,
        baseline.replaced.len()
    );
    if !baseline.data.is_empty() {
        println!(
            "the baseline holds the schema only; these replaced migrations also wrote rows, which a fresh database \
             now lacks (append what every database needs to the baseline's up file):"
        );
        for (version, file) in &baseline.data {
            println!("  {version} {file}");
        }
    }
    println!(
        "databases migrated before the squash keep their rows of {}..{} and take the baseline as applied; \
         prove the two folders give one schema with `Migrator::verify_squashed` (docs/squash.md)",
        squashed.first, squashed.last
    );
}
