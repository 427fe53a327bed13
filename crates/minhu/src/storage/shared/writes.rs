// Part of the shared storage code (see rows.rs for how these files are compiled): writing wide
// rows and the statements used inside transactions.

// ---------------------------------------------------------------------------------------------
// Writing wide rows: column names and values side by side, so they cannot drift apart
// ---------------------------------------------------------------------------------------------

/// Named values for an `INSERT` or `UPDATE` of a wide row.
struct Values {
    names: Vec<&'static str>,
    args: ArgList,
    error: Option<String>,
    /// Columns left out: [`Values::put`] ignores them.
    skip: Vec<&'static str>,
}

impl Values {
    fn new() -> Self {
        Self {
            names: Vec::new(),
            args: ArgList::default(),
            error: None,
            skip: Vec::new(),
        }
    }

    /// Values with room for `values` of them.
    fn with_capacity(values: usize) -> Self {
        Self {
            names: Vec::with_capacity(values),
            args: args_with_capacity(values),
            ..Self::new()
        }
    }

    /// Values that leave the columns `skip` out.
    fn without(skip: Vec<&'static str>) -> Self {
        Self {
            skip,
            ..Self::new()
        }
    }

    fn put<'q, T: BindValue<'q>>(&mut self, name: &'static str, value: T) -> &mut Self {
        if self.skip.contains(&name) {
            return self;
        }
        if let Err(err) = bind_value(&mut self.args, value) {
            self.error.get_or_insert_with(|| format!("{name}: {err}"));
        }
        self.names.push(name);
        self
    }

    /// The one value of a statement that takes a key alone (`$1`).
    fn key(name: &'static str, id: i64) -> StoreResult<ArgList> {
        let mut values = Self::new();
        values.put(name, id);
        values.args()
    }

    /// The values alone, for a statement written by hand.
    fn args(self) -> StoreResult<ArgList> {
        self.check()?;
        Ok(self.args)
    }

    fn check(&self) -> StoreResult<()> {
        match &self.error {
            Some(err) => Err(StoreError::Database(anyhow!("cannot bind value {err}"))),
            None => Ok(()),
        }
    }

    /// `INSERT INTO table (…) VALUES ($1, …) RETURNING id` and its arguments.
    fn insert(self, table: &str) -> StoreResult<(String, ArgList)> {
        self.check()?;
        let placeholders: Vec<String> = (1..=self.names.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({}) RETURNING id",
            self.names.join(", "),
            placeholders.join(", ")
        );
        Ok((sql, self.args))
    }

    /// `UPDATE table SET a = $1, … WHERE k = $n AND …`: the first `set` values are assigned, the
    /// rest are the conditions.
    fn update(self, table: &str, set: usize) -> StoreResult<(String, ArgList)> {
        self.check()?;
        let mut assignments = Vec::with_capacity(set);
        let mut conditions = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            let clause = format!("{name} = ${}", i + 1);
            if i < set {
                assignments.push(clause);
            } else {
                conditions.push(clause);
            }
        }
        let sql = format!(
            "UPDATE {table} SET {} WHERE {}",
            assignments.join(", "),
            conditions.join(" AND ")
        );
        Ok((sql, self.args))
    }
}

/// The order's columns that change over its life (everything but id, number, version, creation).
fn put_order_values(v: &mut Values, o: &Order, lead_unit_id: Option<i64>) -> StoreResult<()> {
    let deadline = o.active_deadline;
    v.put("channel", o.channel.as_str())
        .put("updated_at", ms(o.updated_at))
        .put("citizen_name", o.citizen.name.as_deref())
        .put("citizen_phone", o.citizen.phone.as_str())
        .put("citizen_contact_phone", o.citizen.contact_phone.as_deref())
        .put("citizen_gender", o.citizen.gender.map(|g| g.as_str()))
        .put(
            "citizen_enterprise_name",
            o.citizen.enterprise_name.as_deref(),
        )
        .put("citizen_confidential", flag(o.citizen.confidential))
        .put("citizen_tags", join_codes(&o.citizen.tags))
        .put("order_type", o.order_type.as_str())
        .put("category_id", o.category_id)
        .put("title", o.title.as_str())
        .put("content", o.content.as_str())
        .put("tags", json_text(&o.tags, "order tags")?)
        .put("urgency", o.urgency.as_str())
        .put("district_id", o.location.district_id)
        .put("street_id", o.location.street_id)
        .put("community_id", o.location.community_id)
        .put("address", o.location.address.as_str())
        .put("longitude", o.location.longitude)
        .put("latitude", o.location.latitude)
        .put("state", o.state.as_str())
        .put("dispatch_deadline_at", ms(o.dispatch_deadline_at))
        .put("deadline_start_at", deadline.map(|d| ms(d.start_at)))
        .put("deadline_at", deadline.map(|d| ms(d.deadline_at)))
        .put("yellow_at", deadline.map(|d| ms(d.yellow_at)))
        .put("visit_deadline_at", o.visit_deadline_at.map(ms))
        .put("reply", o.reply.as_deref())
        .put("knowledge_entry_id", o.knowledge_entry_id)
        .put("transfer_line", o.transfer_line.map(|x| x.as_str()))
        .put("legal_channel", o.legal_channel.map(|x| x.as_str()))
        .put("terminal_note", o.terminal_note.as_deref())
        .put("parent_order_id", o.parent_order_id)
        .put("closed_at", o.closed_at.map(ms))
        .put("solved", o.solved.map(|x| x.as_str()))
        .put("satisfaction", o.satisfaction.map(|x| x.as_str()))
        .put("visited_at", o.visited_at.map(ms))
        .put("redo_count", o.redo_count)
        .put("urge_count", o.urge_count)
        .put("supervision_count", o.supervision_count)
        .put("escalation", o.escalation.map(|x| x.as_str()))
        .put("leader_instruction", o.leader_instruction.as_deref())
        .put("appeal", o.appeal.map(|x| x.as_str()))
        .put("evaluation_excluded", flag(o.evaluation_excluded))
        .put("lead_unit_id", lead_unit_id);
    Ok(())
}

/// The columns of `orders` that an index holds and a transition may change.
const ORDER_INDEXED_COLUMNS: [&str; 8] = [
    "state",
    "citizen_phone",
    "category_id",
    "district_id",
    "street_id",
    "lead_unit_id",
    "deadline_at",
    "parent_order_id",
];

/// Reads [`ORDER_INDEXED_COLUMNS`] of order `$1` at version `$2`, each as text under its name.
static INDEXED_COLUMNS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let columns: Vec<String> = ORDER_INDEXED_COLUMNS
        .iter()
        .map(|name| format!("CAST({name} AS TEXT) AS {name}"))
        .collect();
    format!(
        "SELECT {} FROM orders WHERE id = $1 AND version = $2",
        columns.join(", ")
    )
});

/// The values of [`ORDER_INDEXED_COLUMNS`] for `o`, as text the way SQLite's and PostgreSQL's
/// `CAST(… AS TEXT)` gives them (decimal integers; `None` for NULL).
fn order_indexed_values(o: &Order, lead_unit_id: Option<i64>) -> [Option<String>; 8] {
    [
        Some(o.state.as_str().to_owned()),
        Some(o.citizen.phone.clone()),
        Some(o.category_id.to_string()),
        o.location.district_id.map(|id| id.to_string()),
        o.location.street_id.map(|id| id.to_string()),
        lead_unit_id.map(|id| id.to_string()),
        o.active_deadline.map(|d| ms(d.deadline_at).to_string()),
        o.parent_order_id.map(|id| id.to_string()),
    ]
}

/// Which of [`ORDER_INDEXED_COLUMNS`] an update of order `order_id` (at `version`) to `o` would
/// leave as they are: `None` if the order is not at that version (or not there).
///
/// SQLite rewrites the entries of every index whose column an `UPDATE` assigns, whether the
/// value changes or not: with the ten indexes of `orders`, an update that assigned every column
/// took 6 to 8 times as long as one that assigned only the changed ones (300,000 rows, 30,000
/// updates). A transition changes one or two of them (the state, the deadline), so its update
/// leaves the rest out; reading them first is one look-up of a row the update reads anyway.
async fn unchanged_indexed_columns(
    tx: &mut impl WriteTx,
    order_id: i64,
    version: i64,
    o: &Order,
    lead_unit_id: Option<i64>,
) -> StoreResult<Option<Vec<&'static str>>> {
    let mut key = Values::new();
    key.put("id", order_id).put("version", version);
    let stored: Option<IndexedValues> = tx
        .fetch_optional(INDEXED_COLUMNS_SQL.as_str(), key.args()?)
        .await?;
    let Some(IndexedValues(stored)) = stored else {
        return Ok(None);
    };
    Ok(Some(
        ORDER_INDEXED_COLUMNS
            .into_iter()
            .zip(stored)
            .zip(order_indexed_values(o, lead_unit_id))
            .filter(|((_, stored), value)| stored == value)
            .map(|((name, _), _)| name)
            .collect(),
    ))
}

/// The stored values of [`ORDER_INDEXED_COLUMNS`] ([`INDEXED_COLUMNS_SQL`]).
struct IndexedValues(Vec<Option<String>>);

impl FromResultRow for IndexedValues {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self> {
        ORDER_INDEXED_COLUMNS
            .iter()
            .map(|name| col::<Option<String>>(row, name))
            .collect::<StoreResult<Vec<_>>>()
            .map(Self)
    }
}

/// The assignment's columns besides id and order id.
fn put_assignment_values(v: &mut Values, a: &Assignment) -> StoreResult<()> {
    let ext = a.extension_request.as_ref();
    let ext_days = ext.map(|e| to_i32(e.days, "extension days")).transpose()?;
    v.put("unit_id", a.unit_id)
        .put("role", a.role.as_str())
        .put("state", a.state.as_str())
        .put("parent_assignment_id", a.parent_assignment_id)
        .put("dispatched_at", ms(a.dispatched_at))
        .put("dispatched_by", a.dispatched_by)
        .put("sign_deadline_at", ms(a.sign_deadline_at))
        .put("return_deadline_at", ms(a.return_deadline_at))
        .put("handle_start_at", ms(a.handle_start_at))
        .put("handle_deadline_at", ms(a.handle_deadline_at))
        .put("signed_at", a.signed_at.map(ms))
        .put("signed_by", a.signed_by)
        .put("reply", a.reply.as_deref())
        .put("replied_at", a.replied_at.map(ms))
        .put("replied_by", a.replied_by)
        .put("return_reason", a.return_reason.as_deref())
        .put("ext_days", ext_days)
        .put("ext_reason", ext.map(|e| e.reason.as_str()))
        .put("ext_requested_at", ext.map(|e| ms(e.requested_at)))
        .put("ext_requested_by", ext.map(|e| e.requested_by))
        .put(
            "ext_proposed_deadline_at",
            ext.map(|e| ms(e.proposed_deadline_at)),
        )
        .put("extension_count", a.extension_count)
        .put("urge_count", a.urge_count);
    Ok(())
}

/// The columns of a history line of order `order_id` (its id is the database's).
fn put_history_values(v: &mut Values, order_id: i64, e: &HistoryEvent) -> StoreResult<()> {
    v.put("order_id", order_id)
        .put("at", ms(e.at))
        .put("actor_id", e.actor_id)
        .put("actor_unit_id", e.actor_unit_id)
        .put("action", e.action.as_str())
        .put("from_state", e.from_state.map(|s| s.as_str()))
        .put("to_state", e.to_state.as_str())
        .put("unit_id", e.unit_id)
        .put("text", e.text.as_deref())
        .put("details", json_text(&e.details, "history details")?);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Where the statements of a write run
// ---------------------------------------------------------------------------------------------

/// An open write transaction the shared write statements run in: an sqlx transaction on either
/// backend, and on SQLite also the group committer's own connection (`sqlite/direct_write.rs`),
/// so that a registration or a transition is written by one text whichever runs it.
trait WriteTx {
    /// Runs `sql` with `args` and maps every row it returns. `keep_prepared` keeps the
    /// statement prepared for the next run of the same text.
    async fn fetch<T: FromResultRow>(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<Vec<T>, WriteError>;

    /// Runs `sql` (which returns no rows) with `args`; answers how many rows it changed.
    async fn execute(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<u64, WriteError>;

    /// The first row `sql` returns, if any.
    async fn fetch_optional<T: FromResultRow>(
        &mut self,
        sql: &str,
        args: ArgList,
    ) -> Result<Option<T>, WriteError> {
        Ok(self.fetch(sql, args, true).await?.into_iter().next())
    }

    /// The first row `sql` returns, which it must return.
    async fn fetch_one<T: FromResultRow>(
        &mut self,
        sql: &str,
        args: ArgList,
    ) -> Result<T, WriteError> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(WriteError::Other(StoreError::NotFound))
    }
}

impl WriteTx for sqlx::Transaction<'_, Db> {
    async fn fetch<T: FromResultRow>(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<Vec<T>, WriteError> {
        let rows = sqlx::query_with(AssertSqlSafe(sql.to_owned()), db_args(args)?)
            .persistent(keep_prepared)
            .fetch_all(&mut **self)
            .await?;
        Ok(rows
            .iter()
            .map(T::from_row)
            .collect::<StoreResult<Vec<T>>>()?)
    }

    async fn execute(
        &mut self,
        sql: &str,
        args: ArgList,
        keep_prepared: bool,
    ) -> Result<u64, WriteError> {
        let done = sqlx::query_with(AssertSqlSafe(sql.to_owned()), db_args(args)?)
            .persistent(keep_prepared)
            .execute(&mut **self)
            .await?;
        Ok(done.rows_affected())
    }
}

/// What a row read back by a write becomes ([`WriteTx::fetch`]).
trait FromResultRow: Sized {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self>;
}

impl FromResultRow for Order {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self> {
        order_from_row(row)
    }
}

impl FromResultRow for HistoryEntry {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self> {
        history_from_row(row)
    }
}

impl FromResultRow for Assignment {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self> {
        assignment_from_row(row)
    }
}

/// The `id` column of a row.
struct RowId(i64);

impl FromResultRow for RowId {
    fn from_row(row: &impl ResultRow) -> StoreResult<Self> {
        Ok(Self(col(row, "id")?))
    }
}

// ---------------------------------------------------------------------------------------------
// Statements used inside transactions
// ---------------------------------------------------------------------------------------------

/// One registration as the store writes it: the order, its first history lines, the local day
/// its number is drawn for, and its search document (cut by the caller, before any lock).
struct NewOrder {
    order: Order,
    events: Vec<HistoryEvent>,
    local_date: NaiveDate,
    doc: OrderSearchDocument,
}

/// Writes registrations inside `tx` with one statement per table for all of them: draws each
/// one's number (one upsert per local day, raising the day's counter by as many), inserts the
/// orders (returning them as stored), their history lines and their search documents. Returns
/// the stored orders in the order of `news`. Does not commit. Any failure fails them all; the
/// caller rolls back (SQLite's committer then retries each alone, to find the one at fault).
///
/// Four statements whatever the number of orders: registering one order used to take six (a
/// separate read-back of the row), and every statement is a trip to the database's thread.
///
/// The upsert of `order_number_sequences` takes the day's row lock on PostgreSQL, so concurrent
/// registrations (also from other app nodes) queue there and numbers are unique and without
/// gaps. On SQLite one connection writes, and the numbers are drawn inside the same transaction
/// (or savepoint) as the orders: if they fail and roll back, the counter rolls back with them
/// and the next registration gets those numbers, so no gap opens.
async fn insert_new_orders(
    tx: &mut impl WriteTx,
    news: &[&NewOrder],
) -> StoreResult<Vec<RegisteredOrder>> {
    let mut docs = SearchRows::default();
    let orders = insert_new_order_rows(tx, news, &mut docs).await?;
    write_search_rows(tx, &docs.rows).await?;
    Ok(orders)
}

/// [`insert_new_orders`] without the search documents, which go to `docs` for the caller to
/// write ([`write_search_rows`]) as the last statement of the transaction.
async fn insert_new_order_rows(
    tx: &mut impl WriteTx,
    news: &[&NewOrder],
    docs: &mut SearchRows,
) -> StoreResult<Vec<RegisteredOrder>> {
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers = vec![String::new(); news.len()];
    let mut days: Vec<NaiveDate> = news.iter().map(|new| new.local_date).collect();
    days.sort_unstable();
    days.dedup();
    for day in days {
        let count = news.iter().filter(|new| new.local_date == day).count();
        let mut drawn = Values::new();
        drawn
            .put("day", date_text(day))
            .put("last_value", i64::try_from(count).unwrap_or(i64::MAX));
        let RowId(last) = tx
            .fetch_one(
                "INSERT INTO order_number_sequences (day, last_value) VALUES ($1, $2) \
                 ON CONFLICT (day) DO UPDATE \
                 SET last_value = order_number_sequences.last_value + excluded.last_value \
                 RETURNING last_value AS id",
                drawn.args()?,
            )
            .await?;
        let mut seq = last - i64::try_from(count).unwrap_or(i64::MAX);
        for (slot, new) in numbers.iter_mut().zip(news) {
            if new.local_date == day {
                seq += 1;
                *slot = order_number(day, seq);
            }
        }
    }

    let mut by_number = std::collections::HashMap::with_capacity(news.len());
    for run in prepared_runs(news.len()) {
        let mut values = Values::new();
        // The runs lie within 0..news.len() (`prepared_runs`), as do the numbers drawn.
        for (new, number) in news[run.clone()].iter().zip(&numbers[run.clone()]) {
            let order = &new.order;
            values
                .put("number", number.as_str())
                .put("version", order.version)
                .put("created_at", ms(order.created_at))
                .put("created_by", order.created_by);
            put_order_values(&mut values, order, None)?;
        }
        let (mut sql, args) = multi_insert(values, "orders", run.len())?;
        // RETURNING gives no promise about the order of its rows: they are matched by number.
        sql.push_str(" RETURNING *");
        let rows: Vec<Order> = tx
            .fetch(&sql, args, true)
            .await
            .map_err(|err| classify(err, "number", "category_id"))?;
        for order in rows {
            by_number.insert(order.number.clone(), order);
        }
    }
    let orders = numbers
        .iter()
        .map(|number| {
            by_number.remove(number).ok_or_else(|| {
                StoreError::Database(anyhow!("order {number} was not returned by its insert"))
            })
        })
        .collect::<StoreResult<Vec<Order>>>()?;

    let events: Vec<(i64, &HistoryEvent)> = news
        .iter()
        .zip(&orders)
        .flat_map(|(new, order)| new.events.iter().map(|event| (order.id, event)))
        .collect();
    // The lines come back as stored (their ids) for the registration's answer, which would
    // otherwise read them again after the commit.
    let mut lines: std::collections::HashMap<i64, Vec<HistoryEntry>> =
        std::collections::HashMap::with_capacity(orders.len());
    for run in prepared_runs(events.len()) {
        let mut values = Values::new();
        for (order_id, event) in &events[run.clone()] {
            put_history_values(&mut values, *order_id, event)?;
        }
        let (mut sql, args) = multi_insert(values, "order_history", run.len())?;
        sql.push_str(" RETURNING *");
        let rows: Vec<HistoryEntry> = tx.fetch(&sql, args, true).await?;
        for line in rows {
            lines.entry(line.order_id).or_default().push(line);
        }
    }

    let mut registered = Vec::with_capacity(orders.len());
    for (new, order) in news.iter().zip(orders) {
        let mut doc = new.doc.clone();
        doc.title_terms = format!("{} {}", order.number, doc.title_terms);
        docs.push(order.id, doc);
        // In the order an order's history is read (`ORDER BY id`); RETURNING promises none.
        let mut history = lines.remove(&order.id).unwrap_or_default();
        history.sort_unstable_by_key(|line| line.id);
        registered.push(RegisteredOrder { order, history });
    }
    Ok(registered)
}

/// The statement sizes a batch's rows are written in, each statement kept prepared: a batch of
/// `n` rows is one statement per set bit of `n` (45 = 32 + 8 + 4 + 1), runs of 64 beyond.
/// Statements of exactly the batch's size were new to the connection's statement cache with
/// nearly every batch, and parsing them was 11 % of the write connection's time under `create`
/// (`sqlite3RunParser`); the seven sizes of each table stay in the cache instead. (Keeping every
/// batch size instead held tens of megabytes of the server's memory after a few minutes: a
/// hundred prepared statements of thousands of parameters each.)
const PREPARED_RUN_ROWS: usize = 64;

/// The runs of rows (ranges of `0..n`) a batch of `n` rows is written in, largest first.
fn prepared_runs(n: usize) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    while n - start >= PREPARED_RUN_ROWS {
        runs.push(start..start + PREPARED_RUN_ROWS);
        start += PREPARED_RUN_ROWS;
    }
    let mut size = PREPARED_RUN_ROWS / 2;
    while size > 0 {
        if (n - start) & size != 0 {
            runs.push(start..start + size);
            start += size;
        }
        size /= 2;
    }
    runs
}

/// One `INSERT` of audit lines and its arguments.
fn audit_insert(entries: &[&NewAuditEntry]) -> StoreResult<(String, ArgList)> {
    let mut values = Values::new();
    for entry in entries {
        values
            .put("at", ms(entry.at))
            .put("user_id", entry.user_id)
            .put("action", entry.action.as_str())
            .put("target", entry.target.as_str())
            .put("detail", entry.detail.as_deref())
            .put("address", entry.address.as_deref());
    }
    multi_insert(values, "audit_log", entries.len())
}

/// Appends history lines; returns their ids, in order.
async fn insert_events(
    tx: &mut impl WriteTx,
    order_id: i64,
    events: &[HistoryEvent],
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(events.len());
    for event in events {
        let mut values = Values::new();
        put_history_values(&mut values, order_id, event)?;
        let (sql, args) = values.insert("order_history")?;
        let RowId(id) = tx.fetch_one(&sql, args).await?;
        ids.push(id);
    }
    Ok(ids)
}

async fn load_aggregate_in<'e, E>(
    executor: E,
    order: Option<DbRow>,
) -> StoreResult<Option<OrderAggregate>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let Some(row) = order else {
        return Ok(None);
    };
    let order = order_from_row(&row)?;
    let rows = sqlx::query(ORDER_ASSIGNMENTS_SQL)
        .bind(order.id)
        .fetch_all(executor)
        .await?;
    let assignments = rows
        .iter()
        .map(assignment_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(OrderAggregate { order, assignments }))
}

/// Appends the `WHERE` conditions of an order list (after a `WHERE 1 = 1`).
fn push_order_filters(
    qb: &mut QueryBuilder<Db>,
    filter: &OrderFilter,
    scope: &Scope,
    unit_path: Option<&Option<String>>,
    category_path: Option<&Option<String>>,
    now: i64,
) {
    match scope {
        Scope::All => {}
        // An empty prefix would match every unit: refuse it rather than show everything.
        Scope::UnitSubtree { path_prefix } if path_prefix.is_empty() => {
            qb.push(" AND 1 = 0");
        }
        Scope::UnitSubtree { path_prefix } => push_unit_subtree(qb, path_prefix),
    }
    if !filter.states.is_empty() {
        qb.push(" AND orders.state IN ");
        push_bind_list(qb, filter.states.iter().map(|state| state.as_str()));
    }
    match unit_path {
        None => {}
        Some(Some(path)) => push_unit_subtree(qb, path),
        Some(None) => {
            qb.push(" AND 1 = 0");
        }
    }
    match category_path {
        None => {}
        Some(Some(path)) => {
            qb.push(" AND orders.category_id IN (SELECT c.id FROM categories c WHERE c.path LIKE ");
            qb.push_bind(like_prefix(path));
            qb.push(" ESCAPE '\\')");
        }
        Some(None) => {
            qb.push(" AND 1 = 0");
        }
    }
    if let Some(district_id) = filter.district_id {
        qb.push(" AND orders.district_id = ").push_bind(district_id);
    }
    if let Some(order_type) = filter.order_type {
        qb.push(" AND orders.order_type = ")
            .push_bind(order_type.as_str());
    }
    if let Some(channel) = filter.channel {
        qb.push(" AND orders.channel = ")
            .push_bind(channel.as_str());
    }
    if let Some(urgency) = filter.urgency {
        qb.push(" AND orders.urgency = ")
            .push_bind(urgency.as_str());
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND orders.created_at >= ").push_bind(ms(from));
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND orders.created_at < ").push_bind(ms(to));
    }
    if let Some(phone) = &filter.phone {
        qb.push(" AND orders.citizen_phone = ")
            .push_bind(phone.clone());
    }
    if let Some(number) = &filter.number {
        qb.push(" AND orders.number = ").push_bind(number.clone());
    }
    if filter.has_pending_extension {
        qb.push(
            " AND EXISTS (SELECT 1 FROM assignments x WHERE x.order_id = orders.id \
             AND x.ext_requested_at IS NOT NULL)",
        );
    }
    if let Some(appeal) = filter.appeal {
        qb.push(" AND orders.appeal = ").push_bind(appeal.as_str());
    }
    if let Some(parent) = filter.parent_order_id {
        qb.push(" AND orders.parent_order_id = ").push_bind(parent);
    }
    if let Some(assignment) = &filter.assignment {
        push_assignment_filter(qb, assignment, now);
    }
    match filter.warning {
        None => {}
        Some(WarningLevel::Red) => {
            qb.push(" AND orders.deadline_at IS NOT NULL AND orders.deadline_at <= ")
                .push_bind(now);
        }
        Some(WarningLevel::Yellow) => {
            qb.push(" AND orders.yellow_at <= ")
                .push_bind(now)
                .push(" AND orders.deadline_at > ")
                .push_bind(now);
        }
        Some(WarningLevel::Green) => {
            qb.push(" AND (orders.deadline_at IS NULL OR orders.yellow_at > ")
                .push_bind(now)
                .push(")");
        }
    }
}

/// Orders with an assignment on a unit whose path starts with `path_prefix`.
fn push_unit_subtree(qb: &mut QueryBuilder<Db>, path_prefix: &str) {
    qb.push(
        " AND EXISTS (SELECT 1 FROM assignments a JOIN units u ON u.id = a.unit_id \
         WHERE a.order_id = orders.id AND u.path LIKE ",
    );
    qb.push_bind(like_prefix(path_prefix));
    qb.push(" ESCAPE '\\')");
}

/// Orders holding an assignment that matches `filter` (a unit's work queue).
fn push_assignment_filter(qb: &mut QueryBuilder<Db>, filter: &super::AssignmentFilter, now: i64) {
    qb.push(" AND orders.id IN (SELECT q.order_id FROM assignments q WHERE 1 = 1");
    push_assignment_conditions(qb, filter, now);
    qb.push(")");
}

/// The conditions of `filter` on the assignment `q`, each starting with ` AND `.
fn push_assignment_conditions(
    qb: &mut QueryBuilder<Db>,
    filter: &super::AssignmentFilter,
    now: i64,
) {
    if let Some(unit_id) = filter.unit_id {
        qb.push(" AND q.unit_id = ").push_bind(unit_id);
    }
    if let Some(parent_unit_id) = filter.parent_unit_id {
        qb.push(
            " AND q.parent_assignment_id IN (SELECT p.id FROM assignments p WHERE p.unit_id = ",
        )
        .push_bind(parent_unit_id)
        .push(")");
    }
    if !filter.roles.is_empty() {
        qb.push(" AND q.role IN ");
        push_bind_list(qb, filter.roles.iter().map(|role| role.as_str()));
    }
    if !filter.states.is_empty() {
        qb.push(" AND q.state IN ");
        push_bind_list(qb, filter.states.iter().map(|state| state.as_str()));
    }
    if filter.pending_extension {
        qb.push(" AND q.ext_requested_at IS NOT NULL");
    }
    // Yellow once what is left of the span is at most `yellow_share` of it, in whole integers
    // (parts per million) so that both backends compute the same.
    let share_ppm = yellow_share_ppm(filter.yellow_share);
    match filter.warning {
        None => {}
        Some(WarningLevel::Red) => {
            qb.push(" AND q.handle_deadline_at <= ").push_bind(now);
        }
        Some(level) => {
            qb.push(" AND q.handle_deadline_at > ")
                .push_bind(now)
                .push(" AND (q.handle_deadline_at - ")
                .push_bind(now)
                .push(if level == WarningLevel::Yellow {
                    ") * 1000000 <= "
                } else {
                    ") * 1000000 > "
                })
                .push_bind(share_ppm)
                .push(" * (q.handle_deadline_at - q.handle_start_at)");
        }
    }
}

/// A share in `[0, 1]` (NaN: 0) in parts per million.
fn yellow_share_ppm(share: f64) -> i64 {
    let share = if share.is_nan() {
        0.0
    } else {
        share.clamp(0.0, 1.0)
    };
    // In [0, 1_000_000]: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let ppm = (share * 1_000_000.0).round() as i64;
    ppm
}

#[cfg(test)]
mod prepared_run_tests {
    use super::{PREPARED_RUN_ROWS, prepared_runs};

    #[test]
    fn runs_cover_the_rows_in_order_with_the_prepared_sizes() {
        for n in 0..300 {
            let runs = prepared_runs(n);
            let mut next = 0;
            for run in &runs {
                assert_eq!(run.start, next, "{n}: {runs:?}");
                assert!(run.len().is_power_of_two() && run.len() <= PREPARED_RUN_ROWS);
                next = run.end;
            }
            assert_eq!(next, n, "{n}: {runs:?}");
            // Largest first, and below 64 each size at most once.
            assert!(runs.windows(2).all(|w| w[0].len() >= w[1].len()));
            let small: Vec<usize> = runs
                .iter()
                .map(|r| r.len())
                .filter(|len| *len < PREPARED_RUN_ROWS)
                .collect();
            assert_eq!(small.len(), (n % PREPARED_RUN_ROWS).count_ones() as usize);
        }
        assert_eq!(
            prepared_runs(45)
                .iter()
                .map(|r| r.len())
                .collect::<Vec<_>>(),
            [32, 8, 4, 1]
        );
    }
}
