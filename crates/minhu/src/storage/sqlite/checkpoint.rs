//! Checkpoints off the write connection.
//!
//! In WAL mode every commit appends its pages to the log, and a checkpoint copies them back
//! into the database file. Left to itself SQLite checkpoints on the connection that commits,
//! right after the commit that takes the log past 1,000 pages: the write connection then copies
//! and syncs the database file while every registration queued behind it waits. Under load that
//! was 12 % of the write thread's time (`perf` at a million orders, 32 clients registering).
//!
//! So the write connection checkpoints only when the log passes [`WRITER_CHECKPOINT_PAGES`],
//! and a connection of its own runs a `PASSIVE` checkpoint every [`CHECKPOINT_EVERY`]. A passive
//! checkpoint takes no lock a writer or reader waits for: it copies what no reader still needs.
//! The writer starts the log again from its beginning only if its transaction began with every
//! frame already copied, which never happens while it commits back to back; under steady writes
//! that is after its own checkpoint. Durability is unchanged: a commit is on disk once its log
//! frames are synced, which the committing connection still does (`synchronous = FULL`).

use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};
use tokio::task::AbortHandle;

/// How often the checkpoint connection copies the log into the database file.
///
/// Under steady writes the log starts again from its beginning only at the write connection's
/// own checkpoint at [`WRITER_CHECKPOINT_PAGES`] (see the module's documentation), and that
/// checkpoint, inside a commit, copies whatever this connection has not copied yet and
/// syncs the database file: the longer the interval, the longer that commit. Under `create` at
/// 32 clients (about 25,000 pages of log a second) every 200 ms gave commits of up to 60-250 ms
/// and a p99 of 57-58 ms; every 100 ms a p99 of 40 ms at the same rate; every 50 ms 29-34 ms, but
/// `lifecycle`'s p99 rose from 25 to 36-52 ms, its more frequent syncs of the database file
/// waiting on the same disk (docs/BENCHMARKS.md, seventh round).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The log's size in pages at which the write connection checkpoints by itself (about 240 MB of
/// 4 KiB pages).
///
/// Under steady writes this is the only point where the log starts again from its beginning, so it
/// is reached however far the checkpoint connection has copied, and that checkpoint syncs the
/// database file inside a commit, with every queued write waiting. Under `create` at 32 clients and
/// a few million orders (some 60,000 pages of log a second) it took 50-60 ms each time; at 20,000
/// pages that was two or three times a second, a registration in a hundred waited for one, and the
/// p99 was 51-56 ms. At 60,000 it comes every second or so: p99 11-12 ms at the same rate,
/// `lifecycle` unchanged (docs/bench/city-scale-rounds-9-to-10.md, ninth round). The price is the
/// log's file on disk, and after a crash the log the next start reads through to recover.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 60_000;

/// The running checkpoint task; dropping it stops the task.
#[derive(Debug)]
pub(super) struct Checkpointer {
    task: AbortHandle,
}

impl Checkpointer {
    /// Opens a connection with `options` and starts checkpointing on it.
    pub(super) async fn start(options: &SqliteConnectOptions) -> sqlx::Result<Self> {
        // This connection commits nothing, so it never checkpoints by itself.
        let options = options.clone().pragma("wal_autocheckpoint", "0");
        let connection = options.connect().await?;
        let task = tokio::spawn(run(connection, options)).abort_handle();
        Ok(Self { task })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Checkpoints every [`CHECKPOINT_EVERY`] until aborted. A failed checkpoint is logged and tried
/// again at the next turn (a busy database is a normal reason); a connection whose thread died is
/// opened again.
async fn run(mut connection: SqliteConnection, options: SqliteConnectOptions) {
    let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut connection)
            .await
        {
            Ok((busy, log, copied)) => {
                // The log's length in pages and how many of them are in the database file:
                // under steady writes the log starts again only after the writer's own
                // checkpoint (`WRITER_CHECKPOINT_PAGES`; see the module's documentation).
                tracing::debug!(busy, log, copied, "checkpoint");
            }
            Err(sqlx::Error::WorkerCrashed) => {
                tracing::error!("the checkpoint connection stopped; opening it again");
                match options.connect().await {
                    Ok(fresh) => connection = fresh,
                    Err(err) => tracing::error!(%err, "could not reopen the checkpoint connection"),
                }
            }
            Err(err) => tracing::warn!(%err, "background checkpoint failed; trying again"),
        }
    }
}
