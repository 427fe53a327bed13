//! Group commit of registrations on SQLite: concurrent [`Store::create_order`] calls share one
//! durable commit.
//!
//! Every SQLite commit is an `fdatasync` (WAL, `synchronous=FULL`), and the disk does about
//! 1,700 of them a second: one registration per transaction cannot go faster than that, while
//! ten rows per commit write six times as many. So registrations are queued to a committer that
//! takes whatever is waiting (at most [`MAX_BATCH`]), opens one write transaction on the single
//! write connection, runs each registration inside a `SAVEPOINT` of its own, commits once and
//! only then answers every request of the batch. A registration that fails rolls back its own
//! savepoint, including the day's number it drew, so the others still commit and the numbers
//! stay without gaps. There is no timer: a lone request is committed at once; batches form by
//! themselves while the previous commit waits for the disk.
//!
//! **Why a task with a channel, not a leader chosen among the callers.** A request's future is
//! dropped when its client goes away (axum cancels the handler). If a caller led the batch, that
//! cancellation would abort the others' transaction with it. The committer is a task of its own
//! that no request can cancel: a request that gives up still has its order committed (as it
//! would if it had gone away just after its own commit), and nobody else notices. The task
//! starts on the first registration, on the runtime that makes it, and again if it has stopped
//! (its runtime ended, or it panicked); it ends when the store is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use minhu_domain::Order;
use tokio::sync::{mpsc, oneshot};

use super::{NewOrder, Pool, StoreError, StoreResult, Tx, begin_write, insert_new_order};

/// The most registrations one commit takes. 64 orders write about 1 MB of pages at most; the
/// measured gain flattens out well before (7,308 rows/s at 10 a commit, 18,980 at 100).
pub(super) const MAX_BATCH: usize = 64;

/// How many registrations may wait for the committer before callers wait to queue.
const QUEUE_CAPACITY: usize = 1024;

/// How often, at most, the committer logs how many registrations it has put in each commit
/// (only while it commits).
const LOG_EVERY: Duration = Duration::from_secs(5);

/// How many commits the committer made and how many registrations they held: their ratio is
/// the mean batch size. Counts only commits that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupCommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// Registrations those transactions stored (failed ones, rolled back, not counted).
    pub creates: u64,
}

/// The shared counters behind [`GroupCommitStats`].
#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    creates: AtomicU64,
}

impl Counters {
    /// The counts as they are now.
    fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            creates: self.creates.load(Ordering::Relaxed),
        }
    }
}

/// One queued registration and where its answer goes.
struct Job {
    new: NewOrder,
    reply: oneshot::Sender<StoreResult<Order>>,
}

/// The queue to the committer task of one store.
pub(super) struct GroupCommitter {
    /// The queue's sending end, `None` until the first registration starts the task.
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    counters: Arc<Counters>,
}

impl GroupCommitter {
    /// A committer whose task has not started yet.
    pub(super) fn new() -> Self {
        Self {
            sender: Mutex::new(None),
            counters: Arc::new(Counters::default()),
        }
    }

    /// What the committer has done so far.
    pub(super) fn stats(&self) -> GroupCommitStats {
        self.counters.stats()
    }

    /// Registers `new` in the next batch on `pool`'s write connection and waits until that
    /// batch has been committed (durably) or has failed.
    pub(super) async fn submit(&self, pool: &Pool, new: NewOrder) -> StoreResult<Order> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job { new, reply };
        // A second try only if the task had stopped (its runtime ended): a fresh one starts.
        for _ in 0..2 {
            let sender = self.sender(pool)?;
            match sender.send(job).await {
                Ok(()) => return answer.await.unwrap_or_else(|_| Err(stopped())),
                Err(mpsc::error::SendError(back)) => job = back,
            }
        }
        Err(stopped())
    }

    /// The queue to a running committer task, starting one if there is none.
    fn sender(&self, pool: &Pool) -> StoreResult<mpsc::Sender<Job>> {
        let mut slot = self
            .sender
            .lock()
            .map_err(|_| StoreError::Database(anyhow::anyhow!("group commit lock poisoned")))?;
        if let Some(sender) = slot.as_ref()
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(pool.clone(), receiver, Arc::clone(&self.counters)));
        *slot = Some(sender.clone());
        Ok(sender)
    }
}

/// The error a request gets when the committer stopped before answering it (its order may or
/// may not have been committed; it was not acknowledged).
fn stopped() -> StoreError {
    StoreError::Database(anyhow::anyhow!(
        "the registration committer stopped before answering"
    ))
}

/// The committer task: one batch at a time until every sender is gone.
async fn run(pool: Pool, mut jobs: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut logged = (Instant::now(), GroupCommitStats::default());
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        // Wait for the write connection (other writes use it too); whatever queues meanwhile,
        // and while the previous commit was syncing, joins this batch.
        let tx = begin_write(&pool).await;
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match tx {
            Ok(tx) => commit_batch(tx, &mut batch, &counters).await,
            Err(err) => fail_all(
                &mut batch,
                &format!("starting the write transaction: {err}"),
            ),
        }
        if logged.0.elapsed() >= LOG_EVERY {
            let now = counters.stats();
            let (creates, commits) = (
                now.creates - logged.1.creates,
                now.commits - logged.1.commits,
            );
            if commits > 0 {
                tracing::info!(
                    creates,
                    commits,
                    per_commit = format!("{:.1}", creates as f64 / commits as f64),
                    total_creates = now.creates,
                    total_commits = now.commits,
                    "group commit: registrations per commit since the last line"
                );
            }
            logged = (Instant::now(), now);
        }
    }
}

/// Runs the registrations of `batch` in `tx`, each in its own savepoint, commits, and answers
/// each. Empties `batch`.
async fn commit_batch(mut tx: Tx, batch: &mut Vec<Job>, counters: &Counters) {
    let mut results = Vec::with_capacity(batch.len());
    let mut broken = None;
    for job in batch.iter() {
        match in_savepoint(&mut tx, &job.new).await {
            Ok(result) => results.push(result),
            Err(err) => {
                broken = Some(err);
                break;
            }
        }
    }
    if let Some(err) = broken {
        // The transaction is in an unknown state: drop it (rolls back), fail them all.
        drop(tx);
        fail_all(batch, &format!("a savepoint of the batch failed: {err}"));
        return;
    }
    match tx.commit().await {
        Ok(()) => {
            let stored = results.iter().filter(|r| r.is_ok()).count() as u64;
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.creates.fetch_add(stored, Ordering::Relaxed);
            for (job, result) in batch.drain(..).zip(results) {
                // A caller that went away does not take its answer; its order is stored.
                let _ = job.reply.send(result);
            }
        }
        Err(err) => {
            // Nothing of the batch was stored. Registrations that failed on their own keep
            // their own (more precise) error; the others get the commit's.
            let message = format!("committing a batch of registrations: {err}");
            for (job, result) in batch.drain(..).zip(results) {
                let answer = match result {
                    Ok(_) => Err(StoreError::Database(anyhow::anyhow!("{message}"))),
                    Err(own) => Err(own),
                };
                let _ = job.reply.send(answer);
            }
        }
    }
}

/// Runs one registration inside `SAVEPOINT create_order`, rolling back to it if it fails. The
/// outer error means the savepoint itself could not be handled (the transaction is unusable);
/// the inner result is the registration's own.
async fn in_savepoint(tx: &mut Tx, new: &NewOrder) -> sqlx::Result<StoreResult<Order>> {
    sqlx::query("SAVEPOINT create_order")
        .execute(&mut **tx)
        .await?;
    let result = insert_new_order(tx, new).await;
    if result.is_err() {
        sqlx::query("ROLLBACK TO SAVEPOINT create_order")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT create_order")
        .execute(&mut **tx)
        .await?;
    Ok(result)
}

/// Answers every job of `batch` with a database error saying `why`. Empties `batch`.
fn fail_all(batch: &mut Vec<Job>, why: &str) {
    for job in batch.drain(..) {
        let _ = job
            .reply
            .send(Err(StoreError::Database(anyhow::anyhow!("{why}"))));
    }
}
