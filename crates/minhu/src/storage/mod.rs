//! Storage: one interface ([`Store`]), one implementation per backend (SQLite, PostgreSQL).
//!
//! The backend is chosen once, from the database URL's scheme. Both backends share one written
//! implementation: the SQL text, the row mapping and the `impl Store` live in `shared/` and are
//! compiled once per backend. Each backend module keeps only its store struct, connecting and what
//! differs (write transactions, migrations under `migrations/<backend>/`, compiled into the
//! binary, and backup).

mod attachments;
mod generated;
pub mod knowledge;
mod postgres;
mod records;
pub mod search;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minhu_domain::calendar::CalendarDay;
use minhu_domain::knowledge::{
    KnowledgeAggregate, KnowledgeEntry, KnowledgeEvent, KnowledgeTransition,
};
use minhu_domain::{
    HistoryEvent, Order, OrderAggregate, PolicyRule, Role, Transition, UnitInfo, UnitKind,
};

pub use attachments::{Attachment, AttachmentFile, NewAttachment};
pub use generated::{GeneratedBatch, GeneratedOrder, GeneratorStart};
pub use knowledge::{
    KnowledgeFilter, KnowledgeListItem, KnowledgePage, KnowledgeScope, KnowledgeStateFilter,
    KnowledgeText,
};
pub use postgres::PgStore;
pub use records::*;
pub use search::{OrderSearchDocument, ReindexProgress, TextFilter};
pub use sqlite::{DirectReadStats, GroupCommitStats, SqliteStore};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The order changed since it was read (optimistic concurrency): someone else acted first.
    #[error("the record was changed by someone else")]
    Conflict,
    /// A row the call needs does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value is taken; `field` names it (`username`, `code`, …).
    #[error("duplicate value for {field}")]
    Duplicate { field: String },
    /// A referenced row does not exist (foreign key); `field` names the reference.
    #[error("invalid reference in {field}")]
    InvalidReference { field: String },
    /// Anything else: the database is down, a bug. Logged, shown as a 500.
    #[error(transparent)]
    Database(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            other => Self::Database(other.into()),
        }
    }
}

/// The result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything minhu keeps. All methods are atomic: a multi-row change happens in one transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Runs pending migrations.
    async fn migrate(&self) -> StoreResult<()>;

    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;

    // ---- units ----
    async fn create_unit(&self, unit: &NewUnit) -> StoreResult<UnitInfo>;
    async fn update_unit(&self, id: i64, patch: &UnitPatch) -> StoreResult<UnitInfo>;
    async fn list_units(&self) -> StoreResult<Vec<UnitInfo>>;
    async fn find_unit(&self, id: i64) -> StoreResult<Option<UnitInfo>>;
    async fn units_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<UnitInfo>>;
    async fn count_units(&self) -> StoreResult<i64>;

    // ---- users ----
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    async fn update_user(&self, id: i64, patch: &UserPatch) -> StoreResult<User>;
    async fn set_password(&self, id: i64, password_hash: &str) -> StoreResult<()>;
    async fn find_user(&self, id: i64) -> StoreResult<Option<User>>;
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<i64>;

    // ---- API tokens and login throttling ----
    async fn create_token(&self, token: &NewToken) -> StoreResult<()>;
    /// The user a token hash belongs to, if the token exists and has not expired at `now`.
    async fn find_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// [`Store::find_token_user`] with the user's unit and the reference data's generation, in
    /// one statement: a request's whole sign-in check.
    async fn find_token_holder(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TokenHolder>>;
    async fn delete_token(&self, token_hash: &str) -> StoreResult<()>;
    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Failures since `since`, for this username and for this address.
    async fn count_login_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<LoginFailureCounts>;
    async fn clear_login_failures(&self, username: &str) -> StoreResult<()>;

    // ---- categories and time-limit policies ----
    async fn create_category(&self, category: &NewCategory) -> StoreResult<Category>;
    async fn update_category(&self, id: i64, patch: &CategoryPatch) -> StoreResult<Category>;
    async fn list_categories(&self) -> StoreResult<Vec<Category>>;
    async fn find_category(&self, id: i64) -> StoreResult<Option<Category>>;
    async fn create_policy(&self, rule: &NewPolicyRule) -> StoreResult<PolicyRule>;
    async fn delete_policy(&self, id: i64) -> StoreResult<()>;
    async fn list_policies(&self) -> StoreResult<Vec<PolicyRule>>;
    /// The rules on these categories and the global rules (`category_id IS NULL`).
    async fn policies_for_categories(&self, category_ids: &[i64]) -> StoreResult<Vec<PolicyRule>>;

    // ---- calendar ----
    async fn list_calendar_days(&self) -> StoreResult<Vec<CalendarDay>>;
    /// The generation of the reference data (units, categories, policies, calendar): bumped by
    /// the database on every change to them.
    async fn reference_generation(&self) -> StoreResult<i64>;
    /// Inserts or replaces the days given.
    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> StoreResult<()>;
    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<bool>;

    // ---- dispatch catalogue (派单目录) ----
    async fn create_catalogue_entry(
        &self,
        entry: &NewCatalogueEntry,
    ) -> StoreResult<CatalogueEntry>;
    async fn delete_catalogue_entry(&self, id: i64) -> StoreResult<()>;
    async fn list_catalogue(&self) -> StoreResult<Vec<CatalogueEntry>>;

    // ---- orders ----
    /// Stores a newly registered order (`order.id == 0`, empty number) and its first history
    /// lines, giving it the next number of `local_date`'s daily sequence; answers with both as
    /// stored. The history lines come back from the insert itself: reading them again after
    /// the commit was a read transaction of every registration (docs/BENCHMARKS.md, fourteenth
    /// round).
    async fn create_order_with_history(
        &self,
        order: &Order,
        events: &[HistoryEvent],
        local_date: NaiveDate,
    ) -> StoreResult<RegisteredOrder>;
    /// [`Store::create_order_with_history`] for a caller that needs only the order.
    async fn create_order(
        &self,
        order: &Order,
        events: &[HistoryEvent],
        local_date: NaiveDate,
    ) -> StoreResult<Order> {
        self.create_order_with_history(order, events, local_date)
            .await
            .map(|registered| registered.order)
    }
    /// Writes a transition if the order is still at `expected_version`, else `Conflict`.
    /// The stored order gets version `expected_version + 1`.
    async fn save_transition(
        &self,
        expected_version: i64,
        transition: &Transition,
    ) -> StoreResult<OrderAggregate>;
    async fn find_order_by_number(&self, number: &str) -> StoreResult<Option<OrderAggregate>>;
    async fn find_order(&self, id: i64) -> StoreResult<Option<OrderAggregate>>;
    async fn order_history(&self, order_id: i64) -> StoreResult<Vec<HistoryEntry>>;
    /// The assignments of one unit on the given orders (the unit inbox), by order, then id.
    async fn unit_assignments(
        &self,
        unit_id: i64,
        order_ids: &[i64],
    ) -> StoreResult<Vec<minhu_domain::Assignment>>;
    /// Every assignment of the given orders (the review queue's lead replies), by order, then id.
    async fn order_assignments(
        &self,
        order_ids: &[i64],
    ) -> StoreResult<Vec<minhu_domain::Assignment>>;
    /// One page of orders matching `filter` inside `scope`, newest first, with the total count.
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        scope: &Scope,
        page: &PageRequest,
    ) -> StoreResult<OrderPage>;
    /// Order counts per state, for dashboards and the demo check.
    async fn count_orders_by_state(&self) -> StoreResult<Vec<(String, i64)>>;

    // ---- announcements (系统公告) ----
    async fn create_announcement(
        &self,
        announcement: &NewAnnouncement,
    ) -> StoreResult<Announcement>;
    /// The newest `limit` announcements, newest first.
    async fn list_announcements(&self, limit: i64) -> StoreResult<Vec<Announcement>>;
    /// Every announcement, newest first.
    async fn list_all_announcements(&self) -> StoreResult<Vec<Announcement>>;
    /// Replaces an announcement's title and body (`NotFound` if it does not exist).
    async fn update_announcement(
        &self,
        id: i64,
        title: &str,
        body: &str,
    ) -> StoreResult<Announcement>;
    /// Removes an announcement (`NotFound` if it does not exist).
    async fn delete_announcement(&self, id: i64) -> StoreResult<()>;

    // ---- audit ----
    async fn write_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    async fn list_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>>;

    // ---- maintenance ----
    /// A consistent online copy of the database to `path` (SQLite only).
    async fn backup_to(&self, path: &str) -> StoreResult<()>;

    // Attachments
    // ---- attachments (附件) ----
    /// [`Store::save_transition`] that also stores `attachments` with the transition's first
    /// history event (the action's own), in the same transaction: either the transition and all
    /// its files are written, or nothing is.
    async fn save_transition_with_attachments(
        &self,
        expected_version: i64,
        transition: &Transition,
        attachments: &[NewAttachment],
    ) -> StoreResult<OrderAggregate>;
    /// The attachments of an order, without their bytes, oldest first.
    async fn order_attachments(&self, order_id: i64) -> StoreResult<Vec<Attachment>>;
    /// Attachment `id` with its bytes, if it belongs to order `order_id`.
    async fn attachment_file(&self, order_id: i64, id: i64) -> StoreResult<Option<AttachmentFile>>;

    // Queues
    /// For each filter, how many orders hold an assignment matching it at `now`, in one query:
    /// each the total [`Store::list_orders`] gives with [`OrderFilter::assignment`] set to it (a
    /// unit's queues, whose orders are in the scope of the unit's staff by construction).
    async fn count_assignment_queues(
        &self,
        filters: &[AssignmentFilter],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;

    // Search
    // ---- full-text search (全文检索) and repeats (重复件) ----
    /// (Re)indexes up to `limit` orders with ids above `after_id`, in id order: all of them, or
    /// with `only_missing` only those without a search document (after an upgrade, or after the
    /// index was deleted). Cuts the texts before taking the write lock.
    async fn reindex_orders(
        &self,
        after_id: i64,
        limit: i64,
        only_missing: bool,
    ) -> StoreResult<ReindexProgress>;
    /// Deletes every order's search document (`minhu reindex` rebuilds them).
    async fn clear_order_search(&self) -> StoreResult<u64>;
    /// How many orders there are, and how many have a search document.
    async fn search_coverage(&self) -> StoreResult<(i64, i64)>;
    /// Open orders near a new request, for repeat detection: registered since `query.since`, in
    /// the state list, in the street (or, without one, the district), newest first, at most
    /// `query.limit`, each with its similarity words.
    async fn repeat_candidates(&self, query: &RepeatQuery) -> StoreResult<Vec<RepeatCandidate>>;

    // Knowledge
    // ---- knowledge base (知识库) ----
    /// Stores a new entry (`entry.id == 0`) with its first version and history line; returns it
    /// as stored (revision 1).
    async fn create_knowledge(
        &self,
        transition: &KnowledgeTransition,
    ) -> StoreResult<KnowledgeAggregate>;
    /// Writes a transition if the entry is still at `expected_revision`, else `Conflict`; the
    /// stored entry gets revision `expected_revision + 1`. Versions are inserted or replaced by
    /// number; the search document is written when a version is published and removed when the
    /// entry is no longer published, in the same transaction.
    async fn save_knowledge(
        &self,
        expected_revision: i64,
        transition: &KnowledgeTransition,
    ) -> StoreResult<KnowledgeAggregate>;
    /// Adds `used` and `helpful` to the counters of entry `event.entry_id` and appends `event`,
    /// if the entry is still published (else `Conflict`); the revision is left alone.
    async fn add_knowledge_counts(
        &self,
        event: &KnowledgeEvent,
        used: i64,
        helpful: i64,
    ) -> StoreResult<KnowledgeEntry>;
    /// An entry with every version.
    async fn find_knowledge(&self, id: i64) -> StoreResult<Option<KnowledgeAggregate>>;
    /// The history of an entry, oldest first.
    async fn knowledge_history(&self, entry_id: i64) -> StoreResult<Vec<KnowledgeEvent>>;
    /// One page of entries matching `filter` (a count only when `page.limit` is 0).
    async fn list_knowledge(
        &self,
        filter: &KnowledgeFilter,
        page: &PageRequest,
    ) -> StoreResult<KnowledgePage>;
    /// Rebuilds the search documents of the published entries; returns how many were written.
    async fn reindex_knowledge(&self) -> StoreResult<u64>;

    // Generator
    // ---- bulk load of generated orders (`minhu gen`) ----
    /// The next free order and assignment ids and the stored daily number sequences.
    async fn generator_start(&self) -> StoreResult<GeneratorStart>;
    /// Writes finished orders (ids, numbers, assignments, history, search documents) with
    /// multi-row INSERTs in one transaction, and raises the daily sequences to the numbers used.
    /// Not for live traffic: on SQLite the transaction is not synced to disk (a re-runnable bulk
    /// load).
    async fn bulk_insert_orders(&self, batch: &GeneratedBatch) -> StoreResult<()>;
    /// How many [`Store::bulk_insert_orders`] may run at once: one on SQLite, which writes one
    /// transaction at a time; two on PostgreSQL, where one load transaction keeps one backend's
    /// core busy while the generator's threads wait.
    fn bulk_writers(&self) -> usize;
    /// Drops the non-unique indexes of the order tables for a bulk load, recording each with
    /// the statement that creates it; returns how many. [`Store::restore_deferred_indexes`]
    /// builds them again, and so does the next [`Store::migrate`] if a load stops half-way.
    async fn defer_order_indexes(&self) -> StoreResult<u64>;
    /// Creates every index a bulk load deferred; returns how many.
    async fn restore_deferred_indexes(&self) -> StoreResult<u64>;
    /// Brings the query planner's statistics up to date after a bulk load: `VACUUM (ANALYZE)`
    /// on PostgreSQL, `PRAGMA optimize` on SQLite.
    async fn refresh_statistics(&self) -> StoreResult<()>;
}

/// Opens the store a database URL names (`sqlite://…` or `postgres://…`), creating an SQLite file
/// (and its folder) if missing. Unknown schemes are refused rather than guessed.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        anyhow::bail!(
            "unsupported database URL `{}`: use sqlite://path/to/file.db or postgres://user@host/db",
            redact_url(url)
        )
    }
}

/// A database URL with any password replaced by `***`, for logs and errors.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether a role list makes a user centre staff or unit staff does not live here: storage only
/// keeps roles. This helper parses stored role codes, skipping unknown ones (a newer binary may
/// have written them).
#[must_use]
pub fn parse_roles(codes: &str) -> Vec<Role> {
    codes
        .split(',')
        .filter_map(|c| c.trim().parse::<Role>().ok())
        .collect()
}

/// Stored form of a role list: comma-separated codes.
#[must_use]
pub fn format_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Kinds of unit that can hold orders (everything but the city centre).
#[must_use]
pub fn unit_can_handle(kind: UnitKind) -> bool {
    kind != UnitKind::CityCentre
}
