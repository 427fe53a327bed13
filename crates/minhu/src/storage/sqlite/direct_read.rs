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

use super::{READ_MMAP_BYTES, StoreResult, TokenHolder, User, from_ms, parse_code};
use crate::storage::parse_roles;

/// How many idle connections are kept: one per HTTP worker is enough, a few more for the odd
/// read from a blocking thread.
const MAX_IDLE: usize = 8;

/// How long a direct read waits for a lock before giving up and letting the read pool do it.
const BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// The sign-in check's statement (the same as the read pool's in `shared/operations.rs`).
const TOKEN_HOLDER_SQL: &str = "SELECT users.id, users.username, users.display_name, \
     users.unit_id, users.roles, users.active, users.password_hash, users.created_at, \
     units.code, units.name, units.kind, units.parent_id, units.path, \
     units.is_dispatch_point, units.active, \
     (SELECT value FROM reference_generation WHERE id = 1) \
     FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
     JOIN units ON units.id = users.unit_id \
     WHERE api_tokens.token_hash = ?1 AND api_tokens.expires_at > ?2";

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

    /// The holder of the token whose hash is `token_hash`, if it has not expired at `now_ms`.
    /// `Err` means the direct read could not be made (no file, a lock held too long, an open
    /// that failed): the caller reads through the read pool instead.
    pub(super) fn token_holder(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<StoreResult<Option<TokenHolder>>, rusqlite::Error> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(TOKEN_HOLDER_SQL)?;
            statement
                .query_row((token_hash, now_ms), |row| {
                    Ok(TokenRow {
                        user_id: row.get(0)?,
                        username: row.get(1)?,
                        display_name: row.get(2)?,
                        unit_id: row.get(3)?,
                        roles: row.get(4)?,
                        active: row.get(5)?,
                        password_hash: row.get(6)?,
                        created_at: row.get(7)?,
                        unit_code: row.get(8)?,
                        unit_name: row.get(9)?,
                        unit_kind: row.get(10)?,
                        unit_parent_id: row.get(11)?,
                        unit_path: row.get(12)?,
                        unit_is_dispatch_point: row.get(13)?,
                        unit_active: row.get(14)?,
                        reference_generation: row.get(15)?,
                    })
                })
                .optional()
        })
        .map(|row| row.map(TokenRow::into_holder).transpose())
    }

    /// Runs `read` on an idle connection (opening one if none is idle) and puts it back.
    fn with_connection<R>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let Some(path) = &self.path else {
            self.through_pool.fetch_add(1, Ordering::Relaxed);
            return Err(rusqlite::Error::InvalidPath(PathBuf::from(":memory:")));
        };
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match taken {
            Some(connection) => connection,
            None => open(path).inspect_err(|_| {
                self.through_pool.fetch_add(1, Ordering::Relaxed);
            })?,
        };
        let result = read(&connection);
        let counter = if result.is_ok() {
            &self.direct
        } else {
            &self.through_pool
        };
        counter.fetch_add(1, Ordering::Relaxed);
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

/// The columns of [`TOKEN_HOLDER_SQL`], as SQLite keeps them.
struct TokenRow {
    user_id: i64,
    username: String,
    display_name: String,
    unit_id: i64,
    roles: String,
    active: i64,
    password_hash: String,
    created_at: i64,
    unit_code: String,
    unit_name: String,
    unit_kind: String,
    unit_parent_id: Option<i64>,
    unit_path: String,
    unit_is_dispatch_point: i64,
    unit_active: i64,
    reference_generation: i64,
}

impl TokenRow {
    fn into_holder(self) -> StoreResult<TokenHolder> {
        let kind: UnitKind = parse_code(&self.unit_kind, "unit_kind")?;
        Ok(TokenHolder {
            user: User {
                id: self.user_id,
                username: self.username,
                display_name: self.display_name,
                unit_id: self.unit_id,
                roles: parse_roles(&self.roles),
                active: self.active != 0,
                password_hash: self.password_hash,
                created_at: from_ms(self.created_at, "created_at")?,
            },
            unit: UnitInfo {
                id: self.unit_id,
                code: self.unit_code,
                name: self.unit_name,
                kind,
                parent_id: self.unit_parent_id,
                path: self.unit_path,
                is_dispatch_point: self.unit_is_dispatch_point != 0,
                active: self.unit_active != 0,
            },
            reference_generation: self.reference_generation,
        })
    }
}
