// Part of the shared storage code (see rows.rs for how these files are compiled): the reads of
// one order and what belongs to it that every lifecycle action and every detail view makes —
// the order with its assignments, its history, its files, its units' replies. The statements
// are written once here; each backend's `read_order`, `read_history`, `read_attachments` and
// `read_replies` decide how they run: on SQLite first in the calling task
// (`sqlite/direct_read.rs`), through the read pool when that cannot be done; on PostgreSQL
// through the pool (the `pooled_*` functions below).

/// Which order to read.
#[derive(Debug, Clone, Copy)]
enum OrderKey<'a> {
    /// By its number (工单编号), as users and the API name it.
    Number(&'a str),
    /// By its id.
    Id(i64),
}

impl OrderKey<'_> {
    /// The statement reading the order's row (`$1`: the key).
    fn sql(self) -> &'static str {
        match self {
            Self::Number(_) => "SELECT * FROM orders WHERE number = $1",
            Self::Id(_) => "SELECT * FROM orders WHERE id = $1",
        }
    }
}

/// An order's assignments, oldest first (`$1`: the order's id).
const ORDER_ASSIGNMENTS_SQL: &str = "SELECT * FROM assignments WHERE order_id = $1 ORDER BY id";

/// An order's history, oldest first (`$1`: the order's id).
const ORDER_HISTORY_SQL: &str = "SELECT * FROM order_history WHERE order_id = $1 ORDER BY id";

/// The replies an order's units have written, by assignment, oldest first (`$1`: the order's
/// id): part of the order's search document.
const ORDER_REPLIES_SQL: &str =
    "SELECT id, reply FROM assignments WHERE order_id = $1 AND reply IS NOT NULL ORDER BY id";

/// An order's files without their bytes, oldest first (`$1`: the order's id).
static ORDER_ATTACHMENTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM order_attachments a \
         JOIN order_history h ON h.id = a.history_id \
         WHERE a.order_id = $1 ORDER BY a.id"
    )
});

/// The order `key` names with its assignments, through the read pool.
async fn pooled_order(
    store: &BackendStore,
    key: OrderKey<'_>,
) -> StoreResult<Option<OrderAggregate>> {
    let query = sqlx::query(key.sql());
    let query = match key {
        OrderKey::Number(number) => query.bind(number),
        OrderKey::Id(id) => query.bind(id),
    };
    let row = query.fetch_optional(&store.read).await?;
    load_aggregate_in(&store.read, row).await
}

/// An order's history, through the read pool.
async fn pooled_history(store: &BackendStore, order_id: i64) -> StoreResult<Vec<HistoryEntry>> {
    let rows = sqlx::query(ORDER_HISTORY_SQL)
        .bind(order_id)
        .fetch_all(&store.read)
        .await?;
    rows.iter().map(history_from_row).collect()
}

/// An order's files, through the read pool.
async fn pooled_attachments(store: &BackendStore, order_id: i64) -> StoreResult<Vec<Attachment>> {
    let rows = sqlx::query(AssertSqlSafe(ORDER_ATTACHMENTS_SQL.as_str()))
        .bind(order_id)
        .fetch_all(&store.read)
        .await?;
    rows.iter().map(attachment_from_row).collect()
}

/// The replies of an order's units ([`ORDER_REPLIES_SQL`]), through the read pool.
async fn pooled_replies(store: &BackendStore, order_id: i64) -> StoreResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(ORDER_REPLIES_SQL)
        .bind(order_id)
        .fetch_all(&store.read)
        .await?)
}
