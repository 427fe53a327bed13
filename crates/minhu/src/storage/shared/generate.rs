// Part of the shared storage code (see rows.rs for how these files are compiled): the bulk load
// of the generator (`minhu gen`). Rows come finished, with their ids; they are written with
// multi-row INSERTs in one transaction. This file builds the statements; each backend runs
// them (`load_generated_batch`): PostgreSQL through sqlx (postgres.rs), SQLite on a rusqlite
// connection of its own (sqlite/bulk_write.rs).

use super::generated::{GeneratedBatch, GeneratorStart};

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

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

    /// The columns a row of the table is written with.
    fn columns(self) -> usize {
        match self {
            Self::Orders => 51,
            Self::Assignments => 25,
            Self::History => 10,
            Self::Search => 5,
        }
    }

    /// Rows per statement: as many as the bound values allow.
    fn rows_per_statement(self) -> usize {
        MAX_BINDS / self.columns()
    }
}

/// One multi-row `INSERT` of a bulk load, ready to run. Every statement is kept prepared: a
/// load writes thousands of them in a few sizes (`statement_sizes`), and parsing each again was
/// 5 % of the generator's samples (`sqlite3RunParser`).
struct BulkStatement {
    sql: String,
    args: ArgList,
}

/// The rows of each statement writing `rows` rows of which a statement holds at most `full`:
/// full statements, then the rest in falling powers of two, so that a load's statements come
/// in about a dozen sizes per table (one more than the bits of a full one) however its batches
/// are cut.
fn statement_sizes(rows: usize, full: usize) -> impl Iterator<Item = usize> {
    let full = full.max(1);
    let rest = rows % full;
    std::iter::repeat_n(full, rows / full).chain(
        (0..usize::BITS)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0),
    )
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
    // Room for every value at once: growing the lists of a statement's thirty thousand values
    // step by step was 5 % of a load's samples (reallocating, and faulting in fresh pages).
    let mut v = Values::with_capacity(count * part.columns());
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
    Ok(BulkStatement { sql, args })
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

/// A batch's rows in the order a load writes them, parents first (an assignment names its
/// order, a child assignment its parent).
struct BulkRows<'b> {
    batch: &'b GeneratedBatch,
    assignments: Vec<(i64, &'b Assignment)>,
    events: Vec<(i64, &'b HistoryEvent)>,
}

impl<'b> BulkRows<'b> {
    fn of(batch: &'b GeneratedBatch) -> Self {
        let assignments = batch
            .orders
            .iter()
            .flat_map(|g| {
                g.aggregate
                    .assignments
                    .iter()
                    .map(|a| (g.aggregate.order.id, a))
            })
            .collect();
        let events = batch
            .orders
            .iter()
            .flat_map(|g| g.events.iter().map(|e| (g.aggregate.order.id, e)))
            .collect();
        Self {
            batch,
            assignments,
            events,
        }
    }

    /// The statements that write the rows, built one at a time as they are asked for: the
    /// backends build each while the database runs the one before.
    fn statements(&self) -> impl Iterator<Item = StoreResult<BulkStatement>> + '_ {
        BulkPart::ALL.iter().flat_map(move |part| {
            let rows = match part {
                BulkPart::Orders | BulkPart::Search => self.batch.orders.len(),
                BulkPart::Assignments => self.assignments.len(),
                BulkPart::History => self.events.len(),
            };
            let mut first = 0;
            statement_sizes(rows, part.rows_per_statement()).map(move |size| {
                let range = first..first + size;
                first += size;
                bulk_statement(self.batch, &self.assignments, &self.events, *part, range)
            })
        })
    }
}

/// Raises a day's number sequence (`$1` the day, `$2` the last number a load used) to the last
/// number used, never lowering it.
const RAISE_SEQUENCE_SQL: &str = "INSERT INTO order_number_sequences (day, last_value) \
     VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET last_value = \
     CASE WHEN excluded.last_value > order_number_sequences.last_value \
     THEN excluded.last_value ELSE order_number_sequences.last_value END";
