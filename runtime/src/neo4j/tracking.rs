//! The tracking nodes: created, read and written.

use super::books::{dirty_map, Bookkeeping, NodeWrite};
use super::errors::{db_err, row_err, NAME};
use super::labels::Labels;
use super::session::Neo4jSession;
use super::tx::Tx;
use crate::backend::{Change, RecordEdit, State};
use crate::error::CorruptChecksum;
use crate::records::{AppliedMigration, DirtyRun, HistoryEntry};
use crate::{Checksum, Direction, Error};
use neo4rs::{query, BoltType, Query};
use std::collections::HashMap;

impl Neo4jSession {
    pub(super) async fn create_tracking(&mut self) -> Result<(), Error> {
        let operation = "creating the tracking constraints";
        let Labels {
            migration,
            state,
            constraint,
            ..
        } = &self.labels;
        // Schema commands, in one transaction; IF NOT EXISTS makes them
        // idempotent. The lock's constraint is made by `lock`.
        let version = format!(
            "CREATE CONSTRAINT `{constraint}_version` IF NOT EXISTS FOR (m:{migration}) REQUIRE m.version IS UNIQUE"
        );
        let state_id =
            format!("CREATE CONSTRAINT `{constraint}_state_id` IF NOT EXISTS FOR (s:{state}) REQUIRE s.id IS UNIQUE");
        self.run_schema_statements(&[&version, &state_id])
            .await
            .map_err(|(_, err)| db_err(operation)(err))?;
        let q = query(&format!(
            "MERGE (s:{state} {{id: 1}}) ON CREATE SET s.applied_count = 0, s.last_version = 0, \
             s.chain = $chain, s.dirty = false, s.history_seq = 0"
        ))
        .param("chain", Checksum::ZERO.to_hex());
        self.in_transaction("creating the state node", async |txn| {
            txn.run(q).await.map_err(db_err("creating the state node"))
        })
        .await
    }

    pub(super) async fn read_state(&mut self) -> Result<Option<State>, Error> {
        let operation = "reading the migration state";
        let label = &self.labels.state;
        let q = query(&format!(
            "MATCH (s:{label} {{id: 1}}) RETURN s.applied_count AS applied_count, \
             s.last_version AS last_version, s.chain AS chain, s.dirty AS dirty"
        ));
        let rows = self.fetch(q, operation).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let chain: String = row.get("chain").map_err(row_err(operation))?;
        Ok(Some(State {
            applied_count: row.get("applied_count").map_err(row_err(operation))?,
            last_version: row.get("last_version").map_err(row_err(operation))?,
            chain: CorruptChecksum::parse(None, &chain).map_err(|err| err.into_error(NAME))?,
            dirty: row.get("dirty").map_err(row_err(operation))?,
        }))
    }

    pub(super) async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        let operation = "reading the applied migrations";
        let migration = &self.labels.migration;
        let q = query(&format!(
            "MATCH (m:{migration}) RETURN m.version AS version, m.name AS name, m.checksum AS checksum, \
             m.applied_at AS applied_at, m.execution_ms AS execution_ms, m.dirty AS dirty, \
             m.dirty_direction AS dirty_direction ORDER BY m.version"
        ));
        let rows = self.fetch(q, operation).await?;
        for row in &rows {
            let version: i64 = row.get("version").map_err(row_err(operation))?;
            let checksum: String = row.get("checksum").map_err(row_err(operation))?;
            CorruptChecksum::parse(Some(version), &checksum).map_err(|err| err.into_error(NAME))?;
        }
        rows.iter()
            .map(|row| {
                let checksum: String = row.get("checksum")?;
                let dirty: bool = row.get("dirty")?;
                let direction: Option<String> = row.get("dirty_direction")?;
                Ok(AppliedMigration {
                    version: row.get("version")?,
                    name: row.get("name")?,
                    checksum: Checksum::from_hex(&checksum).unwrap_or(Checksum::ZERO), // checked above
                    applied_at: row.get("applied_at")?,
                    execution_ms: row.get("execution_ms")?,
                    dirty,
                    // Nodes marked before the direction was recorded have none.
                    dirty_run: direction.filter(|_| dirty).map(|direction| DirtyRun {
                        direction: if direction == "down" {
                            Direction::Down
                        } else {
                            Direction::Up
                        },
                        committed: None,
                    }),
                })
            })
            .collect::<Result<_, neo4rs::DeError>>()
            .map_err(row_err(operation))
    }

    pub(super) async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        let operation = "reading the migration history";
        let history = &self.labels.history;
        let q = query(&format!(
            "MATCH (h:{history}) RETURN h.version AS version, h.name AS name, h.direction AS direction, \
             h.started_at AS started_at, h.duration_ms AS duration_ms, h.success AS success, \
             h.error AS error, h.reason AS reason, h.placeholders AS placeholders ORDER BY h.seq"
        ));
        let rows = self.fetch(q, operation).await?;
        rows.iter()
            .map(|row| {
                let direction: String = row.get("direction")?;
                Ok(HistoryEntry {
                    version: row.get("version")?,
                    name: row.get("name")?,
                    direction: if direction == "down" {
                        Direction::Down
                    } else {
                        Direction::Up
                    },
                    started_at: row.get("started_at")?,
                    duration_ms: row.get("duration_ms")?,
                    success: row.get("success")?,
                    error: row.get("error")?,
                    reason: row.get("reason")?,
                    placeholders: row.get("placeholders")?,
                })
            })
            .collect::<Result<_, neo4rs::DeError>>()
            .map_err(row_err(operation))
    }

    /// Writes a tracking node (creating or replacing it).
    /// Writes a tracking node (creating or replacing it), clean or (with
    /// the direction of its run) dirty.
    pub(super) fn upsert_record(
        &self,
        row: &AppliedMigration,
        applied_at: String,
        execution_ms: i64,
        dirty: Option<Direction>,
    ) -> Query {
        let migration = &self.labels.migration;
        query(&format!(
            "MERGE (m:{migration} {{version: $version}}) SET m.name = $name, m.checksum = $checksum, \
             m.applied_at = $applied_at, m.execution_ms = $execution_ms, m.dirty = $dirty, \
             m.dirty_direction = $dirty_direction"
        ))
        .param("version", row.version)
        .param("name", row.name.as_str())
        .param("checksum", row.checksum.to_hex())
        .param("applied_at", applied_at)
        .param("execution_ms", execution_ms)
        .param("dirty", dirty.is_some())
        .param("dirty_direction", dirty.map(Direction::as_str))
    }

    /// A migration node's properties: its record, clean or (with the
    /// direction of its run) dirty.
    pub(super) fn record_map(
        &self,
        row: &AppliedMigration,
        execution_ms: i64,
        dirty: Option<Direction>,
    ) -> HashMap<&'static str, BoltType> {
        let mut map = dirty_map(dirty);
        map.extend([
            ("name", row.name.as_str().into()),
            ("checksum", row.checksum.to_hex().into()),
            ("applied_at", self.clock.stamp(&row.applied_at).into()),
            ("execution_ms", execution_ms.into()),
        ]);
        map
    }

    /// A history node's properties but its number.
    pub(super) fn history_map(&self, entry: &HistoryEntry) -> HashMap<&'static str, BoltType> {
        let mut map = HashMap::from([
            ("version", entry.version.into()),
            ("name", entry.name.as_str().into()),
            ("direction", entry.direction.as_str().into()),
            ("started_at", self.clock.stamp(&entry.started_at).into()),
            ("duration_ms", self.clock.duration(entry.duration_ms).into()),
            ("success", entry.success.into()),
            ("error", entry.error.clone().into()),
            ("reason", entry.reason.clone().into()),
        ]);
        // Only where the file used placeholders, as `insert_history`.
        if let Some(values) = &entry.placeholders {
            map.insert("placeholders", values.as_str().into());
        }
        map
    }

    /// The tracking writes of a finished step: its node written clean (or
    /// deleted, reverted), the state after it, its history node.
    pub(super) fn books_for_record<'a>(&self, change: &'a Change<'_>, execution_ms: i64) -> Bookkeeping<'a> {
        let mut history = change.history.clone();
        history.duration_ms = execution_ms;
        Bookkeeping {
            version: change.migration.version,
            node: match &change.record {
                Some(row) => NodeWrite::Put(self.record_map(row, execution_ms, None)),
                None => NodeWrite::Remove,
            },
            after: &change.state_after,
            history: Some(history),
        }
    }

    pub(super) fn delete_record(&self, version: i64) -> Query {
        let migration = &self.labels.migration;
        query(&format!("MATCH (m:{migration} {{version: $version}}) DELETE m")).param("version", version)
    }

    pub(super) fn write_state(&self, state: &State) -> Query {
        let label = &self.labels.state;
        query(&format!(
            "MATCH (s:{label} {{id: 1}}) SET s.applied_count = $applied_count, s.last_version = $last_version, \
             s.chain = $chain, s.dirty = $dirty"
        ))
        .param("applied_count", state.applied_count)
        .param("last_version", state.last_version)
        .param("chain", state.chain.to_hex())
        .param("dirty", state.dirty)
    }

    /// The history node takes the next number from the state node, in the
    /// same statement, so history keeps its order whatever the clocks say.
    pub(super) fn insert_history(&self, entry: &HistoryEntry) -> Query {
        let Labels { state, history, .. } = &self.labels;
        // Only a run whose file used placeholders has the property: the
        // statement of every other run stays as it was.
        let placeholders = match entry.placeholders {
            Some(_) => ", placeholders: $placeholders",
            None => "",
        };
        let q = query(&format!(
            "MATCH (s:{state} {{id: 1}}) SET s.history_seq = s.history_seq + 1 \
             CREATE (:{history} {{seq: s.history_seq, version: $version, name: $name, direction: $direction, \
             started_at: $started_at, duration_ms: $duration_ms, success: $success, error: $error, \
             reason: $reason{placeholders}}})"
        ))
        .param("version", entry.version)
        .param("name", entry.name.as_str())
        .param("direction", entry.direction.as_str())
        .param("started_at", self.clock.stamp(&entry.started_at))
        .param("duration_ms", self.clock.duration(entry.duration_ms))
        .param("success", entry.success)
        .param("error", entry.error.clone())
        .param("reason", entry.reason.clone());
        match &entry.placeholders {
            Some(values) => q.param("placeholders", values.as_str()),
            None => q,
        }
    }

    /// The tracking writes of a finished step: its node, the state, history.
    pub(super) async fn record(&self, txn: &mut Tx, change: &Change<'_>, execution_ms: i64) -> Result<(), Error> {
        let operation = "recording the migration";
        let write = match &change.record {
            Some(row) => self.upsert_record(row, self.clock.stamp(&row.applied_at), execution_ms, None),
            None => self.delete_record(change.migration.version),
        };
        txn.run(write).await.map_err(db_err(operation))?;
        txn.run(self.write_state(&change.state_after))
            .await
            .map_err(db_err(operation))?;
        let mut history = change.history.clone();
        history.duration_ms = execution_ms;
        txn.run(self.insert_history(&history)).await.map_err(db_err(operation))
    }

    pub(super) async fn write_history(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        let q = self.insert_history(entry);
        self.in_transaction("writing the history", async |txn| {
            txn.run(q).await.map_err(db_err("writing the history"))
        })
        .await
    }

    pub(super) async fn rewrite_record(&mut self, edit: RecordEdit<'_>, state: &State) -> Result<(), Error> {
        let operation = "updating the tracking nodes";
        self.in_transaction(operation, async |txn| {
            let write = match edit {
                RecordEdit::Put(row) => {
                    Some(self.upsert_record(row, self.clock.stamp(&row.applied_at), row.execution_ms, None))
                }
                RecordEdit::Remove(version) => Some(self.delete_record(version)),
                RecordEdit::StateOnly => None,
            };
            if let Some(write) = write {
                txn.run(write).await.map_err(db_err(operation))?;
            }
            txn.run(self.write_state(state)).await.map_err(db_err(operation))
        })
        .await
    }
}
