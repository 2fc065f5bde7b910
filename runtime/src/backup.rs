//! A backup written before `down` reverts anything: where it goes, which
//! program writes it, and the one way every dump tool is run (a child
//! process writing beside the final path, renamed into place only when it
//! exits with success, so a file at the path is always a whole backup).
//!
//! Which backup a database takes is its session's
//! [`Backups`](crate::backend::Backups) capability: SQLite's
//! `VACUUM INTO`, PostgreSQL's `pg_dump`, MySQL's `mariadb-dump` or
//! `mysqldump`. Neo4j and Chroma have none (docs/repair.md says why).

use crate::Error;
use std::path::{Path, PathBuf};

/// Where the backup before a `down` goes, and optionally which program
/// writes it.
///
/// ```
/// let backup = embedded_migrations::Backup::to("/var/backups/app-before-down.sql")
///     .tool("/usr/lib/postgresql/16/bin/pg_dump");
/// assert_eq!(backup.path().to_str(), Some("/var/backups/app-before-down.sql"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    path: PathBuf,
    tool: Option<PathBuf>,
}

impl Backup {
    /// A backup written to `path`, which must not exist yet: an earlier
    /// backup is never overwritten.
    pub fn to(path: impl Into<PathBuf>) -> Self {
        Backup {
            path: path.into(),
            tool: None,
        }
    }

    /// The dump program to run, by path or by a name looked up on `PATH`;
    /// by default `pg_dump` (PostgreSQL), and `mariadb-dump`, else
    /// `mysqldump` (MySQL and MariaDB). SQLite writes its backup itself
    /// (`VACUUM INTO`) and ignores this.
    pub fn tool(mut self, program: impl Into<PathBuf>) -> Self {
        self.tool = Some(program.into());
        self
    }

    /// Where the backup is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The program set with [`Backup::tool`].
    pub fn tool_path(&self) -> Option<&Path> {
        self.tool.as_deref()
    }

    /// The error for this backup, which `down` then reports instead of
    /// reverting anything.
    pub fn failed(&self, backend: &'static str, message: impl Into<String>) -> Error {
        Error::BackupFailed {
            backend,
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Refuses a path that exists already (an earlier backup), or whose
    /// folder does not.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn check_path(&self, backend: &'static str) -> Result<(), Error> {
        if self.path.exists() {
            return Err(self.failed(
                backend,
                "the file exists already; a backup never overwrites one (choose a new path)",
            ));
        }
        let folder = match self.path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(self.failed(backend, format!("the folder `{}` does not exist", folder.display())));
        }
        Ok(())
    }

    /// The file a backup is written to until it is complete.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn partial(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".partial");
        PathBuf::from(name)
    }
}

/// One run of a dump program: its candidates (the first found is run),
/// arguments and environment (a password never goes on the command line,
/// where `ps` shows it).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) struct DumpCommand<'a> {
    pub backend: &'static str,
    /// Program names tried in order when [`Backup::tool`] names none.
    pub candidates: &'a [&'a str],
    /// What to install when none is found, for the message.
    pub install: &'a str,
    /// How to name another program instead, for the message.
    pub name_it: &'a str,
    pub args: Vec<std::ffi::OsString>,
    pub env: Vec<(&'static str, String)>,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl DumpCommand<'_> {
    /// Runs the program with its standard output into the backup (first
    /// `<path>.partial`, renamed to `<path>` once it exited with success);
    /// on failure the partial file is removed and the error carries the
    /// program's own words.
    pub(crate) async fn run(self, backup: &Backup) -> Result<(), Error> {
        backup.check_path(self.backend)?;
        let partial = backup.partial();
        let file = std::fs::File::create(&partial)
            .map_err(|err| backup.failed(self.backend, format!("creating `{}` failed: {err}", partial.display())))?;
        let outcome = match self.spawn(backup.tool_path(), file.into()).await {
            Ok(_) => std::fs::rename(&partial, backup.path())
                .map_err(|err| format!("moving the finished dump into place failed: {err}")),
            Err(message) => Err(message),
        };
        if let Err(message) = outcome {
            let _ = std::fs::remove_file(&partial);
            return Err(backup.failed(self.backend, message));
        }
        Ok(())
    }

    /// Runs the program (`tool`, else the first candidate found) and
    /// returns what it wrote on its standard output (PostgreSQL's schema
    /// for a baseline).
    #[cfg(feature = "postgres")]
    pub(crate) async fn capture(self, tool: Option<&Path>) -> Result<String, String> {
        let stdout = self.spawn(tool, std::process::Stdio::piped()).await?;
        String::from_utf8(stdout).map_err(|_| "the program's output is not UTF-8".to_string())
    }

    /// The program run to its end with `stdout`: what it wrote there
    /// (when piped), or why it failed, in its own words.
    async fn spawn(&self, tool: Option<&Path>, stdout: std::process::Stdio) -> Result<Vec<u8>, String> {
        let (program, found) = self.program(tool)?;
        let mut command = tokio::process::Command::new(&found);
        command
            .args(&self.args)
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        // `output()` would pipe stdout again, over a file given.
        let output = match command.spawn() {
            Ok(child) => child.wait_with_output().await,
            Err(err) => Err(err),
        };
        match output {
            Err(err) => Err(format!("`{program}` could not be run: {err}")),
            Ok(output) if !output.status.success() => Err(format!(
                "`{program}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Ok(output) => Ok(output.stdout),
        }
    }

    /// The program named `tool`, else the first candidate on `PATH`: its
    /// name for messages and the path to run.
    fn program(&self, tool: Option<&Path>) -> Result<(String, PathBuf), String> {
        if let Some(tool) = tool {
            let found = find_program(tool).ok_or_else(|| format!("the program `{}` was not found", tool.display()))?;
            return Ok((tool.display().to_string(), found));
        }
        for candidate in self.candidates {
            if let Some(found) = find_program(Path::new(candidate)) {
                return Ok((candidate.to_string(), found));
            }
        }
        Err(format!(
            "{} was not found on PATH; install {}, or {}",
            self.candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            self.install,
            self.name_it
        ))
    }
}

/// `program` itself when it names a path (it has a `/`), else the first
/// executable file of that name in the folders of `PATH`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|folder| folder.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// A URL's user information decoded (`%40` is `@`): the password sqlx
/// keeps percent-encoded in the URL it rebuilds from the pool's options.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(all(test, any(feature = "postgres", feature = "mysql")))]
mod tests {
    use super::percent_decoded;

    #[test]
    fn a_percent_encoded_password_is_decoded() {
        assert_eq!(percent_decoded("p%40ss%2Fw%25rd"), "p@ss/w%rd");
        assert_eq!(percent_decoded("plain"), "plain");
        assert_eq!(percent_decoded("end%4"), "end%4");
        assert_eq!(percent_decoded("%41"), "A");
    }
}
