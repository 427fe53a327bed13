//! The SQLite backend: one database file in WAL mode, durable commits, one writer connection.
//!
//! All writes go through a pool of exactly one connection, so in-process writers queue instead of
//! failing with `SQLITE_BUSY` (registrations, transitions and audit lines are written by the group
//! committer on a connection of its own, which holds that one while it writes, and the generator's
//! loads likewise on another); reads use a separate pool and, thanks to WAL, never wait for the
//! writer. The SQL and the [`Store`] implementation are shared with PostgreSQL (see `shared/`):
//! this module only defines the store, how to connect, and the pieces that differ per backend
//! (`BACKEND_NAME`, `begin_write`, `run_migrations`, `backup_database`).

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

mod bulk_write;
mod checkpoint;
mod direct_read;
mod direct_write;
mod group_commit;
mod index_merge;
mod read_pool;

use bulk_write::BulkWriter;
use checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use direct_read::DirectReads;

pub use direct_read::DirectReadStats;
pub use group_commit::GroupCommitStats;
use group_commit::GroupCommitter;
use read_pool::ReadPool;

type Db = sqlx::Sqlite;
type Pool = sqlx::Pool<Db>;
/// A result row of this backend.
type DbRow = sqlx::sqlite::SqliteRow;
/// The store the shared code implements [`Store`] for.
type BackendStore = SqliteStore;

/// What [`Store::backend`] answers.
const BACKEND_NAME: &str = "sqlite";

/// Load transactions of `minhu gen` at a time ([`Store::bulk_writers`]): SQLite writes one
/// transaction at a time.
const BULK_WRITERS: usize = 1;

/// A column type the shared row mapping reads (`ResultRow`): one both sqlx and rusqlite (the
/// direct reads) decode.
trait ColumnValue: for<'r> sqlx::Decode<'r, Db> + sqlx::Type<Db> + rusqlite::types::FromSql {}
impl<T> ColumnValue for T where
    T: for<'r> sqlx::Decode<'r, Db> + sqlx::Type<Db> + rusqlite::types::FromSql
{
}

/// A value type the shared statements bind (`Values::put`), turned into one of SQLite's own
/// values, since on SQLite the registrations, transitions and bulk loads are written through
/// rusqlite (`sqlite/direct_write.rs`, `sqlite/bulk_write.rs`). Text is moved, or copied once,
/// as it is: through `rusqlite::ToSql` a `&str` came back as bytes that were checked as UTF-8
/// again, 5 % of a bulk load's samples. (The lifetime is PostgreSQL's, whose arguments may
/// borrow; here values are copied.)
trait BindValue<'q> {
    fn into_value(self) -> Result<rusqlite::types::Value, String>;
}

impl BindValue<'_> for &str {
    fn into_value(self) -> Result<rusqlite::types::Value, String> {
        Ok(rusqlite::types::Value::Text(self.to_owned()))
    }
}

impl BindValue<'_> for String {
    fn into_value(self) -> Result<rusqlite::types::Value, String> {
        Ok(rusqlite::types::Value::Text(self))
    }
}

impl BindValue<'_> for &String {
    fn into_value(self) -> Result<rusqlite::types::Value, String> {
        Ok(rusqlite::types::Value::Text(self.clone()))
    }
}

impl BindValue<'_> for &[u8] {
    fn into_value(self) -> Result<rusqlite::types::Value, String> {
        Ok(rusqlite::types::Value::Blob(self.to_vec()))
    }
}

impl<'q, T: BindValue<'q>> BindValue<'q> for Option<T> {
    fn into_value(self) -> Result<rusqlite::types::Value, String> {
        self.map_or(Ok(rusqlite::types::Value::Null), BindValue::into_value)
    }
}

/// Numbers and the like go through `rusqlite::ToSql`, which gives them as owned values.
macro_rules! bind_through_to_sql {
    ($($value:ty),*) => {$(
        impl BindValue<'_> for $value {
            fn into_value(self) -> Result<rusqlite::types::Value, String> {
                use rusqlite::{ToSql as _, types::ToSqlOutput};
                match self.to_sql().map_err(|err| err.to_string())? {
                    ToSqlOutput::Borrowed(value) => {
                        rusqlite::types::Value::try_from(value).map_err(|err| err.to_string())
                    }
                    ToSqlOutput::Owned(value) => Ok(value),
                    _ => Err("a value that is not a column value".to_owned()),
                }
            }
        }
    )*};
}

bind_through_to_sql!(i64, i32, f64, bool);

/// The values of a shared statement, as they are gathered: SQLite's own values, which the
/// group committer binds as they are and an sqlx query takes through [`db_args`].
type ArgList = Vec<rusqlite::types::Value>;

/// Arguments with room for `values` values.
fn args_with_capacity(values: usize) -> ArgList {
    ArgList::with_capacity(values)
}

/// Adds `value` to `args`; the error says why it cannot be bound.
fn bind_value<'q, T: BindValue<'q>>(args: &mut ArgList, value: T) -> Result<(), String> {
    args.push(value.into_value()?);
    Ok(())
}

/// The values as an sqlx query binds them.
fn db_args(args: ArgList) -> StoreResult<DbArgs> {
    use rusqlite::types::Value;
    use sqlx::Arguments as _;
    let mut bound = DbArgs::default();
    bound.reserve(args.len(), 0);
    for value in args {
        match value {
            Value::Null => bound.add(None::<i64>),
            Value::Integer(value) => bound.add(value),
            Value::Real(value) => bound.add(value),
            Value::Text(value) => bound.add(value),
            Value::Blob(value) => bound.add(value),
        }
        .map_err(|err| StoreError::Database(anyhow!("cannot bind a value: {err}")))?;
    }
    Ok(bound)
}

/// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock at once, so a transaction
/// that reads before it writes cannot fail half-way when another process writes.
async fn begin_write(pool: &Pool) -> sqlx::Result<Tx> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

include!("shared/rows.rs");
include!("shared/writes.rs");
include!("shared/operations.rs");
include!("shared/order_list.rs");
include!("shared/attachments.rs");
include!("shared/order_reads.rs");
include!("shared/search.rs");
include!("shared/knowledge.rs");
include!("shared/generate.rs");
include!("shared/bulk_indexes.rs");

/// Joins an order list to the FTS5 match of `text`, its relevance as `s.search_score`: BM25
/// with the title weighing 4, the caller's name 2 and the body 1 (lower is better).
///
/// The matches drive the join (`CROSS JOIN` fixes the order): with a filter that has an index
/// of its own (a unit's scope, a state), SQLite would otherwise walk that index and run the
/// whole match again for each of its orders.
fn push_orders_source(qb: &mut QueryBuilder<Db>, text: Option<&super::TextFilter>) {
    let Some(text) = text else {
        qb.push(" FROM orders");
        return;
    };
    qb.push(
        " FROM (SELECT rowid AS search_id, bm25(order_fts, 4.0, 1.0, 2.0) AS search_score \
         FROM order_fts WHERE order_fts MATCH ",
    );
    qb.push_bind(text.fts5_match());
    qb.push(") s CROSS JOIN orders ON orders.id = s.search_id");
}

/// The matches of `text` in the index alone, as `s.search_id` (a search with no other filter
/// counts and bounds its matches here, without reading the orders; FTS5 walks them newest first
/// itself when the caller orders by `s.search_id DESC`).
fn push_text_matches(qb: &mut QueryBuilder<Db>, text: &super::TextFilter) {
    qb.push(" FROM (SELECT rowid AS search_id FROM order_fts WHERE order_fts MATCH ");
    qb.push_bind(text.fts5_match());
    qb.push(") s");
}

/// Whether a plain search counts all its matches (see `list_orders_in`): FTS5 counts them in its
/// index alone, 物业's 78,200 at a million orders in 6 ms.
const INDEX_COUNTS_TEXT_MATCHES: bool = true;

/// How many orders have a search document ([`Store::search_coverage`], which `minhu serve` runs at
/// every start): counted in the FTS5 index's table of document sizes, one row of a few bytes per
/// document, which the triggers on `order_search` keep in step with it. `order_search` itself has
/// no index smaller than its rows of text, so counting them read the whole table: 2 min 49 s at ten
/// million orders, and for all that time the count's snapshot kept the checkpoints from copying
/// anything written after it, so the log grew by gigabytes under load and could not start again
/// (docs/bench/city-scale-rounds-9-to-10.md, ninth round). This count: 1.1 s.
const COUNT_SEARCH_DOCUMENTS_SQL: &str = "SELECT COUNT(*) FROM order_fts_docsize";

/// The order of a text search: most relevant first, then newest.
const TEXT_RANK_ORDER: &str =
    " ORDER BY s.search_score ASC, orders.created_at DESC, orders.id DESC";

/// The entries of a knowledge list as `e`: with a text, the FTS5 matches come first and the
/// entries are joined to them (`CROSS JOIN` fixes that order: left to itself, SQLite ran the
/// whole match again for every published entry, 600 ms at 5,000 entries instead of 3), their
/// relevance as `s.search_score`: minus BM25 (so that higher is better, as on PostgreSQL) with
/// the title weighing 4, the keywords 2 and the body 1.
fn push_knowledge_source(
    qb: &mut QueryBuilder<Db>,
    text: Option<&super::knowledge::KnowledgeText>,
) {
    let Some(text) = text else {
        qb.push(" FROM knowledge_entries e");
        return;
    };
    qb.push(
        " FROM (SELECT rowid AS search_id, -bm25(knowledge_fts, 4.0, 2.0, 1.0) AS search_score \
         FROM knowledge_fts WHERE knowledge_fts MATCH ",
    );
    qb.push_bind(text.fts5_match());
    qb.push(") s CROSS JOIN knowledge_entries e ON e.id = s.search_id");
}

/// How many connections serve reads.
const READ_CONNECTIONS: usize = 4;

/// How much of the database file the read pool's connections map into memory instead of copying
/// each page out of the kernel's cache with a `read` call (the point reads' connections map
/// nothing: `direct_read.rs`). A search that joins ten thousand matches
/// to their orders touches ten thousand pages: at a million orders the count of 停水 fell from
/// 52 ms to 14 ms. The mapped pages are the kernel's page cache, shared and reclaimable (they
/// show as `RssFile`, not `RssAnon`); writes still go through the one write connection.
/// SQLite as built caps this at its compile-time `SQLITE_MAX_MMAP_SIZE` (just under 2 GiB):
/// pages beyond it are read as before.
const READ_MMAP_BYTES: u64 = 2 << 30;

/// minhu's store in an SQLite file.
pub struct SqliteStore {
    /// Exactly one connection: writers queue.
    write: Pool,
    /// Plain reads.
    read: ReadPool,
    /// Point reads in the calling task (the sign-in check of every request).
    direct: DirectReads,
    /// Gathers concurrent registrations, transitions and audit lines into shared commits, on
    /// its own connection while it holds `write`'s.
    committer: GroupCommitter,
    /// Writes the generator's load transactions on a connection of its own.
    bulk: BulkWriter,
    /// Copies the write-ahead log into the database file off the write connection; stops
    /// with the store.
    _checkpointer: Checkpointer,
}

impl SqliteStore {
    /// Opens (creating if missing, with its folder) the database file a `sqlite://` URL names.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options: SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL in WAL mode: a commit that returned has reached the disk (survives power loss).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|err| {
                anyhow::anyhow!("cannot create the folder {}: {err}", folder.display())
            })?;
        }
        let write_options = options
            .clone()
            // Statement journals (a multi-row INSERT keeps one, to undo itself alone) stay in
            // memory instead of spilling to a temporary file: 12 % of the write thread's time
            // went to writing them (`subjournalPageIfRequired`).
            .pragma("temp_store", "memory")
            // The checkpoint connection copies the log back (see checkpoint.rs).
            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string());
        // No test before each use: a pooled connection is an open file in this process, with
        // no server at the other end that could have gone away, and sqlx tests it with a round
        // trip to the connection's thread, which costs more here than most statements (see
        // read_pool.rs, which the reads use for the same reason).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(write_options)
            .await?;
        let checkpointer = Checkpointer::start(&options).await?;
        let direct = DirectReads::new(options.get_filename());
        let committer = GroupCommitter::new(direct.file().map(Path::to_path_buf));
        let bulk = BulkWriter::new(direct.file().map(Path::to_path_buf));
        let read = ReadPool::open(
            options.pragma("mmap_size", READ_MMAP_BYTES.to_string()),
            READ_CONNECTIONS,
        )
        .await?;
        Ok(Self {
            write,
            read,
            direct,
            committer,
            bulk,
            _checkpointer: checkpointer,
        })
    }

    /// How many commits the registration committer made and how many registrations they held
    /// (see [`GroupCommitStats`]).
    #[must_use]
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        self.committer.stats()
    }

    /// How many sign-in checks were read in the calling task and how many through the read
    /// pool (see [`DirectReadStats`]).
    #[must_use]
    pub fn direct_read_stats(&self) -> DirectReadStats {
        self.direct.stats()
    }
}

/// The answer of a read made in the calling task (see `direct_read`), or, when SQLite could
/// not make it there, of `pooled`: the same read through the read pool (a future, so it runs
/// only then).
async fn direct_or_pooled<T>(
    direct: Result<StoreResult<T>, rusqlite::Error>,
    pooled: impl Future<Output = StoreResult<T>>,
) -> StoreResult<T> {
    match direct {
        Ok(answer) => answer,
        Err(err) => {
            tracing::debug!(%err, "direct read failed; reading through the pool");
            pooled.await
        }
    }
}

/// The holder of a token ([`Store::find_token_holder`]), read in the calling task.
async fn read_token_holder(
    store: &BackendStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenHolder>> {
    direct_or_pooled(
        store.direct.token_holder(token_hash, ms(now)),
        pooled_token_holder(store, token_hash, now),
    )
    .await
}

/// The order `key` names with its assignments ([`Store::find_order_by_number`],
/// [`Store::find_order`]), read in the calling task.
async fn read_order(
    store: &BackendStore,
    key: OrderKey<'_>,
) -> StoreResult<Option<OrderAggregate>> {
    direct_or_pooled(store.direct.order(key), pooled_order(store, key)).await
}

/// An order's history ([`Store::order_history`]), read in the calling task.
async fn read_history(store: &BackendStore, order_id: i64) -> StoreResult<Vec<HistoryEntry>> {
    direct_or_pooled(
        store.direct.history(order_id),
        pooled_history(store, order_id),
    )
    .await
}

/// An order's files ([`Store::order_attachments`]), read in the calling task.
async fn read_attachments(store: &BackendStore, order_id: i64) -> StoreResult<Vec<Attachment>> {
    direct_or_pooled(
        store.direct.attachments(order_id),
        pooled_attachments(store, order_id),
    )
    .await
}

/// The replies of an order's units (for its search document), read in the calling task.
async fn read_replies(store: &BackendStore, order_id: i64) -> StoreResult<Vec<(i64, String)>> {
    direct_or_pooled(
        store.direct.replies(order_id),
        pooled_replies(store, order_id),
    )
    .await
}

/// Registers one order through the group committer ([`Store::create_order`]): it shares its
/// durable commit with the registrations queued beside it (see `group_commit`).
async fn commit_new_order(store: &BackendStore, new: NewOrder) -> StoreResult<RegisteredOrder> {
    store.committer.submit(&store.write, new).await
}

/// Stores a transition ([`Store::save_transition`]) through the group committer: it shares its
/// durable commit with the work queued beside it.
async fn commit_transition(
    store: &BackendStore,
    write: TransitionWrite,
) -> StoreResult<OrderAggregate> {
    store.committer.submit_transition(&store.write, write).await
}

/// Writes an audit line ([`Store::write_audit`]) in the committer's next batch.
async fn commit_audit_entry(store: &BackendStore, entry: &NewAuditEntry) -> StoreResult<()> {
    store
        .committer
        .submit_audit(&store.write, entry.clone())
        .await
}

/// Writes one batch of generated orders in one transaction ([`Store::bulk_insert_orders`]), on
/// the load connection (`sqlite/bulk_write.rs`).
async fn load_generated_batch(store: &BackendStore, batch: &GeneratedBatch) -> StoreResult<()> {
    store.bulk.write(&store.write, batch).await
}

/// Runs the SQLite migrations compiled into the binary ([`Store::migrate`]), then copies the
/// write-ahead log into the database file and empties it. A migration that builds an index on a
/// big database leaves its pages in the log (1.2 GB for the queue index at ten million orders),
/// and the first writes after start paid for checkpointing them: 766 registrations a second
/// instead of 2,718 a minute later. At start nothing else is writing, so the checkpoint is done
/// before the server takes requests.
async fn run_migrations(pool: &Pool) -> StoreResult<()> {
    sqlx::migrate!("./migrations/sqlite")
        .run(pool)
        .await
        .map_err(|err| StoreError::Database(anyhow!("migrating the SQLite database: {err}")))?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}

/// Writes a consistent copy of the database to the new file `path` ([`Store::backup_to`]).
async fn backup_database(store: &BackendStore, path: &str) -> StoreResult<()> {
    let target = std::path::Path::new(path);
    if target.exists() {
        return Err(StoreError::Database(anyhow!(
            "backup target {path} already exists; choose a new file"
        )));
    }
    if let Some(folder) = target.parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).map_err(|err| {
            StoreError::Database(anyhow!(
                "cannot create the folder {}: {err}",
                folder.display()
            ))
        })?;
    }
    // A consistent snapshot, written by SQLite itself, while others keep reading and writing.
    sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(&store.read)
        .await?;
    Ok(())
}
