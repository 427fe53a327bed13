//! Rows that storage reads and writes besides the domain's own types.

use chrono::{DateTime, Utc};
use minhu_domain::{
    AppealState, AssignmentRole, AssignmentState, Channel, HistoryEvent, LimitStep, Order,
    OrderState, OrderType, Role, TimeLimit, UnitInfo, UnitKind, Urgency, WarningLevel,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A unit to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// A unique code, e.g. `D01` or `B-WATER`.
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub is_dispatch_point: bool,
}

/// Changes to a unit; `None` leaves a field as it is. Moving a unit in the tree is not offered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_dispatch_point: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    pub active: bool,
    /// The argon2id PHC string. Never serialised to clients.
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A user to create (the password is already hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub unit_id: i64,
    pub roles: Vec<Role>,
    pub password_hash: String,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// An API token as stored: only its SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub token_hash: String,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Who holds a live token, read in one statement with what a request needs besides: the
/// holder's unit and the generation of the reference data (see
/// `migrations/*/0006_reference_generation.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub user: User,
    pub unit: UnitInfo,
    pub reference_generation: i64,
}

/// Recent failed sign-ins, by account and by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailureCounts {
    pub for_username: i64,
    pub for_address: i64,
}

/// A node of the category tree (问题分类).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: i64,
    /// e.g. `03` → `0301` → `030105`.
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
    /// 1 for a top-level category.
    pub level: i32,
    /// Materialised path of ids, `/3/17/`.
    pub path: String,
    pub active: bool,
}

impl Category {
    /// Ids from this category up to the root, this one first.
    #[must_use]
    pub fn chain(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .path
            .split('/')
            .filter_map(|s| s.parse::<i64>().ok())
            .collect();
        ids.reverse();
        ids
    }
}

/// A category to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub code: String,
    pub name: String,
    pub parent_id: Option<i64>,
}

/// Changes to a category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A policy rule to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicyRule {
    /// The category node it applies to (and, by inheritance, below); `None` for everywhere.
    pub category_id: Option<i64>,
    #[serde(default)]
    pub order_type: Option<OrderType>,
    #[serde(default)]
    pub urgency: Option<Urgency>,
    pub step: LimitStep,
    pub limit: TimeLimit,
}

/// An entry of the dispatch catalogue: which unit handles a category, optionally in one district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogueEntry {
    pub id: i64,
    pub category_id: i64,
    /// `None`: any district.
    pub district_id: Option<i64>,
    pub unit_id: i64,
    pub note: Option<String>,
}

/// A catalogue entry to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCatalogueEntry {
    pub category_id: i64,
    #[serde(default)]
    pub district_id: Option<i64>,
    pub unit_id: i64,
    #[serde(default)]
    pub note: Option<String>,
}

/// A stored history line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub order_id: i64,
    #[serde(flatten)]
    pub event: HistoryEvent,
}

/// A registration as stored ([`Store::create_order_with_history`](super::Store)): the order
/// with its id and number, and its first history lines with their ids, by id.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredOrder {
    pub order: Order,
    pub history: Vec<HistoryEntry>,
}

/// Which orders a person may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Centre staff: every order.
    All,
    /// Unit staff: orders with an assignment on a unit whose path starts with this prefix.
    UnitSubtree { path_prefix: String },
}

/// Filters of the order list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub states: Vec<OrderState>,
    /// Orders with an assignment on this unit or below it.
    pub unit_id: Option<i64>,
    /// This category or below it.
    pub category_id: Option<i64>,
    pub district_id: Option<i64>,
    pub order_type: Option<OrderType>,
    pub channel: Option<Channel>,
    pub urgency: Option<Urgency>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Warning level of the active deadline, judged at `now`.
    pub warning: Option<WarningLevel>,
    pub now: Option<DateTime<Utc>>,
    /// Exact caller phone.
    pub phone: Option<String>,
    /// Exact order number.
    pub number: Option<String>,
    /// Only orders with an assignment that has a pending extension request (延期申请).
    pub has_pending_extension: bool,
    /// Only orders whose appeal (申诉) stands so.
    pub appeal: Option<AppealState>,
    /// Only orders holding an assignment that matches (a unit's work queue).
    pub assignment: Option<AssignmentFilter>,
    /// Oldest first (work queues) instead of newest first.
    pub oldest_first: bool,
    /// Words that must occur (`?q=`); the list is then ranked by relevance.
    pub text: Option<super::TextFilter>,
    /// Only the orders merged into this one (its 重复件).
    pub parent_order_id: Option<i64>,
}

impl OrderFilter {
    /// Whether nothing but the text narrows the list (the sort and the moment warnings are
    /// judged at do not): then the text index alone can count and bound the matches.
    #[must_use]
    pub fn only_text(&self) -> bool {
        self.text.is_some()
            && self.nothing_else(|rest| {
                rest.text = None;
            })
    }

    /// Whether nothing but an assignment filter narrows the list (a unit's queue): then the
    /// assignments alone can count it.
    #[must_use]
    pub fn only_assignment(&self) -> bool {
        self.assignment.is_some()
            && self.nothing_else(|rest| {
                rest.assignment = None;
            })
    }

    /// Whether the filter, once `clear` has removed what the caller asks about and the sort
    /// and the moment are set aside, narrows nothing.
    fn nothing_else(&self, clear: impl FnOnce(&mut Self)) -> bool {
        let mut rest = Self {
            now: None,
            oldest_first: false,
            ..self.clone()
        };
        clear(&mut rest);
        rest == Self::default()
    }
}

/// Which assignments an order must hold to be listed; all optional, combined with AND. A unit's
/// work queues (承办单位) are such filters on the unit's own assignments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignmentFilter {
    /// The assignment's unit.
    pub unit_id: Option<i64>,
    /// The unit of the assignment it was passed down from (转派): what a sub-centre reviews.
    pub parent_unit_id: Option<i64>,
    pub roles: Vec<AssignmentRole>,
    pub states: Vec<AssignmentState>,
    /// Only assignments with a pending extension request (延期申请).
    pub pending_extension: bool,
    /// Warning level of the assignment's handle deadline at the list's `now`: yellow once no
    /// more than `yellow_share` of its span is left, red once it has passed.
    pub warning: Option<WarningLevel>,
    pub yellow_share: f64,
}

/// Paging: `limit` rows from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

/// One page of orders.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPage {
    pub orders: Vec<OrderListItem>,
    pub total: i64,
    /// A text search stopped counting at `total`: more orders match.
    pub total_capped: bool,
}

/// An order in a list, with its current lead unit.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderListItem {
    pub order: Order,
    pub lead_unit_id: Option<i64>,
    /// How many orders were merged into this one (重复件, 并单).
    pub repeat_count: i64,
}

/// An audit line to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    /// e.g. `view_personal_data`, `export`, `login`, `create_user`.
    pub action: String,
    /// What it concerned, e.g. an order number or a username.
    pub target: String,
    pub detail: Option<String>,
    pub address: Option<String>,
}

/// A stored audit line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    pub address: Option<String>,
}

/// A system announcement (系统公告).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
    /// The user who published it (`None` for the system).
    pub created_by: Option<i64>,
}

/// An announcement to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnnouncement {
    pub title: String,
    pub body: String,
    pub published_at: DateTime<Utc>,
    pub created_by: Option<i64>,
}

/// Where to look for repeats of a new request (重复件).
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatQuery {
    pub street_id: Option<i64>,
    /// Used when there is no street.
    pub district_id: Option<i64>,
    pub since: DateTime<Utc>,
    pub states: Vec<OrderState>,
    /// The order itself, when it is already registered.
    pub exclude_order_id: Option<i64>,
    pub limit: i64,
}

/// An open order near a new request, with the words its similarity is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatCandidate {
    pub item: OrderListItem,
    /// Space-separated similarity words (see [`super::OrderSearchDocument`]).
    pub similarity_words: String,
}
