//! Every build-time rule of `embed_migrations!`, checked through the compiler.
//!
//! `tests/ui/*.rs` must fail to compile with the `.stderr` checked in next to
//! them; `tests/ui/pass/*.rs` must compile and run (their `main` asserts what
//! the table holds). Regenerate expected output with `TRYBUILD=overwrite`,
//! then read every changed `.stderr`: it is what a user sees.
//!
//! Fixture folders live in `tests/ui/folders/<case>/`, and a case names its
//! folder `"tests/ui/folders/<case>"`, as a crate at the root of this repo
//! would. The macro resolves that against `CARGO_MANIFEST_DIR`, which under
//! trybuild is not this repo but the project trybuild generates in
//! `<target dir>/tests/trybuild/<package>/`. A `../../..` path would break as
//! soon as `CARGO_TARGET_DIR` points elsewhere, and an absolute one differs on
//! every clone; so [`link_fixtures`] makes `tests/ui/folders` appear at the
//! same relative path inside the generated project. The macro stays as users
//! get it, and every `.stderr` names the folder as the case wrote it, the
//! same on any machine.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn ui() {
    link_fixtures();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// Makes `<generated project>/tests/ui/folders` lead to this repo's fixtures.
/// Idempotent, so concurrent runs sharing a target dir do not disturb each
/// other. (Cargo finds no targets in there: it only looks for `tests/*.rs`
/// and `tests/*/main.rs`.)
fn link_fixtures() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = repo.join("tests/ui/folders");
    let project = target_directory(&repo)
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"));
    let link = project.join("tests/ui/folders");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    link_dir(&fixtures, &link);
}

#[cfg(unix)]
fn link_dir(target: &Path, link: &Path) {
    if std::fs::read_link(link).is_ok_and(|current| current == target) {
        return;
    }
    // A link left by a clone at another path, sharing this target dir.
    let _ = std::fs::remove_file(link);
    if let Err(err) = std::os::unix::fs::symlink(target, link) {
        // Lost a race with a concurrent run: fine if it made the same link.
        let made = std::fs::read_link(link).is_ok_and(|current| current == target);
        assert!(made, "cannot link {} to {}: {err}", link.display(), target.display());
    }
}

/// Symbolic links need a privilege on Windows: copy instead.
#[cfg(not(unix))]
fn link_dir(target: &Path, link: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let dest = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &dest);
            } else {
                std::fs::copy(entry.path(), dest).unwrap();
            }
        }
    }
    let _ = std::fs::remove_dir_all(link);
    copy(target, link);
}

/// The target dir as trybuild finds it: from `cargo metadata`, so that
/// `CARGO_TARGET_DIR` and `build.target-dir` are honoured alike.
fn target_directory(repo: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(repo)
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json = String::from_utf8(output.stdout).unwrap();
    json_string_field(&json, "target_directory").expect("cargo metadata names the target directory")
}

/// The value of the first `"key":"..."` in `json`, unescaped. Enough for
/// cargo metadata's paths without a JSON dependency.
fn json_string_field(json: &str, key: &str) -> Option<PathBuf> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(PathBuf::from(value)),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}
