//! The PostgreSQL backend: one pool for reads and writes; several app nodes may share a database.
//! The SQL and the [`Store`] implementation are shared with SQLite (see `shared/`): this module
//! only defines the store, how to connect, and the pieces that differ per backend
//! (`BACKEND_NAME`, `begin_write`, `run_migrations`, `backup_database`).

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;
type Pool = sqlx::Pool<Db>;
/// A result row of this backend.
type DbRow = sqlx::postgres::PgRow;
/// What reads run on: the same pool as writes.
type ReadPool = Pool;
/// The store the shared code implements [`Store`] for.
type BackendStore = PgStore;

/// What [`Store::backend`] answers.
const BACKEND_NAME: &str = "postgres";

/// Load transactions of `minhu gen` at a time ([`Store::bulk_writers`]): with one, its backend
/// kept one core busy and the generator's threads waited for it; two took 100,000 orders from
/// 3,580 to 4,338 orders/s (docs/bench/city-scale-rounds-11-to-13.md, twelfth round).
const BULK_WRITERS: usize = 2;

/// A column type the shared row mapping reads (`ResultRow`): one sqlx decodes.
trait ColumnValue: for<'r> sqlx::Decode<'r, Db> + sqlx::Type<Db> {}
impl<T> ColumnValue for T where T: for<'r> sqlx::Decode<'r, Db> + sqlx::Type<Db> {}

/// A value type the shared statements bind (`Values::put`): one sqlx encodes.
trait BindValue<'q>: sqlx::Encode<'q, Db> + sqlx::Type<Db> {}
impl<'q, T> BindValue<'q> for T where T: sqlx::Encode<'q, Db> + sqlx::Type<Db> {}

/// The values of a shared statement, as they are gathered: sqlx's arguments themselves.
type ArgList = sqlx::postgres::PgArguments;

/// Arguments with room for `values` values (their size is not known: nothing is reserved for
/// it).
fn args_with_capacity(values: usize) -> ArgList {
    let mut args = ArgList::default();
    sqlx::Arguments::reserve(&mut args, values, 0);
    args
}

/// Adds `value` to `args`; the error says why it cannot be bound.
fn bind_value<'q, T: BindValue<'q>>(args: &mut ArgList, value: T) -> Result<(), String> {
    sqlx::Arguments::add(args, value).map_err(|err| err.to_string())
}

/// The values as sqlx binds them (they already are).
fn db_args(args: ArgList) -> StoreResult<DbArgs> {
    Ok(args)
}

/// Starts a write transaction (READ COMMITTED; the statements lock the rows they change).
async fn begin_write(pool: &Pool) -> sqlx::Result<Tx> {
    pool.begin().await
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

/// The orders of a list, joined, with a text, to its `tsvector` match, the relevance as `s.search_score`
/// (`ts_rank` with the weights the generated columns carry: title A, caller B, body D). Units
/// match `text_tsv`, which has no caller name.
fn push_orders_source(qb: &mut QueryBuilder<Db>, text: Option<&super::TextFilter>) {
    qb.push(" FROM orders");
    let Some(text) = text else { return };
    if text.include_caller {
        qb.push(
            " JOIN (SELECT d.order_id AS search_id, ts_rank(d.full_tsv, q) AS search_score \
             FROM order_search d, to_tsquery('simple', ",
        );
        qb.push_bind(text.tsquery());
        qb.push(") q WHERE d.full_tsv @@ q) s ON s.search_id = orders.id");
    } else {
        qb.push(
            " JOIN (SELECT d.order_id AS search_id, ts_rank(d.text_tsv, q) AS search_score \
             FROM order_search d, to_tsquery('simple', ",
        );
        qb.push_bind(text.tsquery());
        qb.push(") q WHERE d.text_tsv @@ q) s ON s.search_id = orders.id");
    }
}

/// The matches of `text` in the index alone, as `s.search_id` (a search with no other filter
/// counts and bounds its matches here, without reading the orders).
fn push_text_matches(qb: &mut QueryBuilder<Db>, text: &super::TextFilter) {
    qb.push(if text.include_caller {
        " FROM (SELECT d.order_id AS search_id FROM order_search d \
         WHERE d.full_tsv @@ to_tsquery('simple', "
    } else {
        " FROM (SELECT d.order_id AS search_id FROM order_search d \
         WHERE d.text_tsv @@ to_tsquery('simple', "
    });
    qb.push_bind(text.tsquery());
    qb.push(")) s");
}

/// How many orders have a search document ([`Store::search_coverage`]).
const COUNT_SEARCH_DOCUMENTS_SQL: &str = "SELECT COUNT(*) FROM order_search";

/// Whether a plain search counts all its matches (see `list_orders_in`): on PostgreSQL it counts
/// at most `COUNT_CAP`. The GIN index finds 物业's 80,000 matches at a million orders in 49 ms,
/// but a `tsvector` match is rechecked in the rows themselves, and rechecking them all took
/// 610 ms; no one pages through ten thousand orders.
const INDEX_COUNTS_TEXT_MATCHES: bool = false;

/// The order of a text search: most relevant first, then newest.
const TEXT_RANK_ORDER: &str =
    " ORDER BY s.search_score DESC, orders.created_at DESC, orders.id DESC";

/// The entries of a knowledge list as `e`, joined, with a text, to its `tsvector` match, the
/// relevance as `s.search_score` (`ts_rank` with the weights the generated column carries:
/// title A, keywords B, body D).
fn push_knowledge_source(
    qb: &mut QueryBuilder<Db>,
    text: Option<&super::knowledge::KnowledgeText>,
) {
    qb.push(" FROM knowledge_entries e");
    let Some(text) = text else { return };
    qb.push(
        " JOIN (SELECT d.entry_id AS search_id, \
         CAST(ts_rank(d.text_tsv, q) AS DOUBLE PRECISION) AS search_score \
         FROM knowledge_search d, to_tsquery('simple', ",
    );
    qb.push_bind(text.tsquery());
    qb.push(") q WHERE d.text_tsv @@ q) s ON s.search_id = e.id");
}

/// How many connections one app node keeps at most.
const MAX_CONNECTIONS: u32 = 16;

/// minhu's store in a PostgreSQL database.
pub struct PgStore {
    /// For writes; the same pool as `read`.
    write: Pool,
    /// For plain reads; the same pool as `write`.
    read: Pool,
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names. Does not migrate: call
    /// [`Store::migrate`].
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Self {
            write: pool.clone(),
            read: pool,
        })
    }
}

/// The holder of a token ([`Store::find_token_holder`]), from the pool.
async fn read_token_holder(
    store: &BackendStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenHolder>> {
    pooled_token_holder(store, token_hash, now).await
}

/// The order `key` names with its assignments ([`Store::find_order_by_number`],
/// [`Store::find_order`]), from the pool.
async fn read_order(
    store: &BackendStore,
    key: OrderKey<'_>,
) -> StoreResult<Option<OrderAggregate>> {
    pooled_order(store, key).await
}

/// An order's history ([`Store::order_history`]), from the pool.
async fn read_history(store: &BackendStore, order_id: i64) -> StoreResult<Vec<HistoryEntry>> {
    pooled_history(store, order_id).await
}

/// An order's files ([`Store::order_attachments`]), from the pool.
async fn read_attachments(store: &BackendStore, order_id: i64) -> StoreResult<Vec<Attachment>> {
    pooled_attachments(store, order_id).await
}

/// The replies of an order's units (for its search document), from the pool.
async fn read_replies(store: &BackendStore, order_id: i64) -> StoreResult<Vec<(i64, String)>> {
    pooled_replies(store, order_id).await
}

/// Registers one order in a transaction of its own ([`Store::create_order`]): several app nodes
/// share the database, so there is no single writer to gather registrations behind, and the
/// day's counter row lock already orders them.
async fn commit_new_order(store: &BackendStore, new: NewOrder) -> StoreResult<RegisteredOrder> {
    let mut tx = begin_write(&store.write).await?;
    let stored = insert_new_orders(&mut tx, &[&new])
        .await?
        .pop()
        .ok_or_else(|| StoreError::Database(anyhow!("the registered order was not returned")))?;
    tx.commit().await?;
    Ok(stored)
}

/// Stores a transition ([`Store::save_transition`]) in a transaction of its own: PostgreSQL
/// commits concurrent transactions together by itself.
async fn commit_transition(
    store: &BackendStore,
    write: TransitionWrite,
) -> StoreResult<OrderAggregate> {
    let mut tx = begin_write(&store.write).await?;
    match write_transition(&mut tx, &write).await? {
        Ok(aggregate) => {
            tx.commit().await?;
            Ok(aggregate)
        }
        Err(refused) => {
            tx.rollback().await?;
            Err(refused)
        }
    }
}

/// Writes an audit line ([`Store::write_audit`]) with one statement: PostgreSQL commits
/// concurrent transactions together by itself.
async fn commit_audit_entry(store: &BackendStore, entry: &NewAuditEntry) -> StoreResult<()> {
    let (sql, args) = audit_insert(&[entry])?;
    sqlx::query_with(AssertSqlSafe(sql), db_args(args)?)
        .execute(&store.write)
        .await?;
    Ok(())
}

/// Runs the PostgreSQL migrations compiled into the binary ([`Store::migrate`]).
async fn run_migrations(pool: &Pool) -> StoreResult<()> {
    sqlx::migrate!("./migrations/postgres")
        .run(pool)
        .await
        .map_err(|err| StoreError::Database(anyhow!("migrating the PostgreSQL database: {err}")))
}

/// PostgreSQL is backed up with its own tools ([`Store::backup_to`] refuses).
async fn backup_database(_store: &BackendStore, _path: &str) -> StoreResult<()> {
    Err(StoreError::Database(anyhow!(
        "use pg_dump for PostgreSQL backups"
    )))
}

/// Writes one batch of generated orders in one transaction ([`Store::bulk_insert_orders`]).
async fn load_generated_batch(store: &BackendStore, batch: &GeneratedBatch) -> StoreResult<()> {
    let mut tx = begin_write(&store.write).await?;
    // Each statement's values are built while the server runs the one before: built in turn,
    // they left the connection idle for a fifth of the load (the main thread 2,684 samples,
    // the connection's 9,420, serially).
    let rows = BulkRows::of(batch);
    let mut statements = rows.statements();
    let mut next = statements.next().transpose()?;
    while let Some(statement) = next {
        let running = sqlx::query_with(AssertSqlSafe(statement.sql), db_args(statement.args)?)
            .execute(&mut *tx);
        let mut running = std::pin::pin!(running);
        // The first poll sends the statement to the server.
        let started = futures::poll!(&mut running);
        next = statements.next().transpose()?;
        match started {
            std::task::Poll::Ready(done) => {
                done?;
            }
            std::task::Poll::Pending => {
                running.await?;
            }
        }
    }
    for (day, last) in &batch.sequences {
        sqlx::query(RAISE_SEQUENCE_SQL)
            .bind(date_text(*day))
            .bind(*last)
            .execute(&mut *tx)
            .await?;
    }
    // Explicit ids: move the identity sequences past them. Two load transactions may run at
    // once (`BULK_WRITERS`), each with its own ids, committing in either order; the lock, held
    // to the commit, lets one at a time set the sequences, so that the second's `MAX(id)` sees
    // the first's rows and a sequence is never moved back. `setval` itself is not undone by a
    // rollback.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BULK_SEQUENCE_LOCK)
        .execute(&mut *tx)
        .await?;
    for table in ["orders", "assignments"] {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT MAX(id) FROM {table}))"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The advisory lock (a key of PostgreSQL's one shared space of them) under which a load's
/// transaction moves the identity sequences; "minhu.sq" in ASCII.
const BULK_SEQUENCE_LOCK: i64 = 0x6d69_6e68_752e_7371;
