//! A `copy` step: every record of one collection into another, a batch at
//! a time, as a batch migration the database side runs (`SelfBatches`).
//!
//! After each batch is upserted into the target, the checkpoint (batches
//! and records copied) is written to `<table>_checkpoints`; a run killed
//! in between resumes from the checkpoint, and the batch it may copy twice
//! is an upsert of the same ids: nothing is duplicated. Batches are read
//! by offset, so the source must not change while it is copied. The
//! migration is recorded (clean record, state, history) once the source
//! is exhausted, and the checkpoint removed.

use super::client::ChromaClient;
use super::errors::{db_err, NAME};
use super::session::{record, ChromaSession};
use super::steps;
use crate::backend::{Batch, BatchDone, SelfBatchedProgress};
use crate::core::chroma::{self, Step};
use crate::records::Checkpoint;
use crate::Error;
use serde_json::Value;
use std::time::Instant;

impl ChromaSession {
    async fn checkpoints_id(&self) -> Result<Option<String>, Error> {
        Ok(self
            .client
            .get_collection(&self.names.checkpoints)
            .await
            .map_err(db_err("reading the checkpoint"))?
            .map(|c| c.id))
    }

    pub(super) async fn read_checkpoint(&mut self, version: i64) -> Result<Option<Checkpoint>, Error> {
        let Some(id) = self.checkpoints_id().await? else {
            return Ok(None);
        };
        let found = self
            .client
            .get(&id, Some(&[version.to_string()]), None, 0)
            .await
            .map_err(db_err("reading the checkpoint"))?;
        let metadata = found.metadatas.and_then(|m| m.into_iter().next().flatten());
        Ok(metadata.map(|m| Checkpoint {
            batches: m.get("batches").and_then(Value::as_u64).unwrap_or(0),
            rows: m.get("rows").and_then(Value::as_u64).unwrap_or(0),
        }))
    }

    async fn write_checkpoint(&self, id: &str, version: i64, checkpoint: Checkpoint) -> Result<(), Error> {
        self.guard()?;
        let mut m = super::client::Metadata::new();
        m.insert("batches".into(), checkpoint.batches.into());
        m.insert("rows".into(), checkpoint.rows.into());
        self.client
            .upsert(id, &record(version.to_string(), m))
            .await
            .map_err(db_err("writing the checkpoint"))
    }

    pub(super) async fn run_copy(
        &mut self,
        batch: &Batch<'_>,
        progress: &(dyn Fn(SelfBatchedProgress) + Send + Sync),
    ) -> Result<Checkpoint, Error> {
        let change = batch.change;
        self.check_state(change).await?;
        let Some(Step::Copy {
            from,
            to,
            batch_size,
            config,
        }) = chroma::copy_step(change.text())
        else {
            return Err(change.failed(batch.statement, batch.line, "not a copy step".to_string(), true));
        };
        let statement = steps::describe(&Step::Copy {
            from: from.clone(),
            to: to.clone(),
            batch_size,
            config: config.clone(),
        });
        let fail = |message: String, done: Checkpoint| change.batch_failed(&statement, batch.line, message, true, done);
        let resumed = self
            .read_checkpoint(change.migration.version)
            .await?
            .unwrap_or_default();
        let Some(source) = self
            .client
            .get_collection(&from)
            .await
            .map_err(db_err("reading the source"))?
        else {
            return Err(fail(format!("there is no collection `{from}` to copy"), resumed));
        };
        match steps::create(&self.client, &to, &config).await {
            Ok(()) => {}
            // A resumed run created it already.
            Err(err) if err.is_conflict() && resumed.batches > 0 => {}
            Err(err) => return Err(fail(format!("creating `{to}`: {err}"), resumed)),
        }
        let target = self
            .client
            .get_collection(&to)
            .await
            .map_err(db_err("reading the target"))?;
        let target = target.ok_or_else(|| fail(format!("`{to}` vanished"), resumed))?.id;
        let checkpoints = self
            .checkpoints_id()
            .await?
            .ok_or_else(|| fail("the checkpoint collection is missing".to_string(), resumed))?;
        let total = self
            .client
            .count(&source.id)
            .await
            .map_err(db_err("counting the source"))?;
        let started = Instant::now();
        let mut done = resumed;
        loop {
            let records = self
                .client
                .get(&source.id, None, Some(batch_size), done.rows)
                .await
                .map_err(|err| fail(format!("reading `{from}`: {err}"), done))?;
            if records.is_empty() {
                break;
            }
            let n = records.len() as u64;
            self.guard()?;
            self.client
                .upsert(&target, &records)
                .await
                .map_err(|err| fail(format!("writing `{to}`: {err}"), done))?;
            done = Checkpoint {
                batches: done.batches + 1,
                rows: done.rows + n,
            };
            self.write_checkpoint(&checkpoints, change.migration.version, done)
                .await?;
            progress(SelfBatchedProgress {
                checkpoint: done,
                resumed_rows: resumed.rows,
                total: Some(total),
            });
            if n < batch_size {
                break;
            }
        }
        let tracking = self
            .client
            .get_collection(&self.names.tracking)
            .await
            .map_err(db_err("recording the copy"))?
            .ok_or_else(|| Error::database(NAME, "recording the copy", "the tracking collection is gone"))?
            .id;
        self.finish(&tracking, change, started.elapsed().as_millis() as i64)
            .await?;
        self.client
            .delete_records(&checkpoints, &[change.migration.version.to_string()])
            .await
            .map_err(db_err("removing the checkpoint"))?;
        Ok(done)
    }

    /// One batch of a batch code migration (`// migrate:batch size=N` in a
    /// `.rs` file): its `up` called with the client and the size, then the
    /// checkpoint; a batch that processed nothing records the migration and
    /// removes the checkpoint. Chroma has no transaction to put the two in:
    /// a run killed between a batch's writes and its checkpoint does that
    /// batch again, which a function that selects only what it has not
    /// processed yet (the rule of every batch migration) does not repeat.
    pub(super) async fn run_code_batch(&mut self, batch: &Batch<'_>) -> Result<BatchDone, Error> {
        let change = batch.change;
        let Some(code) = change.code else {
            return Err(Error::Unsupported {
                backend: NAME,
                what: "a `copy` step run batch by batch by the engine (the session batches it itself)".to_string(),
            });
        };
        let function = crate::code::run::batch_function::<ChromaClient>(change, code, NAME)?;
        self.check_state(change).await?;
        let version = change.migration.version;
        let before = self.read_checkpoint(version).await?.unwrap_or_default();
        let started = Instant::now();
        let mut client = self.client.clone();
        let rows = crate::code::run::run_batch(change, function, &mut client, batch.size, before)
            .await
            .map_err(|mut err| {
                // What the failing batch wrote stays: there is no transaction.
                if let Error::CodeFailed { rolled_back, .. } = &mut err {
                    *rolled_back = false;
                }
                err
            })?;
        let checkpoints = self
            .checkpoints_id()
            .await?
            .ok_or_else(|| Error::database(NAME, "writing the checkpoint", "the checkpoint collection is gone"))?;
        let checkpoint = Checkpoint {
            batches: before.batches + u64::from(rows > 0),
            rows: before.rows + rows,
        };
        if rows > 0 {
            self.write_checkpoint(&checkpoints, version, checkpoint).await?;
        } else {
            let tracking = self
                .client
                .get_collection(&self.names.tracking)
                .await
                .map_err(db_err("recording the batch migration"))?
                .ok_or_else(|| {
                    Error::database(NAME, "recording the batch migration", "the tracking collection is gone")
                })?
                .id;
            self.finish(&tracking, change, started.elapsed().as_millis() as i64)
                .await?;
            self.client
                .delete_records(&checkpoints, &[version.to_string()])
                .await
                .map_err(db_err("removing the checkpoint"))?;
        }
        Ok(BatchDone { rows, checkpoint })
    }
}
