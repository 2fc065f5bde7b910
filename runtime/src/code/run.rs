//! Running a code migration's function for a change, as the backends do:
//! the function found for the backend's transaction type, its error or
//! panic returned as the migration's failure.

use super::{BatchOn, BoxError, BoxFuture, Code, On};
use crate::backend::Change;
use crate::records::Checkpoint;
use crate::Error;
use futures_util::FutureExt;
use std::any::Any;
use std::panic::AssertUnwindSafe;

/// The function of `change` (a code migration's: `change.code` is set),
/// typed for a transaction of type `T`; a function written for another
/// database is [`Error::CodeForAnotherDatabase`].
pub(crate) fn function<T: 'static>(change: &Change<'_>, code: Code, backend: &'static str) -> Result<On<T>, Error> {
    code.function
        .downcast_ref::<On<T>>()
        .copied()
        .ok_or_else(|| Error::CodeForAnotherDatabase {
            file: change.migration.script(change.direction).file.to_string(),
            written_for: code.database,
            database: backend,
        })
}

/// A batch code migration's `up`, typed for a transaction of type `T`.
pub(crate) fn batch_function<T: 'static>(
    change: &Change<'_>,
    code: Code,
    backend: &'static str,
) -> Result<BatchOn<T>, Error> {
    code.function
        .downcast_ref::<BatchOn<T>>()
        .copied()
        .ok_or_else(|| Error::CodeForAnotherDatabase {
            file: change.migration.script(change.direction).file.to_string(),
            written_for: code.database,
            database: backend,
        })
}

/// Runs `function` on `tx` for `change`. Its error comes back as
/// [`Error::CodeFailed`](crate::Error) naming the migration, its source
/// kept; a panic is caught and returned the same way, so the caller rolls
/// back (or leaves its mark) and the engine releases the lock as after any
/// failure. `rolled_back` says what the caller does with the writes.
/// (Neo4j calls the function on a task of its own, through [`catch`] and
/// [`outcome`]: see its `Tx`.)
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql", feature = "chroma"))]
pub(crate) async fn run<T: 'static>(
    change: &Change<'_>,
    function: On<T>,
    tx: &mut T,
    rolled_back: bool,
) -> Result<(), Error> {
    outcome(change, rolled_back, catch(function(tx)).await)
}

/// Runs one batch of a batch code migration: the rows it processed, or its
/// failure as [`run`]'s, the batches before it (`done`) kept committed.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql", feature = "chroma"))]
pub(crate) async fn run_batch<T: 'static>(
    change: &Change<'_>,
    function: BatchOn<T>,
    tx: &mut T,
    size: u64,
    done: Checkpoint,
) -> Result<u64, Error> {
    batch_outcome(change, catch(function(tx, size)).await, done)
}

/// What the user's future gave: its value or error, or its panic's payload.
pub(crate) type Caught<R> = Result<Result<R, BoxError>, Box<dyn Any + Send + 'static>>;

/// Awaits the user's future, its panic caught. Apart from [`outcome`] for
/// a backend that runs the function on a task of its own (Neo4j: its
/// `Tx`), where the change it names is not at hand.
pub(crate) async fn catch<R>(future: BoxFuture<'_, Result<R, BoxError>>) -> Caught<R> {
    AssertUnwindSafe(future).catch_unwind().await
}

/// A batch's [`Caught`] as [`run_batch`] returns it.
pub(crate) fn batch_outcome(change: &Change<'_>, caught: Caught<u64>, done: Checkpoint) -> Result<u64, Error> {
    outcome(change, true, caught).map_err(|mut err| {
        if let Error::CodeFailed { batches, .. } = &mut err {
            *batches = Some(Box::new(done));
        }
        err
    })
}

/// The user's result, its error or panic turned into the migration's.
pub(crate) fn outcome<R>(change: &Change<'_>, rolled_back: bool, caught: Caught<R>) -> Result<R, Error> {
    let failed = |message: String, panicked: bool, source: Option<BoxError>| Error::CodeFailed {
        version: change.migration.version,
        name: change.migration.name.to_string(),
        file: change.migration.script(change.direction).file.to_string(),
        direction: change.direction,
        message,
        panicked,
        rolled_back,
        batches: None,
        source: source.map(Box::new),
    };
    match caught {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(failed(source.to_string(), false, Some(source))),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(failed(message, true, None))
        }
    }
}
