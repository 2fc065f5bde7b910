//! An explicit transaction that a dropped caller cannot leave half-read.
//!
//! neo4rs 0.8 hands a connection back to its pool however it is dropped,
//! even between a request and its answer. The pool's RESET on the next
//! checkout then reads the stale answer as its own when that answer is a
//! SUCCESS, and every later query on that connection reads the answer
//! before its own: a write reports no row although it ran. A migration run
//! is dropped mid-answer whenever its caller is (a timeout, a cancelled
//! request, a shutdown).
//!
//! So every exchange of a [`Tx`] with the server runs to its end on a task
//! of its own, holding the neo4rs transaction; the caller only waits for
//! it. A transaction left unfinished, however it was left (the caller
//! dropped mid-exchange or between two, or an error returned early), is
//! rolled back on a task of its own, so that it neither keeps its locks on
//! an idle pooled connection nor reaches the next user of that connection.

use crate::code::run::{catch, Caught};
use crate::code::{BoxError, BoxFuture};
use neo4rs::{Graph, Query, Row, Txn};
use std::future::Future;

/// Runs `work` on a task of its own and waits for it: dropping the caller
/// leaves the task running to its end. A panic in it is the caller's.
pub(super) async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, neo4rs::Error>> + Send + 'static,
) -> Result<T, neo4rs::Error> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(neo4rs::Error::UnexpectedMessage(
                "the query's task was cancelled: the runtime is shutting down".to_string(),
            )),
        },
    }
}

/// A neo4rs transaction not yet committed or rolled back; dropped, it is
/// rolled back on a task of its own.
struct Open(Option<Txn>);

impl Drop for Open {
    fn drop(&mut self) {
        let Some(txn) = self.0.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(rollback_quietly(txn));
            }
            // No runtime left to roll back on: the connection goes with
            // it, and the server rolls back when it closes.
            Err(_) => drop(txn),
        }
    }
}

async fn rollback_quietly(txn: Txn) {
    if let Err(err) = txn.rollback().await {
        // After a failed statement the server answers ROLLBACK with
        // IGNORED until the connection is reset (which the pool does when
        // it hands the connection out again): the failure that caused it
        // is what the caller reports.
        tracing::debug!(error = %err, "rolling back an unfinished transaction");
    }
}

/// An explicit transaction whose exchanges run on tasks of their own (see
/// the module's documentation).
pub(super) struct Tx(Open);

impl Tx {
    pub(super) async fn begin(graph: &Graph) -> Result<Tx, neo4rs::Error> {
        let graph = graph.clone();
        // Wrapped in `Open` on the task: a caller dropped while BEGIN is
        // answered leaves a transaction that is rolled back.
        let open = detached(async move { graph.start_txn().await.map(|txn| Open(Some(txn))) }).await?;
        Ok(Tx(open))
    }

    /// The neo4rs transaction, out of its `Open` while an exchange holds it;
    /// gone only where an earlier exchange panicked.
    fn take(&mut self) -> Result<Txn, neo4rs::Error> {
        self.0 .0.take().ok_or_else(|| {
            neo4rs::Error::UnexpectedMessage("the transaction was lost: an earlier exchange of it panicked".to_string())
        })
    }

    /// One exchange: `work` gets the neo4rs transaction on a task of its
    /// own and gives it back with its result.
    async fn exchange<T, F, Fut>(&mut self, work: F) -> Result<T, neo4rs::Error>
    where
        T: Send + 'static,
        F: FnOnce(Txn) -> Fut + Send + 'static,
        Fut: Future<Output = (Txn, Result<T, neo4rs::Error>)> + Send,
    {
        let txn = self.take()?;
        let (open, result) = detached(async move {
            let (txn, result) = work(txn).await;
            Ok((Open(Some(txn)), result))
        })
        .await?;
        self.0 = open;
        result
    }

    /// A statement whose rows are not wanted.
    pub(super) async fn run(&mut self, q: Query) -> Result<(), neo4rs::Error> {
        self.exchange(move |mut txn| async move {
            let result = txn.run(q).await;
            (txn, result)
        })
        .await
    }

    /// Every row of a statement, pulled to the end.
    pub(super) async fn rows(&mut self, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
        self.exchange(move |mut txn| async move {
            let result = pull(&mut txn, q).await;
            (txn, result)
        })
        .await
    }

    /// A code migration's function on the neo4rs transaction, its panic
    /// caught on the task and handed back.
    pub(super) async fn lend<R: Send + 'static>(
        &mut self,
        function: impl for<'c> FnOnce(&'c mut Txn) -> BoxFuture<'c, Result<R, BoxError>> + Send + 'static,
    ) -> Result<Caught<R>, neo4rs::Error> {
        self.exchange(move |mut txn| async move {
            let caught = catch(function(&mut txn)).await;
            (txn, Ok(caught))
        })
        .await
    }

    pub(super) async fn commit(mut self) -> Result<(), neo4rs::Error> {
        let txn = self.take()?;
        detached(async move { txn.commit().await }).await
    }

    /// Rolled back; an error is secondary to the failure that led here
    /// (see `rollback_quietly`), so it is only logged.
    pub(super) async fn rollback(mut self) {
        if let Some(txn) = self.0 .0.take() {
            // Detached: a caller dropped meanwhile leaves it to finish.
            let _ = detached(async move {
                rollback_quietly(txn).await;
                Ok(())
            })
            .await;
        }
    }
}

async fn pull(txn: &mut Txn, q: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = txn.execute(q).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await? {
        rows.push(row);
    }
    Ok(rows)
}
