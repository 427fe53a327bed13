// The storage code both backends share: SQL text, row mapping and the `Store` implementation,
// written once.
//
// This file is not a module. Each backend module (`sqlite.rs`, `postgres.rs`) defines
//
//     type Db = sqlx::Sqlite;            // or sqlx::Postgres
//     type Pool = sqlx::Pool<Db>;
//     type DbRow = sqlx::sqlite::SqliteRow;  // or sqlx::postgres::PgRow: a result row, named
//                                          // (not `<Db as Database>::Row`) so that `ResultRow`
//                                          // can be implemented for it beside other row types
//     async fn begin_write(pool: &Pool) -> sqlx::Result<Tx>;
//     pub struct SqliteStore { write: Pool, read: Pool }    // or PgStore
//     type BackendStore = SqliteStore;                      // or PgStore
//     const BACKEND_NAME: &str;
//     trait ColumnValue;     // the column types its rows decode (see `ResultRow`)
//     trait BindValue;       // the value types its statements bind (see `Values`), gathered in
//     type ArgList;          // an `ArgList` by `bind_value` and made sqlx's by `db_args`
//     async fn run_migrations(pool: &Pool) -> StoreResult<()>;
//     async fn backup_database(store: &BackendStore, path: &str) -> StoreResult<()>;
//     async fn commit_new_order(store: &BackendStore, new: NewOrder) -> StoreResult<Order>;
//     async fn read_order(store: &BackendStore, key: OrderKey<'_>) -> …;  // and read_history,
//                                          // read_attachments, read_replies (order_reads.rs)
//
// (`commit_new_order` is where registrations differ: SQLite gathers concurrent ones into one
// commit, see `sqlite/group_commit.rs`; PostgreSQL commits each in its own transaction.)
//
// and then includes `shared/rows.rs`, `shared/writes.rs` and `shared/operations.rs`, so that
// the same text is compiled, and type-checked, once against each driver; `operations.rs` holds
// the single `impl Store for BackendStore`. The SQL keeps to what both dialects accept: `$n`
// placeholders (SQLite reads `$1` as parameter 1), `RETURNING`, `ON CONFLICT … DO UPDATE`,
// `LIKE … ESCAPE`. The schema avoids type differences: ids and timestamps are 64-bit integers
// (milliseconds since the Unix epoch, UTC), booleans and small counts are 32-bit integers (0/1),
// enums are text codes, dates are `YYYY-MM-DD` text. What differs per backend (connecting,
// pragmas, pools, migrations, backup) lives in the backend module.
//
// Being included, this file cannot carry `//!` docs or inner attributes, and `cargo fmt` does not
// reach it: run `rustfmt --edition 2024 crates/minhu/src/storage/shared/*.rs`.

use anyhow::anyhow;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minhu_domain::calendar::CalendarDay;
use minhu_domain::{
    ActiveDeadline, Assignment, CallerTag, Citizen, ExtensionRequest, HistoryEvent, Location,
    Order, OrderAggregate, PolicyRule, TimeLimit, Transition, UnitInfo, UnknownCode, WarningLevel,
};
use sqlx::error::ErrorKind;
use sqlx::{AssertSqlSafe, QueryBuilder, Row as _};

use super::{
    Announcement, AuditEntry, CatalogueEntry, Category, CategoryPatch, HistoryEntry,
    LoginFailureCounts, NewAnnouncement, NewAuditEntry, NewCatalogueEntry, NewCategory,
    NewPolicyRule, NewToken, NewUnit, NewUser, OrderFilter, OrderListItem, OrderPage, PageRequest,
    RegisteredOrder, RepeatCandidate, RepeatQuery, Scope, Store, StoreError, StoreResult,
    TokenHolder, UnitPatch, User, UserPatch, format_roles, parse_roles,
};

/// A transaction on this backend.
type Tx = sqlx::Transaction<'static, Db>;
/// Bind arguments of this backend's sqlx queries (the shared code gathers its values in the
/// backend's `ArgList` and turns them into these with `db_args`).
type DbArgs = <Db as sqlx::Database>::Arguments;

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

/// A timestamp as stored: milliseconds since the Unix epoch.
fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored timestamp back.
fn from_ms(value: i64, column: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(value).ok_or_else(|| {
        StoreError::Database(anyhow!(
            "column `{column}` holds an impossible timestamp {value}"
        ))
    })
}

/// Now, at the precision the database keeps (so that what is returned equals what is read back).
fn now_ms() -> StoreResult<DateTime<Utc>> {
    from_ms(ms(Utc::now()), "now")
}

fn flag(value: bool) -> i32 {
    i32::from(value)
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn to_i32(value: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(value).map_err(|_| StoreError::Database(anyhow!("{what} {value} is too large")))
}

fn to_u32(value: i32, column: &str) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| {
        StoreError::Database(anyhow!("column `{column}` holds a negative value {value}"))
    })
}

fn parse_code<T>(value: &str, column: &str) -> StoreResult<T>
where
    T: std::str::FromStr<Err = UnknownCode>,
{
    value.parse::<T>().map_err(|err| {
        StoreError::Database(anyhow!("column `{column}` holds an unknown code: {err}"))
    })
}

/// Comma-separated codes of an enum list.
fn join_codes<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn split_codes<T>(value: &str, column: &str) -> StoreResult<Vec<T>>
where
    T: std::str::FromStr<Err = UnknownCode>,
{
    value
        .split(',')
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(|code| parse_code(code, column))
        .collect()
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T, what: &str) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|err| StoreError::Database(anyhow!("cannot serialise {what}: {err}")))
}

/// A `LIKE` pattern matching every text that starts with `prefix` (escape character `\`).
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The number of `local_date`'s `seq`-th order: `YYYYMMDD` and at least six digits.
fn order_number(local_date: NaiveDate, seq: i64) -> String {
    format!("{}{seq:06}", local_date.format("%Y%m%d"))
}

/// The unit of the open top-level lead assignment (what `OrderAggregate::open_lead` finds).
fn lead_unit_of(assignments: &[Assignment]) -> Option<i64> {
    assignments
        .iter()
        .find(|a| a.is_lead() && a.parent_assignment_id.is_none() && a.state.is_open())
        .map(|a| a.unit_id)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a write statement failed ([`WriteTx`]): the constraint violations kept apart, so that
/// [`classify`] can name the field at fault, whichever driver ran the statement.
#[derive(Debug)]
enum WriteError {
    /// A unique (or primary key) constraint, with the database's message.
    Unique(String),
    /// A foreign key, with the database's message.
    ForeignKey(String),
    Other(StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            match db.kind() {
                ErrorKind::UniqueViolation => return Self::Unique(db.message().to_owned()),
                ErrorKind::ForeignKeyViolation => return Self::ForeignKey(db.message().to_owned()),
                _ => {}
            }
        }
        Self::Other(StoreError::from(err))
    }
}

impl From<StoreError> for WriteError {
    fn from(err: StoreError) -> Self {
        Self::Other(err)
    }
}

impl From<WriteError> for StoreError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Unique(message) | WriteError::ForeignKey(message) => {
                Self::Database(anyhow!("{message}"))
            }
            WriteError::Other(err) => err,
        }
    }
}

/// Maps a unique violation to `Duplicate { unique }` and a foreign-key violation to
/// `InvalidReference { reference }`; anything else as usual.
fn classify(err: impl Into<WriteError>, unique: &str, reference: &str) -> StoreError {
    match err.into() {
        WriteError::Unique(_) => StoreError::Duplicate {
            field: unique.to_owned(),
        },
        WriteError::ForeignKey(_) => StoreError::InvalidReference {
            field: reference.to_owned(),
        },
        WriteError::Other(err) => err,
    }
}

fn invalid_reference(field: &str) -> StoreError {
    StoreError::InvalidReference {
        field: field.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading rows
// ---------------------------------------------------------------------------------------------

/// A result row as a driver read it: sqlx's row on either backend, and on SQLite also a row of a
/// direct read (rusqlite, `sqlite/direct_read.rs`), so that one mapping of an order, an
/// assignment, a history line or an attachment serves both ways of reading it.
trait ResultRow {
    /// The value of column `name` (each backend's `ColumnValue` says which types it decodes).
    fn value<T: ColumnValue>(&self, name: &str) -> StoreResult<T>;
}

impl ResultRow for DbRow {
    fn value<T: ColumnValue>(&self, name: &str) -> StoreResult<T> {
        self.try_get::<T, _>(name)
            .map_err(|err| StoreError::Database(anyhow!("reading column `{name}`: {err}")))
    }
}

fn col<T: ColumnValue>(row: &impl ResultRow, name: &str) -> StoreResult<T> {
    row.value(name)
}

fn ts_col(row: &impl ResultRow, name: &str) -> StoreResult<DateTime<Utc>> {
    from_ms(col::<i64>(row, name)?, name)
}

fn ts_opt_col(row: &impl ResultRow, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
    col::<Option<i64>>(row, name)?
        .map(|v| from_ms(v, name))
        .transpose()
}

fn bool_col(row: &impl ResultRow, name: &str) -> StoreResult<bool> {
    Ok(col::<i32>(row, name)? != 0)
}

fn code_col<T>(row: &impl ResultRow, name: &str) -> StoreResult<T>
where
    T: std::str::FromStr<Err = UnknownCode>,
{
    parse_code(&col::<String>(row, name)?, name)
}

fn code_opt_col<T>(row: &impl ResultRow, name: &str) -> StoreResult<Option<T>>
where
    T: std::str::FromStr<Err = UnknownCode>,
{
    col::<Option<String>>(row, name)?
        .map(|code| parse_code(&code, name))
        .transpose()
}

fn unit_from_row(row: &DbRow) -> StoreResult<UnitInfo> {
    Ok(UnitInfo {
        id: col(row, "id")?,
        code: col(row, "code")?,
        name: col(row, "name")?,
        kind: code_col(row, "kind")?,
        parent_id: col(row, "parent_id")?,
        path: col(row, "path")?,
        is_dispatch_point: bool_col(row, "is_dispatch_point")?,
        active: bool_col(row, "active")?,
    })
}

fn user_from_row(row: &impl ResultRow) -> StoreResult<User> {
    Ok(User {
        id: col(row, "id")?,
        username: col(row, "username")?,
        display_name: col(row, "display_name")?,
        unit_id: col(row, "unit_id")?,
        roles: parse_roles(&col::<String>(row, "roles")?),
        active: bool_col(row, "active")?,
        password_hash: col(row, "password_hash")?,
        created_at: ts_col(row, "created_at")?,
    })
}

fn category_from_row(row: &DbRow) -> StoreResult<Category> {
    Ok(Category {
        id: col(row, "id")?,
        code: col(row, "code")?,
        name: col(row, "name")?,
        parent_id: col(row, "parent_id")?,
        level: col(row, "level")?,
        path: col(row, "path")?,
        active: bool_col(row, "active")?,
    })
}

fn policy_from_row(row: &DbRow) -> StoreResult<PolicyRule> {
    Ok(PolicyRule {
        id: col(row, "id")?,
        category_id: col(row, "category_id")?,
        order_type: code_opt_col(row, "order_type")?,
        urgency: code_opt_col(row, "urgency")?,
        step: code_col(row, "step")?,
        limit: TimeLimit {
            amount: to_u32(col(row, "amount")?, "amount")?,
            unit: code_col(row, "unit")?,
        },
    })
}

fn calendar_day_from_row(row: &DbRow) -> StoreResult<CalendarDay> {
    let day: String = col(row, "day")?;
    let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|err| {
        StoreError::Database(anyhow!(
            "column `day` holds an impossible date `{day}`: {err}"
        ))
    })?;
    Ok(CalendarDay {
        date,
        kind: code_col(row, "kind")?,
        name: col(row, "name")?,
    })
}

fn catalogue_from_row(row: &DbRow) -> StoreResult<CatalogueEntry> {
    Ok(CatalogueEntry {
        id: col(row, "id")?,
        category_id: col(row, "category_id")?,
        district_id: col(row, "district_id")?,
        unit_id: col(row, "unit_id")?,
        note: col(row, "note")?,
    })
}

fn audit_from_row(row: &DbRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: col(row, "id")?,
        at: ts_col(row, "at")?,
        user_id: col(row, "user_id")?,
        action: col(row, "action")?,
        target: col(row, "target")?,
        detail: col(row, "detail")?,
        address: col(row, "address")?,
    })
}

fn announcement_from_row(row: &DbRow) -> StoreResult<Announcement> {
    Ok(Announcement {
        id: col(row, "id")?,
        title: col(row, "title")?,
        body: col(row, "body")?,
        published_at: ts_col(row, "published_at")?,
        created_by: col(row, "created_by")?,
    })
}

fn order_from_row(row: &impl ResultRow) -> StoreResult<Order> {
    let active_deadline = match (
        ts_opt_col(row, "deadline_start_at")?,
        ts_opt_col(row, "deadline_at")?,
        ts_opt_col(row, "yellow_at")?,
    ) {
        (Some(start_at), Some(deadline_at), Some(yellow_at)) => Some(ActiveDeadline {
            start_at,
            deadline_at,
            yellow_at,
        }),
        _ => None,
    };
    let tags_text: String = col(row, "tags")?;
    let tags: Vec<String> = serde_json::from_str(&tags_text)
        .map_err(|err| StoreError::Database(anyhow!("column `tags` holds invalid JSON: {err}")))?;
    Ok(Order {
        id: col(row, "id")?,
        number: col(row, "number")?,
        version: col(row, "version")?,
        channel: code_col(row, "channel")?,
        created_at: ts_col(row, "created_at")?,
        created_by: col(row, "created_by")?,
        updated_at: ts_col(row, "updated_at")?,
        citizen: Citizen {
            name: col(row, "citizen_name")?,
            phone: col(row, "citizen_phone")?,
            contact_phone: col(row, "citizen_contact_phone")?,
            gender: code_opt_col(row, "citizen_gender")?,
            enterprise_name: col(row, "citizen_enterprise_name")?,
            confidential: bool_col(row, "citizen_confidential")?,
            tags: split_codes::<CallerTag>(&col::<String>(row, "citizen_tags")?, "citizen_tags")?,
        },
        order_type: code_col(row, "order_type")?,
        category_id: col(row, "category_id")?,
        title: col(row, "title")?,
        content: col(row, "content")?,
        tags,
        urgency: code_col(row, "urgency")?,
        location: Location {
            district_id: col(row, "district_id")?,
            street_id: col(row, "street_id")?,
            community_id: col(row, "community_id")?,
            address: col(row, "address")?,
            longitude: col(row, "longitude")?,
            latitude: col(row, "latitude")?,
        },
        state: code_col(row, "state")?,
        dispatch_deadline_at: ts_col(row, "dispatch_deadline_at")?,
        active_deadline,
        visit_deadline_at: ts_opt_col(row, "visit_deadline_at")?,
        reply: col(row, "reply")?,
        knowledge_entry_id: col(row, "knowledge_entry_id")?,
        transfer_line: code_opt_col(row, "transfer_line")?,
        legal_channel: code_opt_col(row, "legal_channel")?,
        terminal_note: col(row, "terminal_note")?,
        parent_order_id: col(row, "parent_order_id")?,
        closed_at: ts_opt_col(row, "closed_at")?,
        solved: code_opt_col(row, "solved")?,
        satisfaction: code_opt_col(row, "satisfaction")?,
        visited_at: ts_opt_col(row, "visited_at")?,
        redo_count: col(row, "redo_count")?,
        urge_count: col(row, "urge_count")?,
        supervision_count: col(row, "supervision_count")?,
        escalation: code_opt_col(row, "escalation")?,
        leader_instruction: col(row, "leader_instruction")?,
        appeal: code_opt_col(row, "appeal")?,
        evaluation_excluded: bool_col(row, "evaluation_excluded")?,
    })
}

fn assignment_from_row(row: &impl ResultRow) -> StoreResult<Assignment> {
    let extension_request = match col::<Option<i32>>(row, "ext_days")? {
        Some(days) => Some(ExtensionRequest {
            days: to_u32(days, "ext_days")?,
            reason: col::<Option<String>>(row, "ext_reason")?.unwrap_or_default(),
            requested_at: ts_col(row, "ext_requested_at")?,
            requested_by: col(row, "ext_requested_by")?,
            proposed_deadline_at: ts_col(row, "ext_proposed_deadline_at")?,
        }),
        None => None,
    };
    Ok(Assignment {
        id: col(row, "id")?,
        order_id: col(row, "order_id")?,
        unit_id: col(row, "unit_id")?,
        role: code_col(row, "role")?,
        state: code_col(row, "state")?,
        parent_assignment_id: col(row, "parent_assignment_id")?,
        dispatched_at: ts_col(row, "dispatched_at")?,
        dispatched_by: col(row, "dispatched_by")?,
        sign_deadline_at: ts_col(row, "sign_deadline_at")?,
        return_deadline_at: ts_col(row, "return_deadline_at")?,
        handle_start_at: ts_col(row, "handle_start_at")?,
        handle_deadline_at: ts_col(row, "handle_deadline_at")?,
        signed_at: ts_opt_col(row, "signed_at")?,
        signed_by: col(row, "signed_by")?,
        reply: col(row, "reply")?,
        replied_at: ts_opt_col(row, "replied_at")?,
        replied_by: col(row, "replied_by")?,
        return_reason: col(row, "return_reason")?,
        extension_request,
        extension_count: col(row, "extension_count")?,
        urge_count: col(row, "urge_count")?,
    })
}

/// Appends ` LIMIT limit OFFSET offset` (negatives as 0) with the numbers written into the SQL,
/// not bound. SQLite (3.51) plans a statement for the value of its LIMIT, so a statement with a
/// bound LIMIT is prepared again at every execution, whatever the value: the repeats of an
/// order, read with every detail view, were prepared 1,700 times a second under load, each
/// time taking SQLite's allocator lock the other connections wait on. A number written in
/// keeps the prepared statement; the usual page sizes make few distinct statements.
fn push_limit(qb: &mut QueryBuilder<Db>, limit: i64, offset: i64) {
    qb.push(format_args!(
        " LIMIT {} OFFSET {}",
        limit.max(0),
        offset.max(0)
    ));
}

/// Appends `(v1, v2, …)` with each value bound: the list of an `IN`. Callers check that the list
/// is not empty (`IN ()` is not SQL).
fn push_bind_list<'t, T>(qb: &mut QueryBuilder<Db>, values: impl IntoIterator<Item = T>)
where
    T: sqlx::Encode<'t, Db> + sqlx::Type<Db>,
{
    qb.push("(");
    let mut list = qb.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    qb.push(")");
}

/// The JSON `details` column of a history line (empty text is `null`).
fn details_col(row: &impl ResultRow) -> StoreResult<serde_json::Value> {
    let text: String = col(row, "details")?;
    if text.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&text)
        .map_err(|err| StoreError::Database(anyhow!("column `details` holds invalid JSON: {err}")))
}

fn history_from_row(row: &impl ResultRow) -> StoreResult<HistoryEntry> {
    let details = details_col(row)?;
    Ok(HistoryEntry {
        id: col(row, "id")?,
        order_id: col(row, "order_id")?,
        event: HistoryEvent {
            at: ts_col(row, "at")?,
            actor_id: col(row, "actor_id")?,
            actor_unit_id: col(row, "actor_unit_id")?,
            action: col(row, "action")?,
            from_state: code_opt_col(row, "from_state")?,
            to_state: code_col(row, "to_state")?,
            unit_id: col(row, "unit_id")?,
            text: col(row, "text")?,
            details,
        },
    })
}
