//! Point reads run in the calling task, on SQLite connections of their own (rusqlite), without a
//! round trip to an sqlx connection thread.
//!
//! Every signed-in request first reads its token's holder ([`Store::find_token_holder`]): three
//! rows found by key, a few microseconds of SQLite's time. Through sqlx that read is a trip to a
//! read connection's thread and back — two futex wakes, each an inter-processor interrupt on
//! this 2-core VM, and a wait in the run queue for a core on a busy machine. Under `minhu bench
//! create --clients 32` the four read threads, which did little else, took 14 % of the server's
//! samples, and waking them 3 % more on the HTTP workers
//! (docs/bench/city-scale-rounds-3-to-6.md, fourth round).
//!
//! Here the statement runs on the HTTP worker itself. That blocks the worker for as long as the
//! read takes, which is why only reads of a few rows found by key come this way: the token's
//! holder, and the reads every lifecycle action and detail view makes of one order (the order
//! with its assignments, its history, its files, its units' replies; `shared/order_reads.rs`),
//! each an index lookup of a handful of rows. Under `minhu bench lifecycle` those were five
//! round trips to the read threads per action, the four threads 24 % of the server's samples.
//! Anything that may scan (lists, counts, searches) stays on the read pool. A connection is
//! taken from a short list of idle ones (a new one is opened when none is idle) and put back
//! after the read; each keeps its prepared statements.
//!
//! In WAL mode a reader does not wait for the writer, and the database file and the log are
//! read as the pooled readers read them: the answer is what a pooled read would have given at
//! the same moment. A reader can still meet `SQLITE_BUSY` for a moment (while another
//! connection recovers the log's index after a crash); the busy timeout is short, and any
//! error of SQLite's sends the caller back to the read pool ([`DirectReads::read`] says which).
//!
//! The rows are mapped by the same functions as the pool's (`order_from_row` and the others
//! take any `ResultRow`): [`DirectRow`] gives them a rusqlite row's columns by name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::anyhow;
use minhu_domain::OrderAggregate;
use rusqlite::{Connection, OpenFlags, Statement};

use super::{
    ColumnValue, HistoryEntry, ORDER_ASSIGNMENTS_SQL, ORDER_ATTACHMENTS_SQL, ORDER_HISTORY_SQL,
    ORDER_REPLIES_SQL, OrderKey, ResultRow, StoreError, StoreResult, TOKEN_HOLDER_SQL, TokenHolder,
    assignment_from_row, attachment_from_row, history_from_row, order_from_row,
    token_holder_from_row,
};
use crate::storage::Attachment;

/// How many idle connections are kept: one per HTTP worker is enough, a few more for the odd
/// read from a blocking thread.
const MAX_IDLE: usize = 8;

/// How long a direct read waits for a lock before giving up and letting the read pool do it.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// How the direct reads went: made in the calling task, or sent to the read pool because the
/// direct read could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectReadStats {
    /// Reads made in the calling task.
    pub direct: u64,
    /// Reads that went to the read pool instead.
    pub through_pool: u64,
}

/// Why a direct read gave no rows to answer with.
enum Failure {
    /// SQLite could not make the read (no file, a lock held too long, an open that failed):
    /// the caller reads through the pool instead.
    Sqlite(rusqlite::Error),
    /// What was read is not what the store writes (an unknown code, an impossible timestamp):
    /// the answer, as the pool's read would give it.
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// Read-only connections to one database file, for reads in the calling task.
pub(super) struct DirectReads {
    /// The database file; `None` for a database that is not a file (each connection to
    /// `:memory:` is a database of its own): every read then goes to the read pool.
    path: Option<PathBuf>,
    idle: Mutex<Vec<Connection>>,
    direct: AtomicU64,
    through_pool: AtomicU64,
}

impl DirectReads {
    /// Direct reads of the file at `path` (no connection is opened yet).
    pub(super) fn new(path: &Path) -> Self {
        let in_memory = path.as_os_str().is_empty() || path == Path::new(":memory:");
        Self {
            path: (!in_memory).then(|| path.to_path_buf()),
            idle: Mutex::new(Vec::new()),
            direct: AtomicU64::new(0),
            through_pool: AtomicU64::new(0),
        }
    }

    /// The database file these connections read (`None`: not a file).
    pub(super) fn file(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// How many reads were made directly and how many went to the read pool.
    pub(super) fn stats(&self) -> DirectReadStats {
        DirectReadStats {
            direct: self.direct.load(Ordering::Relaxed),
            through_pool: self.through_pool.load(Ordering::Relaxed),
        }
    }

    /// The holder of the token whose hash is `token_hash`, if it has not expired at `now_ms`
    /// ([`TOKEN_HOLDER_SQL`], the read pool's statement).
    pub(super) fn token_holder(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<StoreResult<Option<TokenHolder>>, rusqlite::Error> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(TOKEN_HOLDER_SQL)?;
            let columns = ColumnIndex::of(&statement);
            let mut rows = statement.query((token_hash, now_ms))?;
            match rows.next()? {
                Some(row) => Ok(Some(token_holder_from_row(&DirectRow::new(row, &columns))?)),
                None => Ok(None),
            }
        })
    }

    /// The order `key` names with its assignments, read in one read transaction (so the
    /// assignments are those of the order as read).
    pub(super) fn order(
        &self,
        key: OrderKey<'_>,
    ) -> Result<StoreResult<Option<OrderAggregate>>, rusqlite::Error> {
        self.read(|connection| {
            let read = connection.unchecked_transaction()?;
            let order = {
                let mut statement = read.prepare_cached(key.sql())?;
                let columns = ColumnIndex::of(&statement);
                let mut rows = match key {
                    OrderKey::Number(number) => statement.query([number])?,
                    OrderKey::Id(id) => statement.query([id])?,
                };
                match rows.next()? {
                    Some(row) => order_from_row(&DirectRow::new(row, &columns))?,
                    None => return Ok(None),
                }
            };
            let assignments = all_rows(&read, ORDER_ASSIGNMENTS_SQL, order.id, |row| {
                assignment_from_row(row)
            })?;
            read.commit()?;
            Ok(Some(OrderAggregate { order, assignments }))
        })
    }

    /// An order's history, oldest first.
    pub(super) fn history(
        &self,
        order_id: i64,
    ) -> Result<StoreResult<Vec<HistoryEntry>>, rusqlite::Error> {
        self.read(|connection| {
            all_rows(connection, ORDER_HISTORY_SQL, order_id, |row| {
                history_from_row(row)
            })
        })
    }

    /// An order's files without their bytes, oldest first.
    pub(super) fn attachments(
        &self,
        order_id: i64,
    ) -> Result<StoreResult<Vec<Attachment>>, rusqlite::Error> {
        self.read(|connection| {
            all_rows(connection, &ORDER_ATTACHMENTS_SQL, order_id, |row| {
                attachment_from_row(row)
            })
        })
    }

    /// The replies of an order's units, by assignment, oldest first.
    pub(super) fn replies(
        &self,
        order_id: i64,
    ) -> Result<StoreResult<Vec<(i64, String)>>, rusqlite::Error> {
        self.read(|connection| {
            all_rows(connection, ORDER_REPLIES_SQL, order_id, |row| {
                Ok((row.value("id")?, row.value("reply")?))
            })
        })
    }

    /// Runs `read` on an idle connection (opening one if none is idle), puts the connection
    /// back and counts the read. `Err` means SQLite could not make it and the caller should
    /// read through the pool; `Ok(Err)` is the store's answer (rows it cannot map).
    fn read<R>(
        &self,
        read: impl FnOnce(&Connection) -> Result<R, Failure>,
    ) -> Result<StoreResult<R>, rusqlite::Error> {
        let result = self.with_connection(read);
        let counter = if matches!(result, Err(Failure::Sqlite(_))) {
            &self.through_pool
        } else {
            &self.direct
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(value) => Ok(Ok(value)),
            Err(Failure::Store(err)) => Ok(Err(err)),
            Err(Failure::Sqlite(err)) => Err(err),
        }
    }

    /// Runs `read` on an idle connection (opening one if none is idle) and puts it back.
    fn with_connection<R>(
        &self,
        read: impl FnOnce(&Connection) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let Some(path) = &self.path else {
            return Err(rusqlite::Error::InvalidPath(PathBuf::from(":memory:")).into());
        };
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match taken {
            Some(connection) => connection,
            None => open(path)?,
        };
        let result = read(&connection);
        // A connection left inside a transaction (a read that failed half-way) is not reused.
        if connection.is_autocommit() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.len() < MAX_IDLE {
                idle.push(connection);
            }
        }
        result
    }
}

/// Every row `sql` gives for the id `id` (its one parameter), each mapped by `map`.
fn all_rows<T>(
    connection: &Connection,
    sql: &str,
    id: i64,
    map: impl Fn(&DirectRow<'_, '_>) -> StoreResult<T>,
) -> Result<Vec<T>, Failure> {
    let mut statement = connection.prepare_cached(sql)?;
    let columns = ColumnIndex::of(&statement);
    let mut rows = statement.query([id])?;
    let mut mapped = Vec::new();
    while let Some(row) = rows.next()? {
        mapped.push(map(&DirectRow::new(row, &columns))?);
    }
    Ok(mapped)
}

/// A statement's result columns by name. rusqlite finds a column by name by comparing it with
/// each column's name in turn, asking SQLite for each; an order has 52 columns, all read by
/// name.
pub(super) struct ColumnIndex(HashMap<String, usize>);

impl ColumnIndex {
    pub(super) fn of(statement: &Statement<'_>) -> Self {
        Self(
            statement
                .column_names()
                .into_iter()
                .enumerate()
                .map(|(index, name)| (name.to_owned(), index))
                .collect(),
        )
    }
}

/// A row of a direct read (or of the committer's writes), for the shared row mapping
/// ([`ResultRow`]).
pub(super) struct DirectRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    columns: &'a ColumnIndex,
}

impl<'a, 'r> DirectRow<'a, 'r> {
    pub(super) fn new(row: &'a rusqlite::Row<'r>, columns: &'a ColumnIndex) -> Self {
        Self { row, columns }
    }
}

impl ResultRow for DirectRow<'_, '_> {
    fn value<T: ColumnValue>(&self, name: &str) -> StoreResult<T> {
        let index = self
            .columns
            .0
            .get(name)
            .ok_or_else(|| StoreError::Database(anyhow!("no column `{name}` in the row")))?;
        self.row
            .get(*index)
            .map_err(|err| StoreError::Database(anyhow!("reading column `{name}`: {err}")))
    }
}

/// A read-only connection to `path` with the read pool's settings.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // No file mapping, unlike the read pool's (set, not left to how SQLite was built): a point
    // read touches a handful of pages, and under steady writes every read transaction begins
    // on a changed database, where SQLite drops the connection's page cache and unmaps its
    // whole mapping (`pagerBeginReadTransaction`). Mapped, each token lookup of `create` at 32
    // clients paid an `munmap` with a TLB shootdown of the other core and page faults to map
    // its pages again.
    connection.pragma_update(None, "mmap_size", 0)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::open;

    /// A point read's connection reads the file with `read` calls, not through a mapping
    /// (see `open`).
    #[test]
    fn point_read_connections_do_not_map_the_file() {
        let folder = tempfile::tempdir().expect("a scratch folder");
        let path = folder.path().join("read.db");
        rusqlite::Connection::open(&path)
            .and_then(|created| created.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            .expect("a database file");
        let connection = open(&path).expect("the read connection opens");
        let mapped: i64 = connection
            .query_row("PRAGMA mmap_size", [], |row| row.get(0))
            .expect("the pragma answers");
        assert_eq!(mapped, 0);
    }
}
