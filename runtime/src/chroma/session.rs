//! The session: the tracking collections, read and written, and one
//! change applied under the dirty mark.
//!
//! Chroma has no transactions, so a change is the MySQL protocol in
//! requests: its tracking record is written dirty (with the state's dirty
//! flag) before the first step, the count of steps done is written after
//! each, and only when all ran is the record written clean, then the state,
//! then the history record. A process killed anywhere in between leaves a
//! dirty record naming the direction and the steps done, which the next
//! boot reports (`Error::Dirty`) until `force` or `forget` settles it; one
//! killed between the clean record and the state leaves a state that
//! disagrees with the records, which `repair` rewrites.

use super::client::{ChromaClient, Metadata, Records};
use super::errors::{db_err, NAME};
use super::lease::Held;
use super::steps;
use crate::backend::{Change, RecordEdit, State};
use crate::error::CorruptChecksum;
use crate::records::{AppliedMigration, DirtyRun, HistoryEntry};
use crate::{Direction, Error, Settings};
use serde_json::Value;
use std::time::Instant;

/// The collections of one tracking table: for the default table,
/// `embedded_migrations` (a record per applied migration; the state in its
/// metadata), `embedded_migrations_history`, `embedded_migrations_lock`,
/// `embedded_migrations_checkpoints`, `embedded_migrations_schema`.
#[derive(Clone)]
pub(super) struct Names {
    pub(super) tracking: String,
    pub(super) history: String,
    pub(super) lock: String,
    pub(super) checkpoints: String,
    pub(super) schema: String,
}

impl Names {
    /// Chroma names start with a letter or digit: the table's leading
    /// underscores are dropped (`_embedded_migrations` is
    /// `embedded_migrations`).
    pub(super) fn new(settings: &Settings) -> Result<Names, Error> {
        let base = settings.table.trim_start_matches('_');
        crate::core::chroma::check_name(base).map_err(|why| Error::InvalidSettings {
            message: format!("the table name `{}` on ChromaDB: {why}", settings.table),
        })?;
        Ok(Names {
            tracking: base.to_string(),
            history: format!("{base}_history"),
            lock: format!("{base}_lock"),
            checkpoints: format!("{base}_checkpoints"),
            schema: format!("{base}_schema"),
        })
    }

    /// Whether `name` is one of these collections (or a lock being
    /// removed): left out of schema snapshots.
    pub(super) fn is_tracking(&self, name: &str) -> bool {
        [
            &self.tracking,
            &self.history,
            &self.lock,
            &self.checkpoints,
            &self.schema,
        ]
        .iter()
        .any(|n| *n == name)
            || name.starts_with(&format!("{}.gone.", self.lock))
    }
}

pub(super) struct ChromaSession {
    pub(super) client: ChromaClient,
    pub(super) names: Names,
    /// Names this process in the lock: host, process id, session number.
    pub(super) owner: String,
    pub(super) held: Option<Held>,
}

/// Every tracking record's embedding: Chroma stores none without one.
const EMBEDDING: [f32; 1] = [0.0];

fn str_of(metadata: &Metadata, key: &str) -> Option<String> {
    metadata.get(key).and_then(Value::as_str).map(str::to_string)
}

fn int_of(metadata: &Metadata, key: &str) -> Option<i64> {
    metadata.get(key).and_then(Value::as_i64)
}

fn bool_of(metadata: &Metadata, key: &str) -> bool {
    metadata.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn bad_record(what: &str, id: &str) -> Error {
    Error::database(
        NAME,
        "reading the tracking records",
        format!("the {what} record `{id}` is missing a field or holds one of the wrong type; was it edited by hand?"),
    )
}

pub(super) fn state_metadata(state: &State) -> Metadata {
    let mut m = Metadata::new();
    m.insert("applied_count".into(), state.applied_count.into());
    m.insert("last_version".into(), state.last_version.into());
    m.insert("chain".into(), state.chain.to_hex().into());
    m.insert("dirty".into(), state.dirty.into());
    m
}

fn read_state_metadata(metadata: &Metadata) -> Result<State, Error> {
    // A chain that is not hex is `CorruptChecksum`, as on every backend.
    let chain = match str_of(metadata, "chain") {
        Some(hex) => Some(CorruptChecksum::parse(None, &hex).map_err(|err| err.into_error(NAME))?),
        None => None,
    };
    match (
        int_of(metadata, "applied_count"),
        int_of(metadata, "last_version"),
        chain,
    ) {
        (Some(applied_count), Some(last_version), Some(chain)) => Ok(State {
            applied_count,
            last_version,
            chain,
            dirty: bool_of(metadata, "dirty"),
        }),
        _ => Err(bad_record("state (the tracking collection's metadata)", "state")),
    }
}

fn row_metadata(row: &AppliedMigration) -> Metadata {
    let mut m = Metadata::new();
    m.insert("version".into(), row.version.into());
    m.insert("name".into(), row.name.clone().into());
    m.insert("checksum".into(), row.checksum.to_hex().into());
    m.insert("applied_at".into(), row.applied_at.clone().into());
    m.insert("execution_ms".into(), row.execution_ms.into());
    m.insert("dirty".into(), row.dirty.into());
    if let Some(run) = row.dirty_run {
        m.insert("dirty_direction".into(), run.direction.as_str().into());
        if let Some(committed) = run.committed {
            m.insert("committed_steps".into(), (committed as i64).into());
        }
    }
    m
}

fn read_row(id: &str, m: &Metadata) -> Result<AppliedMigration, Error> {
    let bad = || bad_record("tracking", id);
    let version = int_of(m, "version").ok_or_else(bad)?;
    let checksum = str_of(m, "checksum").ok_or_else(bad)?;
    let checksum = CorruptChecksum::parse(Some(version), &checksum).map_err(|err| err.into_error(NAME))?;
    let dirty = bool_of(m, "dirty");
    let direction = match str_of(m, "dirty_direction").as_deref() {
        Some("down") => Some(Direction::Down),
        Some(_) => Some(Direction::Up),
        None => None,
    };
    Ok(AppliedMigration {
        version,
        name: str_of(m, "name").ok_or_else(bad)?,
        checksum,
        applied_at: str_of(m, "applied_at").ok_or_else(bad)?,
        execution_ms: int_of(m, "execution_ms").unwrap_or(0),
        dirty,
        dirty_run: direction.filter(|_| dirty).map(|direction| DirtyRun {
            direction,
            committed: int_of(m, "committed_steps").map(|c| c as u64),
        }),
    })
}

fn history_metadata(entry: &HistoryEntry) -> Metadata {
    let mut m = Metadata::new();
    m.insert("version".into(), entry.version.into());
    m.insert("name".into(), entry.name.clone().into());
    m.insert("direction".into(), entry.direction.as_str().into());
    m.insert("started_at".into(), entry.started_at.clone().into());
    m.insert("duration_ms".into(), entry.duration_ms.into());
    m.insert("success".into(), entry.success.into());
    if let Some(error) = &entry.error {
        m.insert("error".into(), error.clone().into());
    }
    if let Some(reason) = &entry.reason {
        m.insert("reason".into(), reason.clone().into());
    }
    if let Some(placeholders) = &entry.placeholders {
        m.insert("placeholders".into(), placeholders.clone().into());
    }
    m
}

fn read_history_entry(id: &str, m: &Metadata) -> Result<HistoryEntry, Error> {
    let bad = || bad_record("history", id);
    Ok(HistoryEntry {
        version: int_of(m, "version").ok_or_else(bad)?,
        name: str_of(m, "name").ok_or_else(bad)?,
        direction: if str_of(m, "direction").as_deref() == Some("down") {
            Direction::Down
        } else {
            Direction::Up
        },
        started_at: str_of(m, "started_at").ok_or_else(bad)?,
        duration_ms: int_of(m, "duration_ms").unwrap_or(0),
        success: bool_of(m, "success"),
        error: str_of(m, "error"),
        reason: str_of(m, "reason"),
        placeholders: str_of(m, "placeholders"),
    })
}

/// One record of a tracking collection.
pub(super) fn record(id: String, metadata: Metadata) -> Records {
    Records {
        ids: vec![id],
        embeddings: Some(vec![EMBEDDING.to_vec()]),
        documents: None,
        metadatas: Some(vec![Some(metadata)]),
        uris: None,
    }
}

/// Every record of the collection `id`, a page at a time.
pub(super) async fn all_records(client: &ChromaClient, id: &str, operation: &'static str) -> Result<Records, Error> {
    const PAGE: u64 = 1000;
    let mut all = Records::default();
    let mut metadatas = Vec::new();
    loop {
        let page = client
            .get(id, None, Some(PAGE), all.ids.len() as u64)
            .await
            .map_err(db_err(operation))?;
        let n = page.len();
        all.ids.extend(page.ids);
        metadatas.extend(page.metadatas.unwrap_or_default());
        if (n as u64) < PAGE {
            break;
        }
    }
    all.metadatas = Some(metadatas);
    Ok(all)
}

impl ChromaSession {
    pub(super) fn new(client: ChromaClient, settings: &Settings, owner: String) -> Result<Self, Error> {
        if settings.schema_name().is_some() {
            return Err(Error::Unsupported {
                backend: NAME,
                what: "a schema setting (choose the Chroma database with `ChromaClient::database_named` instead)"
                    .to_string(),
            });
        }
        Ok(ChromaSession {
            client,
            names: Names::new(settings)?,
            owner,
            held: None,
        })
    }

    /// The tracking collection's id, which `create_tracking` made.
    async fn collection_id(&self, name: &str, operation: &'static str) -> Result<Option<String>, Error> {
        Ok(self
            .client
            .get_collection(name)
            .await
            .map_err(db_err(operation))?
            .map(|c| c.id))
    }

    async fn tracking_id(&self) -> Result<String, Error> {
        self.collection_id(&self.names.tracking, "finding the tracking collection")
            .await?
            .ok_or_else(|| {
                Error::database(
                    NAME,
                    "finding the tracking collection",
                    format!(
                        "the collection `{}` is gone; was it deleted by hand?",
                        self.names.tracking
                    ),
                )
            })
    }

    /// One request: the tracking collection and, in its metadata, the state.
    pub(super) async fn read_state(&mut self) -> Result<Option<State>, Error> {
        let Some(collection) = self
            .client
            .get_collection(&self.names.tracking)
            .await
            .map_err(db_err("reading the state"))?
        else {
            return Ok(None);
        };
        read_state_metadata(&collection.metadata.unwrap_or_default()).map(Some)
    }

    pub(super) async fn read_applied(&mut self) -> Result<Vec<AppliedMigration>, Error> {
        let Some(id) = self
            .collection_id(&self.names.tracking, "reading the tracking records")
            .await?
        else {
            return Ok(Vec::new());
        };
        let records = all_records(&self.client, &id, "reading the tracking records").await?;
        let mut rows = records
            .ids
            .iter()
            .zip(records.metadatas.unwrap_or_default())
            .map(|(id, m)| read_row(id, &m.unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|row| row.version);
        Ok(rows)
    }

    pub(super) async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        let Some(id) = self.collection_id(&self.names.history, "reading the history").await? else {
            return Ok(Vec::new());
        };
        let records = all_records(&self.client, &id, "reading the history").await?;
        let mut entries = records
            .ids
            .iter()
            .zip(records.metadatas.unwrap_or_default())
            .map(|(id, m)| Ok((id.clone(), read_history_entry(id, &m.unwrap_or_default())?)))
            .collect::<Result<Vec<_>, Error>>()?;
        // Ids are `<sequence, zero-padded>-<owner>`: in the order written.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    /// Creates what is missing, under the lock: the tracking collection with
    /// the empty state, the history and the checkpoints.
    pub(super) async fn create_tracking(&mut self) -> Result<(), Error> {
        let empty = state_metadata(&State::EMPTY);
        for (name, metadata) in [
            (&self.names.tracking, Some(&empty)),
            (&self.names.history, None),
            (&self.names.checkpoints, None),
        ] {
            match self.client.create_collection(name, metadata, None).await {
                Ok(_) => {}
                Err(err) if err.is_conflict() => {}
                Err(err) => return Err(db_err("creating the tracking collections")(err)),
            }
        }
        Ok(())
    }

    pub(super) async fn write_state(&self, tracking: &str, state: &State) -> Result<(), Error> {
        self.guard()?;
        self.client
            .modify_collection(tracking, None, Some(&state_metadata(state)))
            .await
            .map_err(db_err("writing the state"))
    }

    pub(super) async fn put_row(&self, tracking: &str, row: &AppliedMigration) -> Result<(), Error> {
        self.guard()?;
        self.client
            .upsert(tracking, &record(row.version.to_string(), row_metadata(row)))
            .await
            .map_err(db_err("writing the tracking record"))
    }

    async fn remove_row(&self, tracking: &str, version: i64) -> Result<(), Error> {
        self.guard()?;
        self.client
            .delete_records(tracking, &[version.to_string()])
            .await
            .map_err(db_err("removing the tracking record"))
    }

    pub(super) async fn write_history(&mut self, entry: &HistoryEntry) -> Result<(), Error> {
        let Some(id) = self.collection_id(&self.names.history, "writing the history").await? else {
            return Ok(());
        };
        let seq = self.client.count(&id).await.map_err(db_err("writing the history"))? + 1;
        // Two writers never share an owner, so ids never collide.
        let record_id = format!("{seq:012}-{}", self.owner);
        self.client
            .upsert(&id, &record(record_id, history_metadata(entry)))
            .await
            .map_err(db_err("writing the history"))
    }

    pub(super) async fn rewrite_record(&mut self, edit: RecordEdit<'_>, state: &State) -> Result<(), Error> {
        let tracking = self.tracking_id().await?;
        match edit {
            RecordEdit::Put(row) => self.put_row(&tracking, row).await?,
            RecordEdit::Remove(version) => self.remove_row(&tracking, version).await?,
            RecordEdit::StateOnly => {}
        }
        self.write_state(&tracking, state).await
    }

    /// `Conflict` unless the state is the plan's.
    pub(super) async fn check_state(&mut self, change: &Change<'_>) -> Result<(), Error> {
        self.guard()?;
        let state = self.read_state().await?.unwrap_or(State::EMPTY);
        if state == change.state_before {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    /// The record a change's run is marked with: for up, its new row; for
    /// down, the applied row; dirty, with the steps done so far.
    fn mark(change: &Change<'_>, applied: Option<&AppliedMigration>, done: u64) -> AppliedMigration {
        let mut row = match (&change.record, applied) {
            (Some(row), _) | (None, Some(row)) => row.clone(),
            (None, None) => AppliedMigration {
                version: change.migration.version,
                name: change.migration.name.to_string(),
                checksum: change.migration.checksum(),
                applied_at: change.history.started_at.clone(),
                execution_ms: 0,
                dirty: false,
                dirty_run: None,
            },
        };
        row.dirty = true;
        row.dirty_run = Some(DirtyRun {
            direction: change.direction,
            // A code migration's writes cannot be counted.
            committed: change.code.is_none().then_some(done),
        });
        row
    }

    pub(super) async fn apply(&mut self, change: &Change<'_>) -> Result<(), Error> {
        self.check_state(change).await?;
        let tracking = self.tracking_id().await?;
        let applied = match change.record {
            Some(_) => None,
            None => self
                .read_applied()
                .await?
                .into_iter()
                .find(|row| row.version == change.migration.version),
        };
        let started = Instant::now();
        // The mark: the record dirty, then the state's flag.
        self.put_row(&tracking, &Self::mark(change, applied.as_ref(), 0))
            .await?;
        self.write_state(
            &tracking,
            &State {
                dirty: true,
                ..change.state_before
            },
        )
        .await?;
        let outcome = match change.code {
            Some(code) => {
                let function = crate::code::run::function::<ChromaClient>(change, code, NAME)?;
                let mut client = self.client.clone();
                crate::code::run::run(change, function, &mut client, false).await
            }
            None => self.run_steps(&tracking, change, applied.as_ref()).await,
        };
        if let Err(err) = outcome {
            // Nothing of the run changed anything: take the mark back.
            if let Error::MigrationFailed { rolled_back: true, .. } = err {
                match &applied {
                    Some(row) => self.put_row(&tracking, row).await?,
                    None => self.remove_row(&tracking, change.migration.version).await?,
                }
                self.write_state(&tracking, &change.state_before).await?;
            }
            return Err(err);
        }
        self.finish(&tracking, change, started.elapsed().as_millis() as i64)
            .await
    }

    /// The file's steps in order, the count done written after each. A
    /// step the server refuses is rolled back when it was the first (each
    /// step is one request the server applies whole or not at all).
    async fn run_steps(
        &self,
        tracking: &str,
        change: &Change<'_>,
        applied: Option<&AppliedMigration>,
    ) -> Result<(), Error> {
        let text = change.text();
        let parsed =
            crate::core::chroma::parse(text).map_err(|message| change.failed_after("the file", 1, message, true, 0))?;
        for (index, step) in parsed.iter().enumerate() {
            if let Err(message) = steps::run_step(&self.client, step).await {
                let line = steps::line_of(text, index);
                return Err(change.failed_after(&steps::describe(step), line, message, index == 0, index as u32));
            }
            self.put_row(tracking, &Self::mark(change, applied, index as u64 + 1))
                .await?;
        }
        Ok(())
    }

    /// The change recorded: its record clean (or removed), the state, the
    /// history.
    pub(super) async fn finish(&mut self, tracking: &str, change: &Change<'_>, elapsed_ms: i64) -> Result<(), Error> {
        match &change.record {
            Some(row) => {
                let row = AppliedMigration {
                    execution_ms: elapsed_ms,
                    ..row.clone()
                };
                self.put_row(tracking, &row).await?;
            }
            None => self.remove_row(tracking, change.migration.version).await?,
        }
        self.write_state(tracking, &change.state_after).await?;
        let entry = HistoryEntry {
            duration_ms: elapsed_ms,
            ..change.history.clone()
        };
        self.write_history(&entry).await
    }
}
