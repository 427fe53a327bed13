//! Point reads run in the calling task, on SQLite connections of their own (rusqlite), without a
//! round trip to an sqlx connection thread.
//!
//! Every signed-in request first reads its token's holder ([`Store::find_token_holder`]): three
//! rows found by key, a few microseconds of SQLite's time. Through sqlx that read is a trip to a
//! read connection's thread and back — two futex wakes, each an inter-processor interrupt on
//! this 2-core VM, and a wait in the run queue for a core on a busy machine. Under `minhu bench
//! create --clients 32` the four read threads, which did little else, took 14 % of the server's
//! samples, and waking them 3 % more on the HTTP workers (docs/BENCHMARKS.md, fourth round).
//!
//! Here the statement runs on the HTTP worker itself. That blocks the worker for as long as the
//! read takes, which is why only reads of a few small, hot rows come this way (the token table,
//! the user, the unit: pages the page cache and the mapped file keep); anything that may scan
//! stays on the read pool. A connection is taken from a short list of idle ones (a new one is
//! opened when none is idle) and put back after the read; each keeps its prepared statements.
//!
//! In WAL mode a reader does not wait for the writer, and the database file and the log are
//! read as the pooled readers read them: the answer is what a pooled read would have given at
//! the same moment. A reader can still meet `SQLITE_BUSY` for a moment (while another
//! connection recovers the log's index after a crash); the busy timeout is short, and any
//! error sends the caller back to the read pool ([`DirectReads::token_holder`] says which).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use minhu_domain::{UnitInfo, UnitKind};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{
    READ_MMAP_BYTES, StoreResult, TOKEN_HOLDER_SQL, TokenHolder, User, from_ms, parse_code,
};
use crate::storage::parse_roles;

/// How many idle connections are kept: one per HTTP worker is enough, a few more for the odd
/// read from a blocking thread.
const MAX_IDLE: usize = 8;

/// How long a direct read waits for a lock before giving up and letting the read pool do it.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// How the sign-in checks were read: directly, or through the read pool because the direct
/// read could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectReadStats {
    /// Reads made in the calling task.
    pub direct: u64,
    /// Reads that went to the read pool instead.
    pub through_pool: u64,
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

    /// How many reads were made directly and how many went to the read pool.
    pub(super) fn stats(&self) -> DirectReadStats {
        DirectReadStats {
            direct: self.direct.load(Ordering::Relaxed),
            through_pool: self.through_pool.load(Ordering::Relaxed),
        }
    }

    /// The holder of the token whose hash is `token_hash`, if it has not expired at `now_ms`
    /// ([`TOKEN_HOLDER_SQL`], the read pool's statement). `Err` means the direct read could not
    /// be made (no file, a lock held too long, an open that failed): the caller reads through
    /// the read pool instead.
    pub(super) fn token_holder(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<StoreResult<Option<TokenHolder>>, rusqlite::Error> {
        let read = self.with_connection(|connection| {
            connection
                .prepare_cached(TOKEN_HOLDER_SQL)?
                .query_row((token_hash, now_ms), holder_from_row)
                .optional()
        });
        let counter = if read.is_ok() {
            &self.direct
        } else {
            &self.through_pool
        };
        counter.fetch_add(1, Ordering::Relaxed);
        read.map(Option::transpose)
    }

    /// Runs `read` on an idle connection (opening one if none is idle) and puts it back.
    fn with_connection<R>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let Some(path) = &self.path else {
            return Err(rusqlite::Error::InvalidPath(PathBuf::from(":memory:")));
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
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
        result
    }
}

/// A read-only connection to `path` with the read pool's settings.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(
        None,
        "mmap_size",
        i64::try_from(READ_MMAP_BYTES).unwrap_or(i64::MAX),
    )?;
    Ok(connection)
}

/// A row of [`TOKEN_HOLDER_SQL`] as a token holder; the inner error is a value the store cannot
/// have written (an unknown unit kind, an impossible timestamp), as the read pool reports it.
fn holder_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoreResult<TokenHolder>> {
    let kind: String = row.get("unit_kind")?;
    let created_at: i64 = row.get("created_at")?;
    let roles: String = row.get("roles")?;
    let user = User {
        id: row.get("id")?,
        username: row.get("username")?,
        display_name: row.get("display_name")?,
        unit_id: row.get("unit_id")?,
        roles: parse_roles(&roles),
        active: row.get::<_, i64>("active")? != 0,
        password_hash: row.get("password_hash")?,
        created_at: match from_ms(created_at, "created_at") {
            Ok(at) => at,
            Err(err) => return Ok(Err(err)),
        },
    };
    let unit = UnitInfo {
        id: user.unit_id,
        code: row.get("unit_code")?,
        name: row.get("unit_name")?,
        kind: match parse_code::<UnitKind>(&kind, "unit_kind") {
            Ok(kind) => kind,
            Err(err) => return Ok(Err(err)),
        },
        parent_id: row.get("unit_parent_id")?,
        path: row.get("unit_path")?,
        is_dispatch_point: row.get::<_, i64>("unit_is_dispatch_point")? != 0,
        active: row.get::<_, i64>("unit_active")? != 0,
    };
    Ok(Ok(TokenHolder {
        user,
        unit,
        reference_generation: row.get("reference_generation")?,
    }))
}
