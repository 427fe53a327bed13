// Part of the shared storage code (see rows.rs for how these files are compiled): the bulk load
// of the generator (`minhu gen`). Rows come finished, with their ids; they are written with
// multi-row INSERTs in one transaction. On SQLite the transaction runs with
// `PRAGMA synchronous = OFF` (a bulk load that can be re-run does not need each commit on the
// disk), and the connection goes back to FULL afterwards.

use super::generated::{GeneratedBatch, GeneratorStart};

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

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
    if sqlite {
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(pool)
            .await?;
    }
    let result = bulk_insert_in(pool, batch).await;
    if sqlite {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(pool)
            .await?;
    }
    result
}

async fn bulk_insert_in(pool: &Pool, batch: &GeneratedBatch) -> StoreResult<()> {
    let mut tx = begin_write(pool).await?;

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
        run_insert(&mut tx, v, "orders", chunk.len()).await?;
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
        run_insert(&mut tx, v, "assignments", chunk.len()).await?;
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
        run_insert(&mut tx, v, "order_history", chunk.len()).await?;
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
        run_insert(&mut tx, v, "order_search", chunk.len()).await?;
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
    tx.commit().await?;
    Ok(())
}
