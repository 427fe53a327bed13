//! The generator's load transactions (`minhu gen`, [`Store::bulk_insert_orders`]) on a rusqlite
//! connection of their own, run on a blocking thread.
//!
//! Through sqlx every value of a load was copied twice more after the shared statements had
//! gathered it (into sqlx's arguments, then bound by sqlx's connection thread), and sqlx's
//! statement machinery ran around every step: in a profile of `minhu gen --orders 100000` the
//! sqlx thread spent about a sixth of its samples outside SQLite (`SqliteArguments::bind`,
//! `ExecuteIter`, `VirtualStatement::reset`, dropping the arguments). Here the values the shared
//! statements gathered (rusqlite's own) are bound as they are. The async side builds each
//! statement while the connection runs the one before, as it did with sqlx. (Building them
//! ahead on the generator's threads instead, tried in the fifteenth round, gave nothing: the
//! load keeps both cores busy, so moving work between threads does not make it faster, and the
//! built statements waiting for the writer added 200 MB.)
//!
//! The connection commits with `synchronous = OFF`: a load that was cut short by a crash can be
//! run again, and its commits need not wait for the disk. It is used for nothing else. It
//! holds the write pool's connection while it writes, as the group committer's does, so that
//! no other writer of this process waits on SQLite's lock.
//!
//! [`Store::bulk_insert_orders`]: crate::storage::Store::bulk_insert_orders

use std::path::PathBuf;

use anyhow::anyhow;
use rusqlite::{Connection, params_from_iter};

use super::direct_write::{open_write_connection, run_kept};
use super::{
    BulkRows, BulkStatement, GeneratedBatch, Pool, RAISE_SEQUENCE_SQL, StoreError, StoreResult,
    date_text,
};

/// FTS5's in-memory term buffer during a load, and FTS5's own default.
const BULK_FTS_HASH_BYTES: i64 = 256 * 1024 * 1024;
const FTS_DEFAULT_HASH_BYTES: i64 = 1024 * 1024;

/// The page cache of a load transaction, in KiB: one that holds the indexes a load touches.
/// With the default 2 MB a load wrote pages out to the log in the middle of its transaction
/// and read them back (`pagerStress` 4 %, `pread` 4 % of the generator's samples). Between
/// loads the connection keeps SQLite's default (`IDLE_CACHE_PAGES`), so that the cache is not
/// held while the load's indexes are built on the other connection at its end.
const BULK_CACHE_KIB: i64 = 256 * 1024;
const IDLE_CACHE_PAGES: i64 = -2000;

/// Statements built ahead of the one running: enough to keep the connection busy.
const STATEMENTS_AHEAD: usize = 2;

/// What the async side hands the load connection's thread.
enum Work {
    /// Run this statement.
    Statement(BulkStatement),
    /// Every row is written: raise these daily sequences and commit.
    Commit(Vec<(chrono::NaiveDate, i64)>),
}

/// The load connection of an SQLite store, opened at the first load and kept for the next.
pub(super) struct BulkWriter {
    path: Option<PathBuf>,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

impl BulkWriter {
    /// A writer of the database file at `path`; nothing is opened until the first load.
    pub(super) fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// Writes `batch` in one transaction while holding `pool`'s (the write pool's) connection.
    pub(super) async fn write(&self, pool: &Pool, batch: &GeneratedBatch) -> StoreResult<()> {
        let _lock = pool.acquire().await?;
        let mut slot = self.connection.lock().await;
        let connection = match slot.take() {
            Some(connection) => connection,
            None => self.open()?,
        };
        let (sender, receiver) = tokio::sync::mpsc::channel(STATEMENTS_AHEAD);
        let running = tokio::task::spawn_blocking(move || {
            let result = run_load(&connection, receiver);
            (connection, result)
        });
        let fed = feed(&sender, batch).await;
        drop(sender);
        let (connection, result) = running.await.map_err(|err| {
            StoreError::Database(anyhow!("the load connection's thread failed: {err}"))
        })?;
        *slot = Some(connection);
        // A statement that could not be built stops the load before its commit: the thread
        // then rolls back and reports that the work ended early, which says less than this.
        fed?;
        result
    }

    fn open(&self) -> StoreResult<Connection> {
        let path = self.path.as_deref().ok_or_else(|| {
            StoreError::Database(anyhow!(
                "a bulk load needs a database file (an in-memory database is one per connection)"
            ))
        })?;
        let opened = open_write_connection(path).and_then(|connection| {
            connection.pragma_update(None, "synchronous", "OFF")?;
            Ok(connection)
        });
        opened.map_err(|err| {
            StoreError::Database(anyhow!(
                "opening the load connection to {}: {err}",
                path.display()
            ))
        })
    }
}

/// Builds the statements of `batch` one by one and hands them over, then the commit.
async fn feed(sender: &tokio::sync::mpsc::Sender<Work>, batch: &GeneratedBatch) -> StoreResult<()> {
    // A refused statement or commit means the thread stopped on an error, which it reports.
    let rows = BulkRows::of(batch);
    for statement in rows.statements() {
        if sender.send(Work::Statement(statement?)).await.is_err() {
            return Ok(());
        }
    }
    let _ = sender.send(Work::Commit(batch.sequences.clone())).await;
    Ok(())
}

/// Runs one load transaction on `connection` from what `work` hands over; rolls back unless it
/// was told to commit and the commit succeeded.
fn run_load(
    connection: &Connection,
    mut work: tokio::sync::mpsc::Receiver<Work>,
) -> StoreResult<()> {
    connection
        .pragma_update(None, "cache_size", -BULK_CACHE_KIB)
        .map_err(failed)?;
    let result =
        run_kept(connection, "BEGIN IMMEDIATE").and_then(|()| write_rows(connection, &mut work));
    if !connection.is_autocommit()
        && let Err(err) = connection.execute_batch("ROLLBACK")
    {
        tracing::warn!(%err, "rolling back a load on its connection");
    }
    // Shrinking the cache setting frees the pages over it.
    connection
        .pragma_update(None, "cache_size", IDLE_CACHE_PAGES)
        .map_err(failed)?;
    result
}

fn write_rows(
    connection: &Connection,
    work: &mut tokio::sync::mpsc::Receiver<Work>,
) -> StoreResult<()> {
    set_fts_hash_size(connection, BULK_FTS_HASH_BYTES)?;
    while let Some(item) = work.blocking_recv() {
        match item {
            Work::Statement(statement) => {
                connection
                    .prepare_cached(&statement.sql)
                    .and_then(|mut prepared| {
                        prepared.execute(params_from_iter(statement.args.iter()))
                    })
                    .map_err(failed)?;
            }
            Work::Commit(sequences) => {
                let mut raise = connection
                    .prepare_cached(RAISE_SEQUENCE_SQL)
                    .map_err(failed)?;
                for (day, last) in &sequences {
                    raise
                        .execute(rusqlite::params![date_text(*day), *last])
                        .map_err(failed)?;
                }
                set_fts_hash_size(connection, FTS_DEFAULT_HASH_BYTES)?;
                return run_kept(connection, "COMMIT");
            }
        }
    }
    Err(StoreError::Database(anyhow!(
        "a bulk load ended before its commit"
    )))
}

/// Sets how many bytes of new terms FTS5 gathers in memory before it writes them out as a
/// segment of the index (a setting stored with the index). FTS5 also writes its buffer out at
/// every statement's savepoint, and each multi-row `INSERT` into `order_search` opens one (its
/// trigger may fail), so a segment holds at most one statement's terms: megabytes for thousands
/// of documents, which the default cut into many small segments that were then merged again
/// (`fts5IndexMerge`). Set back to the default in the same transaction.
fn set_fts_hash_size(connection: &Connection, bytes: i64) -> StoreResult<()> {
    connection
        .prepare_cached("INSERT INTO order_fts (order_fts, rank) VALUES ('hashsize', ?1)")
        .and_then(|mut statement| statement.execute([bytes]))
        .map(|_| ())
        .map_err(failed)
}

fn failed(err: rusqlite::Error) -> StoreError {
    StoreError::Database(anyhow!("bulk load: {err}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::statement_sizes;

    proptest! {
        /// The statements of a part write each of its rows once, none larger than a full
        /// statement, in few enough sizes that every one stays prepared.
        #[test]
        fn statements_cover_the_rows_in_few_sizes(rows in 0usize..100_000, full in 1usize..3_000) {
            let sizes: Vec<usize> = statement_sizes(rows, full).collect();
            prop_assert_eq!(sizes.iter().sum::<usize>(), rows);
            prop_assert!(sizes.iter().all(|size| *size > 0 && *size <= full));
            let distinct: std::collections::BTreeSet<usize> = sizes.iter().copied().collect();
            // The full size and one power of two for each bit of the rest.
            prop_assert!(distinct.len() <= 1 + full.ilog2() as usize + 1, "{:?}", distinct);
        }
    }
}
