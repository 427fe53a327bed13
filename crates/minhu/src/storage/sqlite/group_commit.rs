//! Group commit on SQLite: concurrent registrations ([`Store::create_order`]), lifecycle
//! transitions ([`Store::save_transition`]) and audit lines ([`Store::write_audit`]) share one
//! durable commit.
//!
//! Every SQLite commit is an `fdatasync` (WAL, `synchronous=FULL`), and the disks measured do
//! 1,700 to 8,200 of them a second: one registration per transaction cannot go faster than that,
//! while ten rows per commit write six times as many. So registrations are queued to a committer
//! that takes whatever is waiting (at most [`MAX_BATCH`]), opens one write transaction on its own
//! write connection (`direct_write.rs`), writes them all with one statement per table, commits
//! once and only
//! then answers every request of the batch. If writing them together fails, the batch is rolled
//! back and written again with each registration inside a `SAVEPOINT` of its own: the one that
//! fails rolls back its own savepoint, including the day's number it drew, so the others still
//! commit and the numbers stay without gaps. There is no timer: a lone request is committed at
//! once; batches form by themselves while the previous commit waits for the disk.
//!
//! Transitions (dispatch, sign, reply, review, visit, …) join the same batches, each with its
//! own statements: its version check refuses it before it writes anything when the order moved
//! on (another action won), which answers that caller and leaves the batch alone; a failure
//! after it wrote sends the batch through the savepoints as above. Alone, every action was a
//! commit of its own, and the disk's 1,700 commits a second were the ceiling of all actions
//! together.
//!
//! Audit lines travel the same way. Each centre user's detail view of an order writes one
//! (`view_personal_data`), and the view is not shown until its line is on disk; alone, each
//! would be a commit and an `fdatasync` of its own, queued on the one write connection behind
//! every registration. In a batch they are one multi-row `INSERT`.
//!
//! **Why a task with a channel, not a leader chosen among the callers.** A request's future is
//! dropped when its client goes away (axum cancels the handler). If a caller led the batch, that
//! cancellation would abort the others' transaction with it. The committer is a task of its own
//! that no request can cancel: a request that gives up still has its order committed (as it
//! would if it had gone away just after its own commit), and nobody else notices. The task
//! starts on the first piece of work, and again if it has stopped (it panicked); it ends when
//! the store is dropped.
//!
//! **Why a thread of its own.** Each statement of a batch is a round trip to the write
//! connection's thread, and after each the committer goes on only when a thread runs it. On
//! the HTTP runtime that was a worker busy with requests: with 32 clients on 2 cores every step
//! of every batch waited behind them, and the write connection, the one thing all writes
//! share, sat idle meanwhile. So the task runs on a single-threaded runtime on a thread of its
//! own (`group-commit`): against the task on the HTTP workers, measured alternately at a
//! million orders, `create` rose 8 % (3 pairs of runs) and `lifecycle` 9–20 % with its p99
//! from 58–74 ms to 40–54 ms (docs/bench/city-scale-rounds-3-to-6.md, fourth round). The round
//! trips themselves went when the committer took a rusqlite connection of its own and ran the
//! statements on this thread (`direct_write.rs`): `lifecycle` +60 %, `create` +23–30 % (seventh
//! round).
//!
//! **Between batches.** Once no work has come for [`IDLE_BEFORE_MERGE`], the committer merges
//! the order index's FTS5 segments a step at a time, in transactions of its own
//! (`index_merge.rs`), until work comes or FTS5 finds nothing to merge: the merging of a large
//! level of the index then happens while nobody waits, not inside a registration's commit.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use minhu_domain::OrderAggregate;
use tokio::sync::{mpsc, oneshot};

use super::direct_write::{DirectTx, DirectWriter};
use super::index_merge::merge_step;
use super::{
    ArgList, NewAuditEntry, NewOrder, Pool, RegisteredOrder, SearchRows, StoreError, StoreResult,
    TransitionWrite, WriteTx, audit_insert, insert_new_order_rows, insert_new_orders,
    write_search_rows, write_transition, write_transition_rows,
};

/// The most pieces of work one commit takes. 64 orders write about 1 MB of pages at most; the
/// measured gain flattens out well before (7,308 rows/s at 10 a commit, 18,980 at 100).
pub(super) const MAX_BATCH: usize = 64;

/// How long the queue stays empty before the committer merges the order index (`index_merge.rs`). A
/// centre's busiest hour leaves gaps of tens of milliseconds between requests; under a benchmark's
/// full load requests come closer than this, and the merging stays with FTS5's own steps inside the
/// commits. At once instead (a step whenever the queue was empty after a commit), a merge of the
/// index's largest level took 22 s of the committer's 60 s at ten million orders and `create` fell
/// to 2,573/s, p99 87 ms (docs/bench/city-scale-rounds-9-to-10.md, tenth round).
const IDLE_BEFORE_MERGE: Duration = Duration::from_millis(10);

/// How much work may wait for the committer before callers wait to queue.
const QUEUE_CAPACITY: usize = 1024;

/// How often, at most, the committer logs how much it has put in each commit (only while it
/// commits).
const LOG_EVERY: Duration = Duration::from_secs(5);

/// How many commits the committer made and what they held: the ratio is the mean batch size.
/// Counts only commits that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupCommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// Registrations those transactions stored (failed ones, rolled back, not counted).
    pub creates: u64,
    /// Transitions those transactions stored (refused or failed ones not counted).
    pub transitions: u64,
    /// Audit lines those transactions stored.
    pub audit_lines: u64,
    /// Batches that failed written together and were written again one piece at a time (one
    /// of them was at fault).
    pub rewritten_alone: u64,
    /// Steps of the order index's merges done while nothing waited (`index_merge.rs`), counting
    /// only those that merged something.
    pub idle_merges: u64,
}

/// The shared counters behind [`GroupCommitStats`].
#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    creates: AtomicU64,
    transitions: AtomicU64,
    audit_lines: AtomicU64,
    rewritten_alone: AtomicU64,
    idle_merges: AtomicU64,
    /// Time spent in idle merge steps since the last log line, in microseconds.
    idle_merge_micros: AtomicU64,
    /// Time spent in `COMMIT` (the log's pages written and synced) since the last log line,
    /// and the longest one, in microseconds: what the disk holds a batch up for.
    commit_micros: AtomicU64,
    longest_commit_micros: AtomicU64,
}

impl Counters {
    /// The counts as they are now.
    fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            creates: self.creates.load(Ordering::Relaxed),
            transitions: self.transitions.load(Ordering::Relaxed),
            audit_lines: self.audit_lines.load(Ordering::Relaxed),
            rewritten_alone: self.rewritten_alone.load(Ordering::Relaxed),
            idle_merges: self.idle_merges.load(Ordering::Relaxed),
        }
    }
}

/// What the committer writes.
enum Work {
    /// Boxed: an order is several times the size of an audit line.
    Register(Box<NewOrder>),
    Transition(Box<TransitionWrite>),
    Audit(NewAuditEntry),
}

/// What it answers.
enum Done {
    /// The stored order of a registration, with its history lines.
    Registered(Box<RegisteredOrder>),
    /// The order and its assignments after a transition.
    Transitioned(Box<OrderAggregate>),
    /// An audit line is on disk.
    Written,
}

/// One queued piece of work and where its answer goes.
struct Job {
    work: Work,
    reply: oneshot::Sender<StoreResult<Done>>,
}

/// The queue to the committer task of one store.
pub(super) struct GroupCommitter {
    /// The queue's sending end, `None` until the first piece of work starts the task.
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    counters: Arc<Counters>,
    /// The database file the committer's connection writes (`None`: not a file).
    path: Option<PathBuf>,
}

impl GroupCommitter {
    /// A committer of the database file at `path` whose task has not started yet.
    pub(super) fn new(path: Option<PathBuf>) -> Self {
        Self {
            sender: Mutex::new(None),
            counters: Arc::new(Counters::default()),
            path,
        }
    }

    /// What the committer has done so far.
    pub(super) fn stats(&self) -> GroupCommitStats {
        self.counters.stats()
    }

    /// Registers `new` in the next batch on `pool`'s write connection and waits until that
    /// batch has been committed (durably) or has failed.
    pub(super) async fn submit(&self, pool: &Pool, new: NewOrder) -> StoreResult<RegisteredOrder> {
        match self.send(pool, Work::Register(Box::new(new))).await? {
            Done::Registered(registered) => Ok(*registered),
            _ => Err(mismatched("a registration")),
        }
    }

    /// Stores a transition in the next batch and waits until that batch has been committed
    /// (durably) or has failed; a transition the order's version refuses fails alone.
    pub(super) async fn submit_transition(
        &self,
        pool: &Pool,
        write: TransitionWrite,
    ) -> StoreResult<OrderAggregate> {
        match self.send(pool, Work::Transition(Box::new(write))).await? {
            Done::Transitioned(aggregate) => Ok(*aggregate),
            _ => Err(mismatched("a transition")),
        }
    }

    /// Writes an audit line in the next batch and waits until it is on disk.
    pub(super) async fn submit_audit(&self, pool: &Pool, entry: NewAuditEntry) -> StoreResult<()> {
        self.send(pool, Work::Audit(entry)).await.map(|_| ())
    }

    async fn send(&self, pool: &Pool, work: Work) -> StoreResult<Done> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job { work, reply };
        // A second try only if the task had stopped (it panicked): a fresh one starts.
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| {
                StoreError::Database(anyhow::anyhow!("starting the group committer: {err}"))
            })?;
        let (pool, counters, path) = (pool.clone(), Arc::clone(&self.counters), self.path.clone());
        std::thread::Builder::new()
            .name("group-commit".to_owned())
            .spawn(move || runtime.block_on(run(path, pool, receiver, counters)))
            .map_err(|err| {
                StoreError::Database(anyhow::anyhow!("starting the group committer: {err}"))
            })?;
        *slot = Some(sender.clone());
        Ok(sender)
    }
}

/// The error for an answer that does not fit the work (a bug in the committer).
fn mismatched(what: &str) -> StoreError {
    StoreError::Database(anyhow::anyhow!(
        "the committer answered {what} with another kind of result"
    ))
}

/// The error a caller gets when the committer stopped before answering it (its work may or may
/// not have been committed; it was not acknowledged).
fn stopped() -> StoreError {
    StoreError::Database(anyhow::anyhow!(
        "the group committer stopped before answering"
    ))
}

/// The committer task: one batch at a time until every sender is gone. Its write connection
/// (`direct_write.rs`) opens with the first batch, and again after a batch that could not open
/// it.
async fn run(
    path: Option<PathBuf>,
    pool: Pool,
    mut jobs: mpsc::Receiver<Job>,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut logged = (Instant::now(), GroupCommitStats::default());
    let mut writer: Option<DirectWriter> = None;
    // Whether the order index may have merging to do: set by each commit (it added a segment),
    // cleared by a step that found nothing to merge or failed.
    let mut merge_due = false;
    while let Some(first) = next_job(&mut jobs, writer.as_mut(), &mut merge_due, &counters).await {
        batch.push(first);
        if writer.is_none() {
            match DirectWriter::open(path.as_deref(), pool.clone()) {
                Ok(opened) => writer = Some(opened),
                Err(err) => {
                    tracing::error!(%err, "the group committer cannot write");
                    fail_all(&mut batch, &err.to_string());
                    continue;
                }
            }
        }
        let Some(writer) = writer.as_mut() else {
            continue;
        };
        commit_batch(writer, &mut jobs, &mut batch, &counters).await;
        merge_due = true;
        if logged.0.elapsed() >= LOG_EVERY {
            let now = counters.stats();
            let (creates, transitions, audit_lines, commits) = (
                now.creates - logged.1.creates,
                now.transitions - logged.1.transitions,
                now.audit_lines - logged.1.audit_lines,
                now.commits - logged.1.commits,
            );
            if commits > 0 {
                let writes = creates + transitions + audit_lines;
                tracing::info!(
                    creates,
                    transitions,
                    audit_lines,
                    commits,
                    idle_merges = now.idle_merges - logged.1.idle_merges,
                    idle_merge_ms = counters.idle_merge_micros.swap(0, Ordering::Relaxed) / 1000,
                    per_commit = format!("{:.1}", writes as f64 / commits as f64),
                    commit_ms_mean = format!(
                        "{:.2}",
                        counters.commit_micros.swap(0, Ordering::Relaxed) as f64
                            / 1000.0
                            / commits as f64
                    ),
                    commit_ms_max = format!(
                        "{:.1}",
                        counters.longest_commit_micros.swap(0, Ordering::Relaxed) as f64 / 1000.0
                    ),
                    total_creates = now.creates,
                    total_commits = now.commits,
                    "group commit: writes per commit since the last line"
                );
            }
            logged = (Instant::now(), now);
        }
    }
}

/// The next piece of work. Once none has come for [`IDLE_BEFORE_MERGE`] and the order index may
/// have merging to do, merges it a step at a time while none comes (`index_merge.rs`); `None`
/// once every sender is gone.
async fn next_job(
    jobs: &mut mpsc::Receiver<Job>,
    writer: Option<&mut DirectWriter>,
    merge_due: &mut bool,
    counters: &Counters,
) -> Option<Job> {
    if let Some(writer) = writer
        && *merge_due
    {
        if let Ok(job) = tokio::time::timeout(IDLE_BEFORE_MERGE, jobs.recv()).await {
            return job;
        }
        while *merge_due {
            match jobs.try_recv() {
                Ok(job) => return Some(job),
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
                Err(mpsc::error::TryRecvError::Empty) => {}
            }
            let started = Instant::now();
            let merged = merge_step(writer).await;
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            counters
                .idle_merge_micros
                .fetch_add(micros, Ordering::Relaxed);
            // Nothing to merge, or the step failed (another process holds the write lock): not
            // tried again before the next commit.
            *merge_due = match merged {
                Ok(merged) => merged,
                Err(err) => {
                    tracing::warn!(%err, "merging the order index while idle");
                    false
                }
            };
            if *merge_due {
                counters.idle_merges.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    jobs.recv().await
}

/// Writes every piece of `batch` together: the registrations with one statement per table
/// ([`insert_new_orders`]), the audit lines with one, the transitions one after the other.
/// Answers in the order of `batch`: a transition its version refused has its own error (it
/// wrote nothing); any other error is the batch's.
async fn write_together(
    tx: &mut DirectTx<'_>,
    batch: &[Job],
) -> StoreResult<Vec<StoreResult<Done>>> {
    let mut news = Vec::new();
    let mut entries = Vec::new();
    for job in batch {
        match &job.work {
            Work::Register(new) => news.push(new.as_ref()),
            Work::Audit(entry) => entries.push(entry),
            Work::Transition(_) => {}
        }
    }
    // The search documents of the whole batch go last, in one statement (see
    // `write_search_rows`).
    let mut docs = SearchRows::default();
    let mut registered = insert_new_order_rows(tx, &news, &mut docs)
        .await?
        .into_iter();
    insert_audit_entries(tx, &entries).await?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(match &job.work {
            Work::Register(_) => registered
                .next()
                .map(|registered| Done::Registered(Box::new(registered)))
                .ok_or_else(|| {
                    StoreError::Database(anyhow::anyhow!("a registration was not returned"))
                }),
            Work::Audit(_) => Ok(Done::Written),
            Work::Transition(write) => write_transition_rows(tx, write, &mut docs)
                .await?
                .map(|aggregate| Done::Transitioned(Box::new(aggregate))),
        });
    }
    write_search_rows(tx, &docs.rows).await?;
    Ok(results)
}

/// Opens a write transaction, adds to `batch` whatever has queued meanwhile, writes it all,
/// commits, and answers each. Empties `batch`.
///
/// All of it is first written together ([`write_together`]). If that fails, one piece is at
/// fault (or the database is): the transaction is rolled back and a fresh one runs each piece
/// in a savepoint of its own, so that only the faulty one fails. Savepoints for everyone cost
/// three statements more per piece, and work the domain has accepted rarely fails in the
/// database.
async fn commit_batch(
    writer: &mut DirectWriter,
    jobs: &mut mpsc::Receiver<Job>,
    batch: &mut Vec<Job>,
    counters: &Counters,
) {
    if write_batch_together(writer, jobs, batch, counters).await {
        rewrite_one_by_one(writer, batch, counters).await;
    }
}

/// The first attempt of [`commit_batch`]: answers `true` when the batch failed written
/// together and is to be written again piece by piece (then it is still in `batch`).
async fn write_batch_together(
    writer: &mut DirectWriter,
    jobs: &mut mpsc::Receiver<Job>,
    batch: &mut Vec<Job>,
    counters: &Counters,
) -> bool {
    // Wait for the write connection (other writes use it too); whatever queues meanwhile, and
    // while the previous commit was syncing, joins this batch.
    let tx = writer.begin().await;
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    let mut tx = match tx {
        Ok(tx) => tx,
        Err(err) => {
            fail_all(batch, &format!("starting the write transaction: {err}"));
            return false;
        }
    };
    match write_together(&mut tx, batch).await {
        Ok(results) => {
            finish(tx, batch, results, counters);
            false
        }
        Err(err) if batch.len() == 1 => {
            // Alone: its error is its own. Rolled back, so no day's number is used up.
            drop(tx);
            if let Some(job) = batch.pop() {
                let _ = job.reply.send(Err(err));
            }
            false
        }
        Err(_) => {
            drop(tx);
            counters.rewritten_alone.fetch_add(1, Ordering::Relaxed);
            true
        }
    }
}

/// Writes each piece of `batch` in a savepoint of its own, commits, and answers each. Empties
/// `batch`.
async fn rewrite_one_by_one(writer: &mut DirectWriter, batch: &mut Vec<Job>, counters: &Counters) {
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(err) => {
            fail_all(
                batch,
                &format!("starting the write transaction again: {err}"),
            );
            return;
        }
    };
    match one_by_one(&mut tx, batch).await {
        Ok(results) => finish(tx, batch, results, counters),
        Err(err) => {
            drop(tx);
            fail_all(batch, &format!("a savepoint of the batch failed: {err}"));
        }
    }
}

/// Runs each piece of `batch` in its own savepoint. The error means a savepoint itself failed:
/// the transaction is in an unknown state.
async fn one_by_one(tx: &mut DirectTx<'_>, batch: &[Job]) -> StoreResult<Vec<StoreResult<Done>>> {
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        results.push(in_savepoint(tx, &job.work).await?);
    }
    Ok(results)
}

/// Commits `tx` and answers each job of `batch` with its result, or with the commit's error.
/// Empties `batch`.
fn finish(
    tx: DirectTx<'_>,
    batch: &mut Vec<Job>,
    results: Vec<StoreResult<Done>>,
    counters: &Counters,
) {
    let started = Instant::now();
    let committed = tx.commit();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    counters.commit_micros.fetch_add(micros, Ordering::Relaxed);
    counters
        .longest_commit_micros
        .fetch_max(micros, Ordering::Relaxed);
    match committed {
        Ok(()) => {
            let (mut creates, mut transitions, mut audit_lines) = (0, 0, 0);
            for (job, result) in batch.iter().zip(&results) {
                match (&job.work, result) {
                    (Work::Register(_), Ok(_)) => creates += 1,
                    (Work::Transition(_), Ok(_)) => transitions += 1,
                    (Work::Audit(_), Ok(_)) => audit_lines += 1,
                    (_, Err(_)) => {}
                }
            }
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.creates.fetch_add(creates, Ordering::Relaxed);
            counters
                .transitions
                .fetch_add(transitions, Ordering::Relaxed);
            counters
                .audit_lines
                .fetch_add(audit_lines, Ordering::Relaxed);
            for (job, result) in batch.drain(..).zip(results) {
                // A caller that went away does not take its answer; its work is stored.
                let _ = job.reply.send(result);
            }
        }
        Err(err) => {
            // Nothing of the batch was stored. Work that failed on its own keeps its own (more
            // precise) error; the others get the commit's.
            let message = format!("committing a batch: {err}");
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

/// Runs one piece of work inside `SAVEPOINT group_commit`, rolling back to it if it fails. The
/// outer error means the savepoint itself could not be handled (the transaction is unusable);
/// the inner result is the work's own.
async fn in_savepoint(tx: &mut DirectTx<'_>, work: &Work) -> StoreResult<StoreResult<Done>> {
    tx.execute("SAVEPOINT group_commit", ArgList::new(), true)
        .await?;
    let result = match work {
        Work::Register(new) => {
            insert_new_orders(tx, &[new.as_ref()])
                .await
                .and_then(|mut registered| {
                    registered
                        .pop()
                        .map(|registered| Done::Registered(Box::new(registered)))
                        .ok_or_else(|| {
                            StoreError::Database(anyhow::anyhow!(
                                "the registration was not returned"
                            ))
                        })
                })
        }
        Work::Transition(write) => write_transition(tx, write)
            .await
            .and_then(|written| written)
            .map(|aggregate| Done::Transitioned(Box::new(aggregate))),
        Work::Audit(entry) => insert_audit_entries(tx, &[entry])
            .await
            .map(|()| Done::Written),
    };
    if result.is_err() {
        tx.execute("ROLLBACK TO SAVEPOINT group_commit", ArgList::new(), true)
            .await?;
    }
    tx.execute("RELEASE SAVEPOINT group_commit", ArgList::new(), true)
        .await?;
    Ok(result)
}

/// Writes audit lines inside `tx`, with one statement. Does not commit.
async fn insert_audit_entries(
    tx: &mut DirectTx<'_>,
    entries: &[&NewAuditEntry],
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (sql, args) = audit_insert(entries)?;
    tx.execute(&sql, args, entries.len() == 1).await?;
    Ok(())
}

/// Answers every job of `batch` with a database error saying `why`. Empties `batch`.
fn fail_all(batch: &mut Vec<Job>, why: &str) {
    for job in batch.drain(..) {
        let _ = job
            .reply
            .send(Err(StoreError::Database(anyhow::anyhow!("{why}"))));
    }
}
