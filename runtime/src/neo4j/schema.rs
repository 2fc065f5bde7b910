//! Schema commands in one transaction, and the recovery of an index a
//! killed process left behind.

use super::cypher::{fetch_rows, run_auto, run_together};
use super::errors::{has_code, message, try_again, INDEX_NAME_TAKEN, LOCK_POLL};
use super::session::Neo4jSession;
use neo4rs::query;
use std::time::{Duration, Instant};

/// How long a schema statement meeting `IndexWithNameAlreadyExists` awaits
/// the indexes before it looks for an index left by a killed process.
const INDEX_AWAIT: Duration = Duration::from_secs(5);

impl Neo4jSession {
    /// A statement in its own transaction, with the same recovery: the
    /// lock's constraint, or a statement of a `no-transaction` file.
    pub(super) async fn run_schema_statement(&self, statement: &str) -> Result<(), neo4rs::Error> {
        self.run_schema_statements(&[statement]).await.map_err(|(_, err)| err)
    }

    /// Schema statements in one transaction: a schema migration, or the
    /// tracking constraints. Neo4j commits several schema commands in one
    /// transaction, or none of them: a failing statement rolls back the
    /// ones before it. On a failure, the index of the statement that failed.
    ///
    /// A SIGKILL during `CREATE CONSTRAINT ... IF NOT EXISTS` leaves the
    /// constraint's backing index behind: still being built (the server
    /// finishes the commit), or, seen on Neo4j 5.26 in the SIGKILL rounds,
    /// never coming online, owned by no constraint. The same statement sent
    /// again then gets `IndexWithNameAlreadyExists` instead of doing
    /// nothing. That answer awaits the indexes (`db.awaitIndexes`, a few
    /// seconds at most); an index of the constraint's name still not online
    /// and owned by no constraint after that is the dead process's and is
    /// dropped (the statement creates that very constraint, and the lock is
    /// held, or, for the lock's own constraint, every booting process wants
    /// the same); then the transaction is sent again. All within the lock
    /// timeout, after which the error stands (see `failed`). Transient
    /// errors are retried within the same bound.
    pub(super) async fn run_schema_statements(&self, statements: &[&str]) -> Result<(), (usize, neo4rs::Error)> {
        let started = Instant::now();
        loop {
            let result = run_together(&self.graph, statements).await;
            let left = self.lock_timeout.saturating_sub(started.elapsed());
            match result {
                Err((index, err)) if has_code(&err, INDEX_NAME_TAKEN) && !left.is_zero() => {
                    tracing::warn!(
                        error = %message(&err),
                        "an index of this name is still being built, or left by a killed process; \
                         awaiting the indexes, then trying again"
                    );
                    let seconds = left.min(INDEX_AWAIT).as_secs().max(1) as i64;
                    let wait = query("CALL db.awaitIndexes($seconds)").param("seconds", seconds);
                    if let Err(await_err) = run_auto(&self.graph, wait).await {
                        tracing::debug!(error = %await_err, "awaiting the indexes");
                        if let Some(name) = constraint_name(statements[index]) {
                            self.drop_orphan_index(&name).await.map_err(|err| (index, err))?;
                        }
                    }
                    // Online, the index may still await its constraint's commit.
                    tokio::time::sleep(LOCK_POLL.min(self.lock_timeout.saturating_sub(started.elapsed()))).await;
                }
                Err((index, err)) => {
                    let result = Err(err);
                    if !try_again(&result, started, self.lock_timeout).await {
                        return result.map_err(|err| (index, err));
                    }
                }
                Ok(()) => return Ok(()),
            }
        }
    }

    /// Drops the index `name` if no constraint owns it and it is not online
    /// (a constraint's backing index whose creation was killed).
    pub(super) async fn drop_orphan_index(&self, name: &str) -> Result<(), neo4rs::Error> {
        let orphan = query(
            "SHOW INDEXES YIELD name, owningConstraint, state \
             WHERE name = $name AND owningConstraint IS NULL AND state <> 'ONLINE' RETURN count(*) AS orphans",
        )
        .param("name", name);
        let rows = fetch_rows(&self.graph, orphan).await?;
        if rows.first().and_then(|r| r.get::<i64>("orphans").ok()) == Some(1) {
            tracing::warn!(
                index = name,
                "dropping an index a killed process left without its constraint"
            );
            let drop = format!("DROP INDEX `{}` IF EXISTS", name.replace('`', "``"));
            run_together(&self.graph, &[&drop]).await.map_err(|(_, err)| err)?;
        }
        Ok(())
    }
}

/// The name in `CREATE CONSTRAINT <name> ...`, unquoted; `None` for an
/// unnamed constraint or another statement.
pub(super) fn constraint_name(statement: &str) -> Option<String> {
    let mut words = statement.split_whitespace();
    let create = words.next()?.eq_ignore_ascii_case("CREATE");
    let constraint = words.next()?.eq_ignore_ascii_case("CONSTRAINT");
    let name = words.next()?;
    let unnamed = ["IF", "FOR", "ON"].iter().any(|w| name.eq_ignore_ascii_case(w));
    (create && constraint && !unnamed).then(|| name.trim_matches('`').replace("``", "`"))
}

#[cfg(test)]
mod tests {
    use super::constraint_name;

    #[test]
    fn reads_the_constraint_name_of_a_create_constraint() {
        let named = "CREATE CONSTRAINT `my``c` IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE";
        assert_eq!(constraint_name(named).as_deref(), Some("my`c"));
        assert_eq!(
            constraint_name("create constraint crash_id for (n:A) require n.id is unique").as_deref(),
            Some("crash_id")
        );
        assert_eq!(
            constraint_name("CREATE CONSTRAINT IF NOT EXISTS FOR (n:A) REQUIRE n.id IS UNIQUE"),
            None
        );
        assert_eq!(constraint_name("CREATE INDEX crash_v FOR (n:A) ON (n.v)"), None);
    }
}
