//! The records of the domain: units, the acting person, the work order, its assignments and history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{
    AppealState, AssignmentRole, AssignmentState, CallerTag, Channel, EmergencyLine,
    EscalationState, Gender, LegalChannel, OrderState, OrderType, Role, Satisfaction, Solved,
    UnitKind, Urgency,
};

/// A unit of the organisation tree, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitInfo {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<i64>,
    /// Materialised path of ids from the root, `/1/4/17/`: a unit's subtree is every unit whose
    /// path starts with its own.
    pub path: String,
    /// Whether the unit is itself a dispatch point (a sub-centre).
    pub is_dispatch_point: bool,
    pub active: bool,
}

impl UnitInfo {
    /// Whether `other` lies in this unit's subtree (the unit itself included).
    #[must_use]
    pub fn contains(&self, other: &UnitInfo) -> bool {
        other.path.starts_with(&self.path)
    }

    /// The path a unit with `id` has under `parent` (or at the root when there is none).
    #[must_use]
    pub fn child_path(parent: Option<&UnitInfo>, id: i64) -> String {
        match parent {
            Some(p) => format!("{}{id}/", p.path),
            None => format!("/{id}/"),
        }
    }
}

/// The units a decision needs, looked up by id.
#[derive(Debug, Clone, Default)]
pub struct UnitDirectory {
    units: HashMap<i64, UnitInfo>,
}

impl UnitDirectory {
    #[must_use]
    pub fn new(units: impl IntoIterator<Item = UnitInfo>) -> Self {
        Self {
            units: units.into_iter().map(|u| (u.id, u)).collect(),
        }
    }

    #[must_use]
    pub fn get(&self, id: i64) -> Option<&UnitInfo> {
        self.units.get(&id)
    }

    pub fn insert(&mut self, unit: UnitInfo) {
        self.units.insert(unit.id, unit);
    }

    pub fn iter(&self) -> impl Iterator<Item = &UnitInfo> {
        self.units.values()
    }
}

/// The person acting: who, in which unit, with which roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit: UnitInfo,
}

impl Actor {
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    #[must_use]
    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// Centre staff (in the city centre unit) see every order; everyone else sees the orders
    /// assigned to their unit's subtree.
    #[must_use]
    pub fn is_centre_staff(&self) -> bool {
        self.unit.kind == crate::enums::UnitKind::CityCentre
    }

    /// Whether the actor's data scope covers `unit`.
    #[must_use]
    pub fn scope_covers(&self, unit: &UnitInfo) -> bool {
        self.is_centre_staff() || self.unit.contains(unit)
    }

    /// Whether personal data (phone, name) is shown to this actor unmasked.
    #[must_use]
    pub fn sees_personal_data(&self) -> bool {
        self.is_centre_staff()
    }
}

/// The citizen who asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct Citizen {
    /// The caller's name; `None` when withheld.
    pub name: Option<String>,
    pub phone: String,
    pub contact_phone: Option<String>,
    pub gender: Option<Gender>,
    /// 企业名称 for requests from enterprises (涉企).
    pub enterprise_name: Option<String>,
    /// 保密: hide the citizen from handling units entirely.
    pub confidential: bool,
    pub tags: Vec<CallerTag>,
}

/// Where the matter is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct Location {
    pub district_id: Option<i64>,
    pub street_id: Option<i64>,
    pub community_id: Option<i64>,
    pub address: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// What an agent registers: everything an order starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    pub channel: Channel,
    pub citizen: Citizen,
    pub order_type: OrderType,
    pub category_id: i64,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub urgency: Urgency,
    pub location: Location,
}

/// The deadline that matters now for an order, with the start of its span so that the warning
/// level can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActiveDeadline {
    /// When the span started (registration, dispatch, redo…).
    pub start_at: DateTime<Utc>,
    /// When it ends.
    pub deadline_at: DateTime<Utc>,
    /// From when the order shows yellow.
    pub yellow_at: DateTime<Utc>,
}

/// A work order (工单) with every field the lifecycle moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    /// 工单编号: local date + daily sequence, e.g. `20261128000123`.
    pub number: String,
    /// Bumped by every change; a change made against an older version is refused.
    pub version: i64,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub created_by: i64,
    pub updated_at: DateTime<Utc>,
    pub citizen: Citizen,
    pub order_type: OrderType,
    pub category_id: i64,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub urgency: Urgency,
    pub location: Location,
    pub state: OrderState,
    /// 派单时限: the dispatch deadline counted from registration.
    pub dispatch_deadline_at: DateTime<Utc>,
    /// The deadline of the current step, if the current step has one.
    pub active_deadline: Option<ActiveDeadline>,
    /// 回访时限, set when the reply passes review.
    pub visit_deadline_at: Option<DateTime<Utc>>,
    /// The answer given: the direct answer, or the reply that passed review.
    pub reply: Option<String>,
    /// The knowledge-base entry the direct answer came from.
    pub knowledge_entry_id: Option<i64>,
    pub transfer_line: Option<EmergencyLine>,
    pub legal_channel: Option<LegalChannel>,
    /// Why the order ended without handling (rejection, transfer, merge), as written.
    pub terminal_note: Option<String>,
    /// The parent order this one was merged into (并单).
    pub parent_order_id: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub solved: Option<Solved>,
    pub satisfaction: Option<Satisfaction>,
    pub visited_at: Option<DateTime<Utc>>,
    pub redo_count: i32,
    pub urge_count: i32,
    pub supervision_count: i32,
    pub escalation: Option<EscalationState>,
    pub leader_instruction: Option<String>,
    pub appeal: Option<AppealState>,
    /// 不予考核: excluded from evaluation after an upheld appeal.
    pub evaluation_excluded: bool,
}

/// A pending extension request (延期申请) on an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExtensionRequest {
    /// Working days asked for.
    pub days: u32,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub requested_by: i64,
    /// The handling deadline the extension would give.
    pub proposed_deadline_at: DateTime<Utc>,
}

/// One unit's part in an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// 0 for an assignment that is not stored yet.
    pub id: i64,
    pub order_id: i64,
    pub unit_id: i64,
    pub role: AssignmentRole,
    pub state: AssignmentState,
    /// The assignment of the sub-centre that passed this one down (转派), if any.
    pub parent_assignment_id: Option<i64>,
    pub dispatched_at: DateTime<Utc>,
    pub dispatched_by: i64,
    /// 签收时限.
    pub sign_deadline_at: DateTime<Utc>,
    /// 退单时限: after this the unit may no longer return the order.
    pub return_deadline_at: DateTime<Utc>,
    /// When the current handling span started (dispatch, redo, review failure keeps it).
    pub handle_start_at: DateTime<Utc>,
    /// 办结时限.
    pub handle_deadline_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<i64>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub replied_by: Option<i64>,
    pub return_reason: Option<String>,
    pub extension_request: Option<ExtensionRequest>,
    pub extension_count: i32,
    pub urge_count: i32,
}

impl Assignment {
    #[must_use]
    pub fn is_lead(&self) -> bool {
        self.role == AssignmentRole::Lead
    }
}

/// An order with its assignments: what one lifecycle action reads and writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAggregate {
    pub order: Order,
    pub assignments: Vec<Assignment>,
}

impl OrderAggregate {
    /// The top-level lead assignment that is still open (at most one exists at any time).
    #[must_use]
    pub fn open_lead(&self) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| a.is_lead() && a.parent_assignment_id.is_none() && a.state.is_open())
    }

    #[must_use]
    pub fn assignment(&self, id: i64) -> Option<&Assignment> {
        self.assignments.iter().find(|a| a.id == id)
    }

    /// Ids of every unit that has or had an assignment on the order.
    #[must_use]
    pub fn unit_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.assignments.iter().map(|a| a.unit_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// One line of an order's append-only history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEvent {
    pub at: DateTime<Utc>,
    pub actor_id: i64,
    pub actor_unit_id: i64,
    /// The action's code (`register`, `dispatch`, `sign`, …).
    pub action: String,
    pub from_state: Option<OrderState>,
    pub to_state: OrderState,
    /// The unit the action concerned, for unit-level actions.
    pub unit_id: Option<i64>,
    /// The text the actor wrote (reason, reply, note…).
    pub text: Option<String>,
    /// Structured details (units dispatched to, visit answers, new deadline…).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}
