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
        .bind(target)
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
