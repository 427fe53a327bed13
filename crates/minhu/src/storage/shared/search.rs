// Part of the shared storage code (see rows.rs for how these files are compiled): the search
// documents of orders in `order_search`. Each is written in the transaction that writes the
// order, so the index never lags behind an acknowledged order and survives a crash with it. The
// backend's own index (FTS5 through triggers, or PostgreSQL's generated tsvectors) follows the
// row.

use super::search::{OrderSearchDocument, ReindexProgress, order_document};

/// Search documents a write has yet to store, written together by [`write_search_rows`].
#[derive(Debug, Default)]
struct SearchRows {
    rows: Vec<(i64, OrderSearchDocument)>,
}

impl SearchRows {
    /// Adds the document of order `order_id`, replacing one given before for the same order.
    fn push(&mut self, order_id: i64, doc: OrderSearchDocument) {
        self.rows.retain(|(id, _)| *id != order_id);
        self.rows.push((order_id, doc));
    }
}

/// Writes (or replaces) the documents `docs` (order id and document) with one statement.
///
/// On SQLite this is the last statement of a write transaction that holds several orders'
/// documents (a group commit): FTS5 writes the terms it holds in memory out as a new segment of
/// its index whenever a later statement of the transaction opens a statement journal, and every
/// multi-row insert and every update with a trigger does. With each transition's document
/// written among its own statements, a batch of lifecycle actions wrote one small segment per
/// reply or review and merged them again: 24 % and 20 % of the write connection's samples
/// (`fts5SavepointMethod`, `fts5IndexMerge`) under the `lifecycle` benchmark at 1M orders.
async fn write_search_rows(
    tx: &mut impl WriteTx,
    docs: &[(i64, OrderSearchDocument)],
) -> StoreResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    // In order of id: FTS5 gathers terms in memory only while the rows it is given ascend, and
    // writes them out as a segment when a row comes below the last (a registration's new order
    // before an older order's reply), which was as costly as the statement journals above.
    // One statement whatever the count, not the orders' prepared runs (`prepared_runs`): each
    // further statement would open a journal of its own and flush the terms again.
    let mut rows: Vec<&(i64, OrderSearchDocument)> = docs.iter().collect();
    rows.sort_unstable_by_key(|(order_id, _)| *order_id);
    let mut values = Values::new();
    for (order_id, doc) in rows {
        values
            .put("order_id", *order_id)
            .put("title_terms", doc.title_terms.as_str())
            .put("body_terms", doc.body_terms.as_str())
            .put("caller_terms", doc.caller_terms.as_str())
            .put("similarity_words", doc.similarity_words.as_str());
    }
    let (mut sql, args) = multi_insert(values, "order_search", docs.len())?;
    sql.push_str(
        " ON CONFLICT (order_id) DO UPDATE SET title_terms = excluded.title_terms, \
         body_terms = excluded.body_terms, caller_terms = excluded.caller_terms, \
         similarity_words = excluded.similarity_words",
    );
    tx.execute(&sql, args, docs.len() == 1).await?;
    Ok(())
}

/// The actions that write a text the order is found by: a unit's reply, the direct answer, and
/// the review that makes a reply the order's answer.
const TEXT_ACTIONS: [&str; 3] = ["reply", "close_direct", "review"];

/// Whether a transition may have changed the indexed texts. Decided by its events, not by the
/// replies it carries: a transition carries every assignment it touches, replies included, so
/// judging by those would cut the texts again on every later action (a visit, an appeal).
fn transition_touches_text(transition: &Transition) -> bool {
    transition
        .events
        .iter()
        .any(|e| TEXT_ACTIONS.contains(&e.action.as_str()))
}

/// (Re)indexes up to `limit` orders with ids above `after_id` (all of them when `only_missing`
/// is false, else only those without a search document), in one transaction.
async fn reindex_orders_batch(
    write: &Pool,
    after_id: i64,
    limit: i64,
    only_missing: bool,
) -> StoreResult<ReindexProgress> {
    let sql = if only_missing {
        "SELECT o.* FROM orders o WHERE o.id > $1 \
         AND NOT EXISTS (SELECT 1 FROM order_search s WHERE s.order_id = o.id) \
         ORDER BY o.id LIMIT $2"
    } else {
        "SELECT o.* FROM orders o WHERE o.id > $1 ORDER BY o.id LIMIT $2"
    };
    // Read and cut the texts before taking the write lock: segmentation is the slow part.
    let rows = sqlx::query(sql)
        .bind(after_id)
        .bind(limit)
        .fetch_all(write)
        .await?;
    let orders = rows
        .iter()
        .map(order_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let Some(last) = orders.last().map(|o| o.id) else {
        return Ok(ReindexProgress::default());
    };
    let first = orders.first().map_or(last, |o| o.id);
    let reply_rows = sqlx::query(
        "SELECT order_id, reply FROM assignments \
         WHERE order_id >= $1 AND order_id <= $2 AND reply IS NOT NULL ORDER BY order_id, id",
    )
    .bind(first)
    .bind(last)
    .fetch_all(write)
    .await?;
    let mut replies: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for row in &reply_rows {
        replies
            .entry(col::<i64>(row, "order_id")?)
            .or_default()
            .push(col::<String>(row, "reply")?);
    }
    let segmenter = minhu_text::segmenter();
    let docs: Vec<(i64, OrderSearchDocument)> = orders
        .iter()
        .map(|order| {
            let order_replies = replies.get(&order.id).map(Vec::as_slice).unwrap_or(&[]);
            (
                order.id,
                order_document(segmenter, order, order_replies.iter().map(String::as_str)),
            )
        })
        .collect();
    let mut tx = begin_write(write).await?;
    for chunk in docs.chunks(MAX_BINDS / 5) {
        write_search_rows(&mut tx, chunk).await?;
    }
    tx.commit().await?;
    Ok(ReindexProgress {
        indexed: docs.len() as u64,
        last_id: Some(last),
    })
}

/// How many of the newest matches the first pages of an order search rank by relevance (see
/// `list_orders`): enough for every page an agent reads, few enough to rank in milliseconds.
const RANK_WINDOW: i64 = 2_000;

/// How many matches an order search counts at most (`OrderPage::total_capped` beyond).
const COUNT_CAP: i64 = 10_000;
