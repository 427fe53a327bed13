//! The group committer's own write connection (rusqlite), on the committer's thread.
//!
//! Through sqlx every statement of a batch was a round trip to the write connection's thread:
//! the committer handed the statement over, that thread woke, ran it and handed the rows back,
//! and the committer went on only once a core woke it in turn. A lifecycle action is about six
//! statements, so a batch of thirteen was some eighty such trips, each two futex wakes and a
//! wait in the run queue of a busy 2-core machine. Under `minhu bench lifecycle` at 32 clients
//! the write connection's thread was busy 40 % of the time and the committer 19 %, while
//! every write of the server queued behind the two of them
//! (docs/bench/city-scale-rounds-3-to-6.md, sixth round). Here the committer runs each statement
//! itself, on a connection its thread owns.
//!
//! The statements are the shared ones (`shared/writes.rs` through [`WriteTx`]), bound with the
//! values `Values` gathered, and their rows mapped by the shared functions through
//! [`DirectRow`]: registrations and transitions are written by one text whichever connection
//! writes them.
//!
//! The store's other writes (users, units, knowledge, migrations) still go through the
//! one-connection sqlx write pool (the generator's loads have a connection of their own that
//! holds it in the same way, `bulk_write.rs`). So that the two never wait on SQLite's write
//! lock for each other (SQLite's busy handler sleeps for milliseconds at a time), a batch holds
//! the pool's connection from before its `BEGIN IMMEDIATE` until after its commit: writers of
//! this process queue on the pool, as they did when the committer wrote through it. Another
//! process (`minhu backup`, a second server by mistake) meets the busy timeout as before.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use sqlx::pool::PoolConnection;

use super::direct_read::{ColumnIndex, DirectRow};
use super::{
    ArgList, Db, FromResultRow, Pool, StoreError, StoreResult, WRITER_CHECKPOINT_PAGES, WriteError,
    WriteTx,
};

/// How many statements the connection keeps prepared: a batch's multi-row inserts in their
/// seven sizes per table (`prepared_runs`), and a transition's updates, which differ by the
/// indexed columns they leave out.
const PREPARED_STATEMENTS: usize = 256;

/// How long a write waits for another process's write lock, as the sqlx write pool does.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The committer's write connection and the pool whose connection it holds while it writes.
pub(super) struct DirectWriter {
    connection: Connection,
    pool: Pool,
}

impl DirectWriter {
    /// Opens a write connection to the database file at `path` with the write pool's settings;
    /// `pool` is the write pool whose connection a batch holds while it writes.
    pub(super) fn open(path: Option<&Path>, pool: Pool) -> StoreResult<Self> {
        let path = path.ok_or_else(|| {
            StoreError::Database(anyhow!(
                "the group committer needs a database file (an in-memory database is one per \
                 connection)"
            ))
        })?;
        let connection = open_write_connection(path).map_err(|err| {
            StoreError::Database(anyhow!(
                "opening the write connection to {}: {err}",
                path.display()
            ))
        })?;
        Ok(Self { connection, pool })
    }

    /// Starts a write transaction once the write pool's connection is free, holding it until
    /// the transaction ends.
    pub(super) async fn begin(&mut self) -> StoreResult<DirectTx<'_>> {
        let lock = self.pool.acquire().await?;
        run_kept(&self.connection, "BEGIN IMMEDIATE")?;
        Ok(DirectTx {
            connection: &self.connection,
            _lock: lock,
        })
    }
}

/// An open write transaction on the committer's connection; rolled back when dropped without
/// [`DirectTx::commit`].
pub(super) struct DirectTx<'c> {
    connection: &'c Connection,
    /// The write pool's connection, held so that no other writer of this process starts.
    _lock: PoolConnection<Db>,
}

impl DirectTx<'_> {
    /// Rows changed on the connection since it opened (`sqlite3_total_changes64`).
    pub(super) fn total_changes(&self) -> u64 {
        self.connection.total_changes()
    }

    /// Commits: once this returns, the transaction is on disk (`synchronous = FULL`).
    pub(super) fn commit(self) -> StoreResult<()> {
        run_kept(self.connection, "COMMIT")
    }
}

impl Drop for DirectTx<'_> {
    fn drop(&mut self) {
        // Still inside the transaction: it was not committed, or its commit failed and SQLite
        // left it open (a busy database).
        if !self.connection.is_autocommit()
            && let Err(err) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::warn!(%err, "rolling back a batch on the committer's connection");
        }
    }
}

impl WriteTx for DirectTx<'_> {
    async fn fetch<T: FromResultRow>(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<Vec<T>, WriteError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let columns = ColumnIndex::of(&statement);
        let mut mapped = Vec::new();
        {
            let mut rows = statement.query(params_from_iter(args.iter()))?;
            while let Some(row) = rows.next()? {
                mapped.push(T::from_row(&DirectRow::new(row, &columns))?);
            }
        }
        if !keep_prepared {
            statement.discard();
        }
        Ok(mapped)
    }

    async fn execute(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<u64, WriteError> {
        let mut statement = self.connection.prepare_cached(sql)?;
        let changed = statement.execute(params_from_iter(args.iter()))?;
        if !keep_prepared {
            statement.discard();
        }
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

impl From<rusqlite::Error> for WriteError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        if let rusqlite::Error::SqliteFailure(failure, message) = &err {
            let message = message.clone().unwrap_or_else(|| failure.to_string());
            match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return Self::Unique(message);
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return Self::ForeignKey(message),
                _ => {}
            }
        }
        Self::Other(StoreError::Database(err.into()))
    }
}

/// Runs `sql` (a statement without parameters or rows) from the connection's statement cache.
/// `execute_batch` parsed `BEGIN IMMEDIATE` and `COMMIT` again for every batch
/// (`sqlite3_prepare` 2 % of the committer's samples under `bench create`).
pub(super) fn run_kept(connection: &Connection, sql: &str) -> StoreResult<()> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(|err| StoreError::Database(anyhow!("{sql}: {err}")))
}

/// A read-write connection to `path` with the sqlx write pool's settings.
pub(super) fn open_write_connection(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        PathBuf::from(path),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(PREPARED_STATEMENTS);
    // As the sqlx write connection (sqlite.rs): a commit that returned is on the disk, foreign
    // keys are checked, statement journals stay in memory, and the checkpoint connection
    // copies the log back.
    let journal: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal mode {journal} instead of WAL"
        )));
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::open_write_connection as open;

    /// The committer's connection must commit as durably as the sqlx write pool's: `FULL` in WAL
    /// mode (an acknowledged order survives power loss), with foreign keys checked.
    #[test]
    fn the_write_connection_commits_durably_and_checks_references() {
        let folder = tempfile::tempdir().expect("a scratch folder");
        let path = folder.path().join("write.db");
        rusqlite::Connection::open(&path)
            .and_then(|created| created.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            .expect("a database file");
        let connection = open(&path).expect("the write connection opens");
        let pragma = |name: &str| -> String {
            connection
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .map(|value| match value {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .expect("the pragma answers")
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("synchronous"), "2", "synchronous = FULL");
        assert_eq!(pragma("foreign_keys"), "1");
        assert_eq!(pragma("temp_store"), "2", "temp_store = MEMORY");
        assert_eq!(
            pragma("wal_autocheckpoint"),
            super::WRITER_CHECKPOINT_PAGES.to_string()
        );
    }
}
