//! The SQLite backend: one database file in WAL mode, durable commits, one writer connection.
//!
//! All writes go through a pool of exactly one connection, so in-process writers queue instead of
//! failing with `SQLITE_BUSY`; reads use a separate pool and, thanks to WAL, never wait for the
//! writer. The SQL itself is shared with PostgreSQL (see `shared/`).

use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::Store;

type Db = sqlx::Sqlite;
type Pool = sqlx::Pool<Db>;

/// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock at once, so a transaction
/// that reads before it writes cannot fail half-way when another process writes.
async fn begin_write(pool: &Pool) -> sqlx::Result<Tx> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

include!("shared/rows.rs");
include!("shared/writes.rs");
include!("shared/operations.rs");

/// How many connections serve reads.
const READ_CONNECTIONS: u32 = 4;

/// minhu's store in an SQLite file.
pub struct SqliteStore {
    db: Shared,
}

impl SqliteStore {
    /// Opens (creating if missing, with its folder) the database file a `sqlite://` URL names.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options: SqliteConnectOptions = url.parse()?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL in WAL mode: a commit that returned has reached the disk (survives power loss).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|err| {
                anyhow::anyhow!("cannot create the folder {}: {err}", folder.display())
            })?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Shared { write, read },
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.db.write)
            .await
            .map_err(|err| StoreError::Database(anyhow!("migrating the SQLite database: {err}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await
    }

    async fn backup_to(&self, path: &str) -> StoreResult<()> {
        let target = std::path::Path::new(path);
        if target.exists() {
            return Err(StoreError::Database(anyhow!(
                "backup target {path} already exists; choose a new file"
            )));
        }
        if let Some(folder) = target.parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(|err| {
                StoreError::Database(anyhow!(
                    "cannot create the folder {}: {err}",
                    folder.display()
                ))
            })?;
        }
        // A consistent snapshot, written by SQLite itself, while others keep reading and writing.
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.db.read)
            .await?;
        Ok(())
    }

    async fn create_unit(&self, unit: &NewUnit) -> StoreResult<UnitInfo> {
        self.db.create_unit(unit).await
    }
    async fn update_unit(&self, id: i64, patch: &UnitPatch) -> StoreResult<UnitInfo> {
        self.db.update_unit(id, patch).await
    }
    async fn list_units(&self) -> StoreResult<Vec<UnitInfo>> {
        self.db.list_units().await
    }
    async fn find_unit(&self, id: i64) -> StoreResult<Option<UnitInfo>> {
        self.db.find_unit(id).await
    }
    async fn units_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<UnitInfo>> {
        self.db.units_by_ids(ids).await
    }
    async fn count_units(&self) -> StoreResult<i64> {
        self.db.count_units().await
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<User> {
        self.db.create_user(user).await
    }
    async fn update_user(&self, id: i64, patch: &UserPatch) -> StoreResult<User> {
        self.db.update_user(id, patch).await
    }
    async fn set_password(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        self.db.set_password(id, password_hash).await
    }
    async fn find_user(&self, id: i64) -> StoreResult<Option<User>> {
        self.db.find_user(id).await
    }
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.db.find_user_by_username(username).await
    }
    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.db.list_users().await
    }
    async fn count_users(&self) -> StoreResult<i64> {
        self.db.count_users().await
    }

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        self.db.create_token(token).await
    }
    async fn find_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.db.find_token_user(token_hash, now).await
    }
    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        self.db.delete_token(token_hash).await
    }
    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.db.delete_expired_tokens(now).await
    }
    async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.db.record_login_failure(username, address, at).await
    }
    async fn count_login_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<LoginFailureCounts> {
        self.db.count_login_failures(username, address, since).await
    }
    async fn clear_login_failures(&self, username: &str) -> StoreResult<()> {
        self.db.clear_login_failures(username).await
    }

    async fn create_category(&self, category: &NewCategory) -> StoreResult<Category> {
        self.db.create_category(category).await
    }
    async fn update_category(&self, id: i64, patch: &CategoryPatch) -> StoreResult<Category> {
        self.db.update_category(id, patch).await
    }
    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        self.db.list_categories().await
    }
    async fn find_category(&self, id: i64) -> StoreResult<Option<Category>> {
        self.db.find_category(id).await
    }
    async fn create_policy(&self, rule: &NewPolicyRule) -> StoreResult<PolicyRule> {
        self.db.create_policy(rule).await
    }
    async fn delete_policy(&self, id: i64) -> StoreResult<()> {
        self.db.delete_policy(id).await
    }
    async fn list_policies(&self) -> StoreResult<Vec<PolicyRule>> {
        self.db.list_policies().await
    }
    async fn policies_for_categories(&self, category_ids: &[i64]) -> StoreResult<Vec<PolicyRule>> {
        self.db.policies_for_categories(category_ids).await
    }

    async fn list_calendar_days(&self) -> StoreResult<Vec<CalendarDay>> {
        self.db.list_calendar_days().await
    }
    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> StoreResult<()> {
        self.db.upsert_calendar_days(days).await
    }
    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<bool> {
        self.db.delete_calendar_day(date).await
    }

    async fn create_catalogue_entry(
        &self,
        entry: &NewCatalogueEntry,
    ) -> StoreResult<CatalogueEntry> {
        self.db.create_catalogue_entry(entry).await
    }
    async fn delete_catalogue_entry(&self, id: i64) -> StoreResult<()> {
        self.db.delete_catalogue_entry(id).await
    }
    async fn list_catalogue(&self) -> StoreResult<Vec<CatalogueEntry>> {
        self.db.list_catalogue().await
    }

    async fn create_order(
        &self,
        order: &Order,
        events: &[HistoryEvent],
        local_date: NaiveDate,
    ) -> StoreResult<Order> {
        self.db.create_order(order, events, local_date).await
    }
    async fn save_transition(
        &self,
        expected_version: i64,
        transition: &Transition,
    ) -> StoreResult<OrderAggregate> {
        self.db.save_transition(expected_version, transition).await
    }
    async fn find_order_by_number(&self, number: &str) -> StoreResult<Option<OrderAggregate>> {
        self.db.find_order_by_number(number).await
    }
    async fn find_order(&self, id: i64) -> StoreResult<Option<OrderAggregate>> {
        self.db.find_order(id).await
    }
    async fn order_history(&self, order_id: i64) -> StoreResult<Vec<HistoryEntry>> {
        self.db.order_history(order_id).await
    }
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        scope: &Scope,
        page: &PageRequest,
    ) -> StoreResult<OrderPage> {
        self.db.list_orders(filter, scope, page).await
    }
    async fn count_orders_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        self.db.count_orders_by_state().await
    }

    async fn write_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        self.db.write_audit(entry).await
    }
    async fn list_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        self.db.list_audit(limit).await
    }
}
