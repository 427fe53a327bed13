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
fn multi_insert(values: Values, table: &str, rows: usize) -> StoreResult<(String, ArgList)> {
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

/// The tables a bulk load writes, in the order it writes them.
#[derive(Debug, Clone, Copy)]
enum BulkPart {
    Orders,
    Assignments,
    History,
    Search,
}

impl BulkPart {
    const ALL: [Self; 4] = [Self::Orders, Self::Assignments, Self::History, Self::Search];

    fn table(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Assignments => "assignments",
            Self::History => "order_history",
            Self::Search => "order_search",
        }
    }

    /// Rows per statement: as many as the bound values allow.
    fn rows_per_statement(self) -> usize {
        let columns = match self {
            Self::Orders => 51,
            Self::Assignments => 25,
            Self::History => 10,
            Self::Search => 5,
        };
        MAX_BINDS / columns
    }
}

/// One multi-row `INSERT` of a bulk load, ready to run.
struct BulkStatement {
    sql: String,
    args: DbArgs,
    /// A statement of a full chunk is kept prepared: a load writes thousands of chunks of the
    /// same size, and parsing each again was 5 % of the generator's samples
    /// (`sqlite3RunParser`). Only the few full-size statements are kept, one per table; the
    /// partial last chunk of each table is not.
    keep_prepared: bool,
}

/// The statement writing `rows` of `part`.
fn bulk_statement(
    batch: &GeneratedBatch,
    assignments: &[(i64, &Assignment)],
    events: &[(i64, &HistoryEvent)],
    part: BulkPart,
    rows: std::ops::Range<usize>,
) -> StoreResult<BulkStatement> {
    let count = rows.len();
    let mut v = Values::new();
    match part {
        BulkPart::Orders => {
            for g in batch.orders.get(rows).unwrap_or_default() {
                let o = &g.aggregate.order;
                v.put("id", o.id)
                    .put("number", o.number.as_str())
                    .put("version", o.version)
                    .put("created_at", ms(o.created_at))
                    .put("created_by", o.created_by);
                put_order_values(&mut v, o, lead_unit_of(&g.aggregate.assignments))?;
            }
        }
        BulkPart::Assignments => {
            for (order_id, a) in assignments.get(rows).unwrap_or_default() {
                v.put("id", a.id).put("order_id", *order_id);
                put_assignment_values(&mut v, a)?;
            }
        }
        BulkPart::History => {
            for (order_id, e) in events.get(rows).unwrap_or_default() {
                put_history_values(&mut v, *order_id, e)?;
            }
        }
        BulkPart::Search => {
            for g in batch.orders.get(rows).unwrap_or_default() {
                v.put("order_id", g.aggregate.order.id)
                    .put("title_terms", g.search.title_terms.as_str())
                    .put("body_terms", g.search.body_terms.as_str())
                    .put("caller_terms", g.search.caller_terms.as_str())
                    .put("similarity_words", g.search.similarity_words.as_str());
            }
        }
    }
    let (sql, args) = multi_insert(v, part.table(), count)?;
    Ok(BulkStatement {
        sql,
        args: db_args(args)?,
        keep_prepared: count == 1 || count == part.rows_per_statement(),
    })
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

    // The rows go in multi-row statements, parents first (an assignment names its order, a
    // child assignment its parent). Each statement's values are built while the connection's
    // thread runs the one before: built in turn, they left the connection idle for a fifth of
    // the load (the main thread 2,684 samples, the connection's 9,420, serially).
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
    let events: Vec<(i64, &HistoryEvent)> = batch
        .orders
        .iter()
        .flat_map(|g| g.events.iter().map(|e| (g.aggregate.order.id, e)))
        .collect();
    let parts = BulkPart::ALL.iter().flat_map(|part| {
        let rows = match part {
            BulkPart::Orders | BulkPart::Search => batch.orders.len(),
            BulkPart::Assignments => assignments.len(),
            BulkPart::History => events.len(),
        };
        let per_statement = part.rows_per_statement();
        (0..rows)
            .step_by(per_statement)
            .map(move |first| (*part, first..rows.min(first + per_statement)))
    });
    let mut statements =
        parts.map(|(part, rows)| bulk_statement(batch, &assignments, &events, part, rows));
    let mut next = statements.next().transpose()?;
    while let Some(statement) = next {
        let running = sqlx::query_with(AssertSqlSafe(statement.sql), statement.args)
            .persistent(statement.keep_prepared)
            .execute(&mut *tx);
        let mut running = std::pin::pin!(running);
        // The first poll hands the statement to the connection's thread.
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

    // Explicit ids on PostgreSQL: move the identity sequences past them. Two load transactions
    // may run at once (`BULK_WRITERS`), each with its own ids, committing in either order; the
    // lock, held to the commit, lets one at a time set the sequences, so that the second's
    // `MAX(id)` sees the first's rows and a sequence is never moved back. `setval` itself is
    // not undone by a rollback.
    if BACKEND_NAME == "postgres" {
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
    }
    if BACKEND_NAME == "sqlite" {
        set_fts_hash_size(&mut tx, FTS_DEFAULT_HASH_BYTES).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The advisory lock (a key of PostgreSQL's one shared space of them) under which a load's
/// transaction moves the identity sequences; "minhu.sq" in ASCII.
const BULK_SEQUENCE_LOCK: i64 = 0x6d69_6e68_752e_7371;

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
