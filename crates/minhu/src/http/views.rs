//! What the API sends about orders: a summary for lists, the full order with its assignments and
//! history, and the citizen as the caller may see them.

use chrono::{DateTime, Utc};
use minhu_domain::warning::{active_deadline, warning_level};
use minhu_domain::{
    ActiveDeadline, Actor, AppealState, Assignment, AssignmentRole, AssignmentState, CallerTag,
    Channel, Citizen, EmergencyLine, EscalationState, ExtensionRequest, Gender, LegalChannel,
    Location, Order, OrderState, OrderType, Satisfaction, Solved, UnitInfo, Urgency, WarningLevel,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::orders::{CitizenVisibility, OrderDetail, citizen_visibility, warning_of};
use crate::storage::{Attachment, HistoryEntry, OrderListItem};

/// The citizen as the caller may see them: in full (centre staff), masked (`138****5678`, units)
/// or hidden (a confidential order, units): then every personal field is null.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CitizenView {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub contact_phone: Option<String>,
    pub gender: Option<Gender>,
    pub enterprise_name: Option<String>,
    /// 保密: the citizen is hidden from handling units.
    pub confidential: bool,
    pub tags: Vec<CallerTag>,
}

impl CitizenView {
    /// The view of a citizen already masked by the service, at `visibility`.
    #[must_use]
    pub fn new(citizen: &Citizen, visibility: CitizenVisibility) -> Self {
        match visibility {
            CitizenVisibility::Hidden => Self {
                name: None,
                phone: None,
                contact_phone: None,
                gender: None,
                enterprise_name: None,
                confidential: true,
                tags: Vec::new(),
            },
            CitizenVisibility::Full | CitizenVisibility::Masked => Self {
                name: citizen.name.clone(),
                phone: (!citizen.phone.is_empty()).then(|| citizen.phone.clone()),
                contact_phone: citizen.contact_phone.clone(),
                gender: citizen.gender,
                enterprise_name: citizen.enterprise_name.clone(),
                confidential: citizen.confidential,
                tags: citizen.tags.clone(),
            },
        }
    }
}

/// An order in a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderSummary {
    /// 工单编号.
    pub number: String,
    pub version: i64,
    pub state: OrderState,
    /// The state in Chinese, e.g. `办理中`.
    pub state_label: String,
    pub order_type: OrderType,
    pub channel: Channel,
    pub category_id: i64,
    pub urgency: Urgency,
    pub title: String,
    pub district_id: Option<i64>,
    pub citizen: CitizenView,
    pub created_at: DateTime<Utc>,
    /// The deadline of the current step, if it has one.
    pub active_deadline: Option<ActiveDeadline>,
    /// 正常 / 黄灯 / 红灯 of the active deadline, now.
    pub warning: Option<WarningLevel>,
    /// The unit that currently leads the handling.
    pub lead_unit_id: Option<i64>,
    /// How many orders were merged into this one (重复件).
    pub repeat_count: i64,
}

impl OrderSummary {
    /// The summary of a list item for `actor` (the citizen already masked by the service).
    #[must_use]
    pub fn new(item: &OrderListItem, actor: &Actor, now: DateTime<Utc>) -> Self {
        let order = &item.order;
        Self {
            number: order.number.clone(),
            version: order.version,
            state: order.state,
            state_label: order.state.label().to_owned(),
            order_type: order.order_type,
            channel: order.channel,
            category_id: order.category_id,
            urgency: order.urgency,
            title: order.title.clone(),
            district_id: order.location.district_id,
            citizen: CitizenView::new(&order.citizen, citizen_visibility(actor, order)),
            created_at: order.created_at,
            active_deadline: order.active_deadline,
            warning: warning_of(order, now),
            repeat_count: item.repeat_count,
            lead_unit_id: item.lead_unit_id,
        }
    }
}

/// One page of orders.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderListResponse {
    pub items: Vec<OrderSummary>,
    /// How many orders match, over all pages. A text search (`q`) combined with other filters
    /// or a unit's scope counts at most 10,000: see `total_capped`.
    pub total: i64,
    /// True when a text search stopped counting at `total` and more orders match.
    pub total_capped: bool,
    /// The page, from 1.
    pub page: u32,
    pub per_page: u32,
    /// The words `q` was cut into (what to highlight in the results); empty without `q`.
    pub query_words: Vec<String>,
}

/// One unit's part in an order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: Option<String>,
    /// 主办 (lead) or 协办 (co).
    pub role: AssignmentRole,
    pub state: AssignmentState,
    pub state_label: String,
    /// The sub-centre assignment this one was passed down from (转派).
    pub parent_assignment_id: Option<i64>,
    pub dispatched_at: DateTime<Utc>,
    pub dispatched_by: i64,
    /// 签收时限.
    pub sign_deadline_at: DateTime<Utc>,
    /// 退单时限.
    pub return_deadline_at: DateTime<Utc>,
    pub handle_start_at: DateTime<Utc>,
    /// 办结时限.
    pub handle_deadline_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<i64>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub replied_by: Option<i64>,
    pub return_reason: Option<String>,
    /// A pending extension request.
    pub extension_request: Option<ExtensionRequest>,
    pub extension_count: i32,
    pub urge_count: i32,
    /// The warning of the deadline the assignment now runs against (sign-for, then handling).
    pub warning: Option<WarningLevel>,
}

impl AssignmentView {
    /// The view of `a` at `now`, its unit named from `units`.
    #[must_use]
    pub fn new(a: &Assignment, units: &[UnitInfo], now: DateTime<Utc>, yellow_share: f64) -> Self {
        let span = match a.state {
            AssignmentState::Dispatched => Some((a.dispatched_at, a.sign_deadline_at)),
            AssignmentState::InProgress
            | AssignmentState::Delegated
            | AssignmentState::ReturnRequested => Some((a.handle_start_at, a.handle_deadline_at)),
            AssignmentState::Replied | AssignmentState::Done | AssignmentState::Returned => None,
        };
        let warning =
            span.map(|(start, end)| warning_level(&active_deadline(start, end, yellow_share), now));
        Self {
            id: a.id,
            unit_id: a.unit_id,
            unit_name: units
                .iter()
                .find(|u| u.id == a.unit_id)
                .map(|u| u.name.clone()),
            role: a.role,
            state: a.state,
            state_label: a.state.label().to_owned(),
            parent_assignment_id: a.parent_assignment_id,
            dispatched_at: a.dispatched_at,
            dispatched_by: a.dispatched_by,
            sign_deadline_at: a.sign_deadline_at,
            return_deadline_at: a.return_deadline_at,
            handle_start_at: a.handle_start_at,
            handle_deadline_at: a.handle_deadline_at,
            signed_at: a.signed_at,
            signed_by: a.signed_by,
            reply: a.reply.clone(),
            replied_at: a.replied_at,
            replied_by: a.replied_by,
            return_reason: a.return_reason.clone(),
            extension_request: a.extension_request.clone(),
            extension_count: a.extension_count,
            urge_count: a.urge_count,
            warning,
        }
    }
}

/// A work order with every field, its assignments, its history and what the caller may do next.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrderView {
    /// For a merged order (已并单): the number of the order it is handled with.
    pub merged_into: Option<String>,
    /// The orders merged into this one (重复件), oldest first.
    pub repeat_numbers: Vec<String>,
    pub id: i64,
    /// 工单编号.
    pub number: String,
    /// Send it back as `version` with an action to be told when someone acted first.
    pub version: i64,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
    pub created_by: i64,
    pub updated_at: DateTime<Utc>,
    pub citizen: CitizenView,
    /// How much of the citizen the caller sees: `full`, `masked` or `hidden`.
    pub citizen_visibility: CitizenVisibility,
    pub order_type: OrderType,
    pub category_id: i64,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub urgency: Urgency,
    pub location: Location,
    pub state: OrderState,
    pub state_label: String,
    /// 派单时限.
    pub dispatch_deadline_at: DateTime<Utc>,
    pub active_deadline: Option<ActiveDeadline>,
    pub warning: Option<WarningLevel>,
    /// 回访时限.
    pub visit_deadline_at: Option<DateTime<Utc>>,
    pub reply: Option<String>,
    pub knowledge_entry_id: Option<i64>,
    pub transfer_line: Option<EmergencyLine>,
    pub legal_channel: Option<LegalChannel>,
    pub terminal_note: Option<String>,
    /// The order this one was merged into (并单).
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
    /// 不予考核.
    pub evaluation_excluded: bool,
    pub assignments: Vec<AssignmentView>,
    /// Every action on the order, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The files that came with its actions (附件), oldest first; each names its history event
    /// (`history_id`) and downloads at `GET /api/v1/orders/{number}/attachments/{id}`.
    pub attachments: Vec<Attachment>,
    /// The action codes the caller may try now (`POST /api/v1/orders/{number}/{action}`).
    pub available_actions: Vec<String>,
}

impl OrderView {
    /// The view of an order detail; `units` names the assignments' units.
    #[must_use]
    pub fn new(
        detail: OrderDetail,
        units: &[UnitInfo],
        now: DateTime<Utc>,
        yellow_share: f64,
    ) -> Self {
        let OrderDetail {
            aggregate,
            history,
            attachments,
            available_actions,
            citizen_visibility,
            warning,
            merged_into,
            repeats,
        } = detail;
        let assignments = aggregate
            .assignments
            .iter()
            .map(|a| AssignmentView::new(a, units, now, yellow_share))
            .collect();
        let o: Order = aggregate.order;
        Self {
            merged_into: merged_into.map(|p| p.number),
            repeat_numbers: repeats.into_iter().map(|r| r.order.number).collect(),
            id: o.id,
            citizen: CitizenView::new(&o.citizen, citizen_visibility),
            citizen_visibility,
            state_label: o.state.label().to_owned(),
            number: o.number,
            version: o.version,
            channel: o.channel,
            created_at: o.created_at,
            created_by: o.created_by,
            updated_at: o.updated_at,
            order_type: o.order_type,
            category_id: o.category_id,
            title: o.title,
            content: o.content,
            tags: o.tags,
            urgency: o.urgency,
            location: o.location,
            state: o.state,
            dispatch_deadline_at: o.dispatch_deadline_at,
            active_deadline: o.active_deadline,
            warning,
            visit_deadline_at: o.visit_deadline_at,
            reply: o.reply,
            knowledge_entry_id: o.knowledge_entry_id,
            transfer_line: o.transfer_line,
            legal_channel: o.legal_channel,
            terminal_note: o.terminal_note,
            parent_order_id: o.parent_order_id,
            closed_at: o.closed_at,
            solved: o.solved,
            satisfaction: o.satisfaction,
            visited_at: o.visited_at,
            redo_count: o.redo_count,
            urge_count: o.urge_count,
            supervision_count: o.supervision_count,
            escalation: o.escalation,
            leader_instruction: o.leader_instruction,
            appeal: o.appeal,
            evaluation_excluded: o.evaluation_excluded,
            assignments,
            history,
            attachments,
            available_actions: available_actions.into_iter().map(str::to_owned).collect(),
        }
    }
}
