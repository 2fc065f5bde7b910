//! SQLite templates: a database file in [`sqlite_template_dir`], built as
//! `embld_….sqlite3`, renamed to `emtpl_….sqlite3` when complete (a rename
//! is atomic: a reader sees the whole file or none), copied with the file
//! system. The build lock is an exclusive lock on `emtpl_….lock` beside it,
//! which the system releases when a builder dies.

use super::build::{ensure_and_copy, sql_error, Store, Template, BUILDING_PREFIX, TEMPLATE_PREFIX};
use crate::Error;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BACKEND: &str = "SQLite";

/// Where the kit keeps SQLite templates: `embedded-migrations-templates` in
/// the temporary directory.
pub fn sqlite_template_dir() -> PathBuf {
    std::env::temp_dir().join("embedded-migrations-templates")
}

/// Writes a copy of `template` to `path` (which must not exist), building
/// the template first when it is not there yet.
pub async fn sqlite_from_template(template: &Template<'_>, path: &Path) -> Result<(), Error> {
    let store = Sqlite {
        dir: sqlite_template_dir(),
    };
    let store = &store;
    ensure_and_copy(store, template, |name| async move {
        let source = store.file(&name);
        std::fs::copy(&source, path).map(|_| ()).map_err(|e| {
            io_error(
                format!("copying template {} to {}", source.display(), path.display()),
                e,
            )
        })
    })
    .await
}

/// Deletes every template, leftover build and lock file in
/// [`sqlite_template_dir`]; returns the files deleted.
pub fn drop_all_sqlite() -> Result<Vec<PathBuf>, Error> {
    let dir = sqlite_template_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(format!("listing {}", dir.display()), e)),
    };
    let mut dropped = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| io_error(format!("listing {}", dir.display()), e))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(TEMPLATE_PREFIX) || name.starts_with(BUILDING_PREFIX) {
            remove(&path)?;
            dropped.push(path);
        }
    }
    Ok(dropped)
}

fn io_error(operation: String, err: std::io::Error) -> Error {
    Error::database(BACKEND, operation, &err).with_source(err)
}

fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(format!("removing {}", path.display()), e)),
    }
}

struct Sqlite {
    dir: PathBuf,
}

impl Sqlite {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.sqlite3"))
    }
}

impl Store for Sqlite {
    type Lock = std::fs::File;

    async fn published(&self, name: &str) -> Result<bool, Error> {
        Ok(self.file(name).is_file())
    }

    async fn lock(&self, template: &Template<'_>) -> Result<std::fs::File, Error> {
        let path = self.dir.join(format!("{}.lock", template.name()));
        let err = |e: std::io::Error| io_error(format!("opening the template build lock {}", path.display()), e);
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err)?;
        let timeout = template.migrator().settings().lock_timeout_value();
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::LockTimeout {
                        backend: "SQLite template",
                        waited: started.elapsed(),
                        holder: Some(format!("another process building the template ({})", path.display())),
                    })
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
            }
        }
    }

    async fn unlock(&self, lock: std::fs::File) -> Result<(), Error> {
        drop(lock);
        Ok(())
    }

    async fn discard(&self, building: &str) -> Result<(), Error> {
        let file = self.file(building);
        // The run's own lock file (sqlite/lock.rs) too: the build is over.
        for suffix in ["", "-wal", "-shm", "-journal", "-migrations.lock"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            remove(Path::new(&path))?;
        }
        Ok(())
    }

    async fn build(&self, building: &str, template: &Template<'_>) -> Result<(), Error> {
        let path = self.file(building);
        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(sql_error(BACKEND, format!("creating template {}", path.display())))?;
        let run = template.migrator().run_to(&pool, template.version()).await;
        // Closing writes everything back into the one file (no journal left).
        pool.close().await;
        run.map(|_| ())
    }

    async fn publish(&self, building: &str, name: &str) -> Result<(), Error> {
        let (from, to) = (self.file(building), self.file(name));
        std::fs::rename(&from, &to)
            .map_err(|e| io_error(format!("publishing template {} as {}", from.display(), to.display()), e))?;
        // What is left of the build under its name: the run's lock file.
        self.discard(building).await
    }

    async fn templates(&self) -> Result<Vec<String>, Error> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| io_error(format!("listing the templates in {}", self.dir.display()), e))?;
        Ok(entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".sqlite3")?;
                stem.starts_with(TEMPLATE_PREFIX).then(|| stem.to_string())
            })
            .collect())
    }

    async fn drop_template(&self, name: &str) -> Result<bool, Error> {
        // A process copying it keeps its open file; the next one builds anew.
        remove(&self.file(name))?;
        remove(&self.dir.join(format!("{name}.lock")))?;
        Ok(true)
    }
}
