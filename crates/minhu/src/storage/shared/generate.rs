// Part of the shared storage code (see rows.rs for how these files are compiled): the bulk load
// of the generator (`minhu gen`). Rows come finished, with their ids; they are written with
// multi-row INSERTs in one transaction. On SQLite the transaction runs with
// `PRAGMA synchronous = OFF` (a bulk load that can be re-run does not need each commit on the
// disk), and the connection goes back to FULL afterwards.

use super::generated::{GeneratedBatch, GeneratorStart};

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

/// FTS5's in-memory term buffer during a bulk load, and FTS5's own default.
const BULK_FTS_HASH_BYTES: i64 = 256 * 1024 * 1024;
const FTS_DEFAULT_HASH_BYTES: i64 = 1024 * 1024;

/// The page cache of a bulk load on SQLite, in KiB.
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// Turns the values of `rows` rows put one after the other into one
/// `INSERT INTO table (…) VALUES (…), (…)`.
fn multi_insert(values: Values, table: &str, rows: usize) -> StoreResult<(String, DbArgs)> {
    values.check()?;
    let per_row = values.names.len() / rows.max(1);
    let names = values.names.get(..per_row).unwrap_or_default().join(", ");
    let mut sql = format!("INSERT INTO {table} ({names}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..per_row {
            if col > 0 {
                sql.push_str(", ");
            }
            if BACKEND_NAME == "sqlite" {
                // Anonymous parameters: SQLite looks a named one (`$n`) up in a list, once
                // per bind, which makes a statement of thousands of `$n` quadratic.
                sql.push('?');
            } else {
                sql.push_str(&format!("${}", row * per_row + col + 1));
            }
        }
        sql.push(')');
    }
    Ok((sql, values.args))
}

/// Runs a multi-row `INSERT` of `rows` rows. A statement of several rows is not kept in the
/// connection's statement cache: every batch size is a statement of its own, and a cache of a
/// hundred prepared statements of thousands of parameters each held tens of megabytes of the
/// server's memory after a few minutes of group commits.
async fn run_insert(tx: &mut Tx, values: Values, table: &str, rows: usize) -> StoreResult<()> {
    if rows == 0 {
        return Ok(());
    }
    let (sql, args) = multi_insert(values, table, rows)?;
    sqlx::query_with(AssertSqlSafe(sql), args)
        .persistent(rows == 1)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Runs a multi-row `INSERT` of a bulk load. Unlike [`run_insert`], a statement of a full chunk
/// is kept prepared: a load writes thousands of chunks of the same size, and parsing each again
/// was 5 % of the generator's samples (`sqlite3RunParser`). Only the few full-size statements
/// are kept, one per table.
async fn run_bulk_insert(
    tx: &mut Tx,
    values: Values,
    table: &str,
    rows: usize,
    full: usize,
) -> StoreResult<()> {
    if rows == 0 {
        return Ok(());
    }
    let (sql, args) = multi_insert(values, table, rows)?;
    sqlx::query_with(AssertSqlSafe(sql), args)
        .persistent(rows == 1 || rows == full)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn generator_start_of(pool: &Pool) -> StoreResult<GeneratorStart> {
    let next_order_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")
        .fetch_one(pool)
        .await?;
    let next_assignment_id: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM assignments")
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query("SELECT day, last_value FROM order_number_sequences ORDER BY day")
        .fetch_all(pool)
        .await?;
    let mut sequences = Vec::with_capacity(rows.len());
    for row in &rows {
        let day: String = col(row, "day")?;
        let last: i64 = col(row, "last_value")?;
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|err| StoreError::Database(anyhow!("bad sequence day {day}: {err}")))?;
        sequences.push((date, last));
    }
    Ok(GeneratorStart {
        next_order_id,
        next_assignment_id,
        sequences,
    })
}

async fn bulk_insert_batch(pool: &Pool, batch: &GeneratedBatch) -> StoreResult<()> {
    let sqlite = BACKEND_NAME == "sqlite";
    let mut cache_pages: i64 = 0;
    if sqlite {
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(pool)
            .await?;
        // A page cache that holds the indexes a load touches: with the default 2 MB the
        // connection wrote pages out to the log in the middle of the transaction and read them
        // back (`pagerStress` 4 %, `pread` 4 % of the generator's samples).
        cache_pages = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(pool)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB}"
        )))
        .execute(pool)
        .await?;
    }
    let result = bulk_insert_in(pool, batch).await;
    if sqlite {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(pool)
            .await?;
        sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = {cache_pages}")))
            .execute(pool)
            .await?;
    }
    result
}

async fn bulk_insert_in(pool: &Pool, batch: &GeneratedBatch) -> StoreResult<()> {
    let mut tx = begin_write(pool).await?;
    if BACKEND_NAME == "sqlite" {
        set_fts_hash_size(&mut tx, BULK_FTS_HASH_BYTES).await?;
    }

    // Orders.
    const ORDER_COLUMNS: usize = 51;
    for chunk in batch.orders.chunks(MAX_BINDS / ORDER_COLUMNS) {
        let mut v = Values::new();
        for g in chunk {
            let o = &g.aggregate.order;
            v.put("id", o.id)
                .put("number", o.number.as_str())
                .put("version", o.version)
                .put("created_at", ms(o.created_at))
                .put("created_by", o.created_by);
            put_order_values(&mut v, o, lead_unit_of(&g.aggregate.assignments))?;
        }
        run_bulk_insert(&mut tx, v, "orders", chunk.len(), MAX_BINDS / ORDER_COLUMNS).await?;
    }

    // Assignments (parents first: a child names its parent).
    let assignments: Vec<(i64, &Assignment)> = batch
        .orders
        .iter()
        .flat_map(|g| {
            g.aggregate
                .assignments
                .iter()
                .map(|a| (g.aggregate.order.id, a))
        })
        .collect();
    const ASSIGNMENT_COLUMNS: usize = 25;
    for chunk in assignments.chunks(MAX_BINDS / ASSIGNMENT_COLUMNS) {
        let mut v = Values::new();
        for (order_id, a) in chunk {
            v.put("id", a.id).put("order_id", *order_id);
            put_assignment_values(&mut v, a)?;
        }
        run_bulk_insert(
            &mut tx,
            v,
            "assignments",
            chunk.len(),
            MAX_BINDS / ASSIGNMENT_COLUMNS,
        )
        .await?;
    }

    // History.
    let events: Vec<(i64, &HistoryEvent)> = batch
        .orders
        .iter()
        .flat_map(|g| g.events.iter().map(|e| (g.aggregate.order.id, e)))
        .collect();
    for chunk in events.chunks(MAX_BINDS / 10) {
        let mut v = Values::new();
        for (order_id, e) in chunk {
            put_history_values(&mut v, *order_id, e)?;
        }
        run_bulk_insert(&mut tx, v, "order_history", chunk.len(), MAX_BINDS / 10).await?;
    }

    // Search documents.
    for chunk in batch.orders.chunks(MAX_BINDS / 5) {
        let mut v = Values::new();
        for g in chunk {
            v.put("order_id", g.aggregate.order.id)
                .put("title_terms", g.search.title_terms.as_str())
                .put("body_terms", g.search.body_terms.as_str())
                .put("caller_terms", g.search.caller_terms.as_str())
                .put("similarity_words", g.search.similarity_words.as_str());
        }
        run_bulk_insert(&mut tx, v, "order_search", chunk.len(), MAX_BINDS / 5).await?;
    }

    // Daily sequences: raised to the last number used, never lowered.
    for (day, last) in &batch.sequences {
        sqlx::query(
            "INSERT INTO order_number_sequences (day, last_value) VALUES ($1, $2) \
             ON CONFLICT (day) DO UPDATE SET last_value = \
             CASE WHEN excluded.last_value > order_number_sequences.last_value \
             THEN excluded.last_value ELSE order_number_sequences.last_value END",
        )
        .bind(date_text(*day))
        .bind(*last)
        .execute(&mut *tx)
        .await?;
    }

    // Explicit ids on PostgreSQL: move the identity sequences past them.
    if BACKEND_NAME == "postgres" {
        for table in ["orders", "assignments"] {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT MAX(id) FROM {table}))"
            )))
            .execute(&mut *tx)
            .await?;
        }
    }
    if BACKEND_NAME == "sqlite" {
        set_fts_hash_size(&mut tx, FTS_DEFAULT_HASH_BYTES).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets how many bytes of new terms FTS5 gathers in memory before it writes them out as a
/// segment of the index (a setting stored with the index). A load's transaction holds tens of
/// megabytes of terms: with the default the index was written out in many small segments that
/// it then merged again (`fts5IndexMerge`). Set back to the default in the same transaction.
async fn set_fts_hash_size(tx: &mut Tx, bytes: i64) -> StoreResult<()> {
    sqlx::query("INSERT INTO order_fts (order_fts, rank) VALUES ('hashsize', $1)")
        .bind(bytes)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
