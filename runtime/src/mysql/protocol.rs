//! MySQL's dirty protocol. DDL commits implicitly there, so a migration
//! that fails (or whose process dies) halfway cannot be rolled back: every
//! migration's tracking row is written dirty (together with the state row,
//! after checking that state against the plan) and committed before the
//! first statement runs, and marked clean only after the last one
//! succeeded. The protocol goes in two multi-statement queries; the count of
//! committed statements in the row says how far a failed one got.

use super::errors::{db_err, message, NAME};
use crate::backend::Change;
use crate::core::split::{split, Dialect, Statement};
use crate::core::timeout::Timeouts;
use crate::sql::compat::{self, assert_sql_safe};
use crate::sql::session::{mark_timeout, SqlBackend, SqlSession};
use crate::sql::text::SqlText;
use crate::sql::tracking::TrackingSql;
use crate::{Direction, Error};
use sqlx::mysql::{MySql, MySqlConnection};
use sqlx::Row;

/// The protocol's two queries and the read after a failure, for one
/// tracking table.
struct Protocol<'a> {
    sql: &'a TrackingSql,
}

impl std::ops::Deref for Protocol<'_> {
    type Target = TrackingSql;

    fn deref(&self) -> &TrackingSql {
        self.sql
    }
}

impl Protocol<'_> {
    /// The first round trip of the dirty protocol: it
    /// opens a transaction, marks the state row dirty if it is still the
    /// plan's (`@em_marked`: 1 if it was), marks the change's row dirty with
    /// its direction and no statement committed, and returns `@em_marked`;
    /// the caller commits only if it is 1.
    fn mark(&self, change: &Change<'_>, timeouts: &[String]) -> String {
        let version = change.migration.version;
        let direction = self.dialect.literal(change.direction.as_str());
        let record = match &change.record {
            Some(row) => format!(
                "INSERT INTO {table} (version, name, checksum, applied_at, execution_ms, dirty, dirty_direction, \
                 committed_statements) VALUES ({version}, {}, {}, {}, 0, TRUE, {direction}, 0) ON DUPLICATE KEY UPDATE \
                 name = VALUES(name), checksum = VALUES(checksum), applied_at = VALUES(applied_at), execution_ms = 0, \
                 dirty = TRUE, dirty_direction = VALUES(dirty_direction), committed_statements = 0",
                self.dialect.literal(&row.name),
                self.dialect.literal(&row.checksum.to_hex()),
                self.dialect.literal(&row.applied_at),
                table = self.table,
            ),
            None => format!(
                "UPDATE {} SET dirty = TRUE, dirty_direction = {direction}, committed_statements = 0 WHERE version = {version}",
                self.table
            ),
        };
        // The session's timeouts first: they hold for the statements of
        // the second trip.
        timeouts
            .iter()
            .cloned()
            .chain([
                "START TRANSACTION".to_string(),
                format!(
                    "UPDATE {} SET dirty = TRUE WHERE {}",
                    self.state,
                    self.state_is(&change.state_before)
                ),
                "SET @em_marked = ROW_COUNT()".to_string(),
                record,
                "SELECT CAST(@em_marked AS SIGNED)".to_string(),
            ])
            .collect::<Vec<_>>()
            .join(";\n")
    }

    /// The second trip: commits the mark, then each statement followed by
    /// the count of committed statements in the change's row (the server
    /// stops at the first error, so the count says exactly which committed:
    /// each one commits by itself, DDL implicitly, the rest in autocommit),
    /// then records the change in one transaction, its duration measured by
    /// the server.
    fn run(&self, change: &Change<'_>, statements: &[&str]) -> String {
        let version = change.migration.version;
        let elapsed = "(TIMESTAMPDIFF(MICROSECOND, @em_started, SYSDATE(6)) DIV 1000)";
        let mut parts = vec!["COMMIT".to_string(), "SET @em_started = SYSDATE(6)".to_string()];
        for (index, statement) in statements.iter().enumerate() {
            parts.push(statement.to_string());
            parts.push(format!(
                "UPDATE {} SET committed_statements = {} WHERE version = {version}",
                self.table,
                index + 1
            ));
        }
        parts.push("START TRANSACTION".to_string());
        parts.push(match change.direction {
            Direction::Up => format!(
                "UPDATE {} SET execution_ms = {elapsed}, dirty = FALSE, dirty_direction = NULL, committed_statements = NULL \
                 WHERE version = {version}",
                self.table
            ),
            Direction::Down => format!("DELETE FROM {} WHERE version = {version}", self.table),
        });
        parts.push(self.write_state_literal(&change.state_after));
        parts.push(self.history_row_literal(&change.history, elapsed));
        parts.push("COMMIT".to_string());
        // A line of its own ends a statement that ends in a line comment.
        parts.join("\n;\n")
    }

    /// After a failed [`Self::run`]: whether the row is dirty, and its count.
    fn progress(&self, version: i64) -> String {
        format!(
            "SELECT CAST(dirty AS SIGNED), CAST(COALESCE(committed_statements, -1) AS SIGNED) FROM {} WHERE version = {version}",
            self.table
        )
    }
}

/// The dirty protocol in two round trips ([`Protocol::mark`] and
/// [`Protocol::run`]): the mark, checked against the plan's state; then the
/// mark's commit, every statement each followed by the count of committed
/// statements in the tracking row, and the record of the change. After a
/// failure the count says which statement failed: the ones before it
/// committed, and if none did the mark is taken back.
pub(super) async fn apply_marked<B>(
    session: &mut SqlSession<B>,
    change: &Change<'_>,
    timeouts: (Timeouts, &[String]),
) -> Result<(), Error>
where
    B: SqlBackend<DB = MySql>,
{
    let protocol = Protocol { sql: &session.sql };
    let marked: Vec<Option<i64>> = compat::raw_sql(assert_sql_safe!(protocol.mark(change, timeouts.1)))
        .fetch_all(&mut *session.conn)
        .await
        .and_then(|rows| rows.iter().map(|row| row.try_get(0)).collect())
        .map_err(db_err("marking the migration dirty"))?;
    if marked.last().copied().flatten() != Some(1) {
        rollback(&mut session.conn).await;
        return Err(Error::Conflict);
    }
    let statements = split(change.text(), Dialect::MySql);
    let texts: Vec<&str> = statements.iter().map(|statement| statement.text).collect();
    let (run, done) = counted(&mut session.conn, protocol.run(change, &texts)).await;
    match run {
        Ok(()) => Ok(()),
        Err(err) => {
            // The run's statements: COMMIT, the start time, then each of
            // the file's followed by its count.
            let failed = done.checked_sub(2).map(|at| at / 2).filter(|at| *at < statements.len());
            Err(failure(session, change, &statements, failed, err, timeouts.0).await)
        }
    }
}

/// Runs the multi-statement `query`, counting the statements that
/// completed before the first error (the server stops there).
async fn counted(conn: &mut MySqlConnection, query: String) -> (Result<(), sqlx::Error>, usize) {
    use futures_util::StreamExt;
    let mut done = 0;
    let mut results = compat::raw_sql(assert_sql_safe!(query)).fetch_many(conn);
    while let Some(result) = results.next().await {
        match result {
            Ok(sqlx::Either::Left(_)) => done += 1,
            Ok(sqlx::Either::Right(_)) => {}
            Err(err) => return (Err(err), done),
        }
    }
    (Ok(()), done)
}

/// What a failed run did, from the count in the tracking row: which
/// statement failed (the mark taken back if none committed), or that the
/// record failed after every statement committed. `failed` is the
/// statement that failed where the server's results showed it; statements
/// between the committed ones and it ran in a transaction of the file's
/// own, rolled back here (their counts with them).
async fn failure<B>(
    session: &mut SqlSession<B>,
    change: &Change<'_>,
    statements: &[Statement<'_>],
    failed: Option<usize>,
    err: sqlx::Error,
    timeouts: Timeouts,
) -> Error
where
    B: SqlBackend<DB = MySql>,
{
    // The transaction of the mark (if its COMMIT failed) or of the record.
    rollback(&mut session.conn).await;
    let version = change.migration.version;
    let committed = match committed(session, version).await {
        Ok(Some(committed)) => committed,
        // The mark never committed: nothing ran.
        Ok(None) => return db_err("marking the migration dirty")(err),
        Err(read) => return read,
    };
    let at = failed.filter(|at| *at >= committed).unwrap_or(committed);
    let Some(statement) = statements.get(at) else {
        return Error::database(
            NAME,
            "recording the migration",
            format!(
                "every statement of it committed, but recording it failed: {}; the migration is marked dirty: \
                 `force {version}` records it applied",
                message(&err)
            ),
        )
        .with_source(err);
    };
    if committed == 0 {
        if let Err(unmark) = session.unmark(change).await {
            return unmark;
        }
    }
    let failed = change
        .failed_after(statement.text, statement.line, message(&err), false, committed as u32)
        .at_statement(at as u32 + 1);
    mark_timeout::<B>(failed, err, timeouts)
}

/// How many statements of `version` committed, as its dirty row counts
/// them; `None` when the row is not dirty (the mark never committed).
async fn committed<B>(session: &mut SqlSession<B>, version: i64) -> Result<Option<usize>, Error>
where
    B: SqlBackend<DB = MySql>,
{
    let progress = sqlx::query(assert_sql_safe!(Protocol { sql: &session.sql }.progress(version)))
        .fetch_optional(&mut *session.conn)
        .await
        .map_err(db_err("reading how far the migration got"))?;
    let (dirty, committed) = match progress {
        Some(row) => (
            row.try_get::<i64, _>(0).unwrap_or(0) == 1,
            row.try_get::<i64, _>(1).unwrap_or(-1),
        ),
        None => (false, -1),
    };
    Ok((dirty && committed >= 0).then_some(committed as usize))
}

/// Ends a transaction the protocol opened with raw SQL, if one is open.
async fn rollback(conn: &mut MySqlConnection) {
    if let Err(err) = compat::raw_sql("ROLLBACK").execute(conn).await {
        tracing::debug!(error = %err, "rolling back after the dirty protocol failed");
    }
}
