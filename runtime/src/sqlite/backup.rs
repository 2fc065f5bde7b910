//! The backup before a `down`: `VACUUM INTO`, on the session's own
//! connection (an in-memory database has no other), into a file beside the
//! final path that is renamed into place once SQLite has finished it.

use super::errors::NAME;
use crate::sql::session::SqlSession;
use crate::{Backup, Error};

pub(super) async fn vacuum_into<B: crate::sql::session::SqlBackend<DB = sqlx::Sqlite>>(
    session: &mut SqlSession<B>,
    backup: &Backup,
) -> Result<(), Error> {
    backup.check_path(NAME)?;
    let partial = backup.partial();
    let Some(target) = partial.to_str() else {
        return Err(backup.failed(NAME, "the path is not UTF-8, which SQLite needs for a file name"));
    };
    let _ = std::fs::remove_file(&partial);
    let written = sqlx::query("VACUUM INTO ?")
        .bind(file_uri(target))
        .execute(&mut *session.conn)
        .await;
    let outcome = match written {
        Err(err) => Err(format!(
            "VACUUM INTO `{target}` failed: {}",
            crate::sql::session::database_message(&err)
        )),
        Ok(_) => std::fs::rename(&partial, backup.path())
            .map_err(|err| format!("moving the finished backup into place failed: {err}")),
    };
    if let Err(message) = outcome {
        let _ = std::fs::remove_file(&partial);
        return Err(backup.failed(NAME, message));
    }
    Ok(())
}

/// `path` as a `file:` URI opened read-write-create. sqlx opens every
/// connection with URI names, so `VACUUM INTO` reads its argument as one;
/// and from an in-memory database (`SQLITE_OPEN_MEMORY`) a plain name would
/// be opened in memory too, leaving no file: `mode=rwc` says a file.
fn file_uri(path: &str) -> String {
    let mut uri = String::from("file:");
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(byte as char),
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?mode=rwc");
    uri
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_becomes_a_file_uri_with_its_special_characters_escaped() {
        assert_eq!(
            super::file_uri("/tmp/a b?#%.db"),
            "file:/tmp/a%20b%3F%23%25.db?mode=rwc"
        );
    }
}
