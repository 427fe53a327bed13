//! Lifecycle actions: what a person can do to an order, the context a decision needs, and what a
//! decision yields.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::Calendar;
use crate::enums::{EmergencyLine, LegalChannel, Satisfaction, Solved};
use crate::model::{Actor, Assignment, HistoryEvent, Order, UnitDirectory};
use crate::policy::Limits;

/// 直接办结: answer at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDirect {
    /// The answer given to the citizen.
    pub answer: String,
    /// The knowledge-base entry the answer came from, if any.
    #[serde(default)]
    pub knowledge_entry_id: Option<i64>,
}

/// 不予受理: out of the hotline's scope; the citizen is told the legal channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    pub legal_channel: LegalChannel,
    /// What the citizen was told.
    pub explanation: String,
}

/// 转110/119/120/122.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub line: EmergencyLine,
    #[serde(default)]
    pub note: Option<String>,
}

/// 并单: merge into an open parent order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The parent order's number.
    pub parent_number: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// 派单: dispatch to one lead unit and any co-handling units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    pub lead_unit_id: i64,
    #[serde(default)]
    pub co_unit_ids: Vec<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// An action a unit takes on its own assignment; `unit_id` picks the assignment when the actor's
/// subtree holds more than one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Sign {
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// 退单: ask to give the order back, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturn {
    pub reason: String,
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// 退单审核: the dispatcher (or the sub-centre above) agrees and re-dispatches, or refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewReturn {
    /// The unit whose return is decided.
    pub unit_id: i64,
    pub agree: bool,
    /// 改派: the unit that takes over when the return is agreed (required for a lead unit).
    #[serde(default)]
    pub new_unit_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// 转派: a sub-centre passes its assignment down its own subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redispatch {
    /// The unit in the sub-centre's subtree that takes the order.
    pub to_unit_id: i64,
    /// The sub-centre's own assignment when it holds several.
    #[serde(default)]
    pub unit_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

/// 延期申请.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestExtension {
    /// Working days to add to the handling deadline.
    pub days: u32,
    pub reason: String,
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// 延期审核.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewExtension {
    pub unit_id: i64,
    pub approve: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// 办结反馈: the unit's reply (a co unit's reply is its contribution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub text: String,
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// 审核: the reply passes or goes back to the unit. Used by the centre for a top-level lead reply
/// and by a sub-centre for a reply that comes up from its subtree (`unit_id` names the child).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub pass: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// For a sub-centre's review: the unit below whose reply is reviewed.
    #[serde(default)]
    pub unit_id: Option<i64>,
}

/// 回访: the citizen's answers; `redo` sends an unsatisfied order, judged reasonable, back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub solved: Solved,
    pub satisfaction: Satisfaction,
    /// Unsatisfied and judged reasonable: 重办.
    #[serde(default)]
    pub redo: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// 申诉 (不予考核申请) by the lead unit on a closed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Appeal {
    pub reason: String,
}

/// 申诉审核.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewAppeal {
    /// Upheld: the order is excluded from evaluation.
    pub uphold: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// A note-only action: 催办, 督办, 呈报.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub note: String,
}

/// 批示: the leader's instruction on an escalated order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instruct {
    pub instruction: String,
}

/// Every lifecycle action after registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CloseDirect(CloseDirect),
    Reject(Reject),
    Transfer(Transfer),
    Merge(Merge),
    Dispatch(Dispatch),
    Sign(Sign),
    RequestReturn(RequestReturn),
    ReviewReturn(ReviewReturn),
    Redispatch(Redispatch),
    RequestExtension(RequestExtension),
    ReviewExtension(ReviewExtension),
    Reply(Reply),
    Review(Review),
    Visit(Visit),
    Appeal(Appeal),
    ReviewAppeal(ReviewAppeal),
    Urge(Note),
    Supervise(Note),
    Escalate(Note),
    Instruct(Instruct),
}

impl Action {
    /// The action's code, as in the URL `POST /api/v1/orders/{number}/{code}` and the history.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::CloseDirect(_) => "close_direct",
            Self::Reject(_) => "reject",
            Self::Transfer(_) => "transfer",
            Self::Merge(_) => "merge",
            Self::Dispatch(_) => "dispatch",
            Self::Sign(_) => "sign",
            Self::RequestReturn(_) => "request_return",
            Self::ReviewReturn(_) => "review_return",
            Self::Redispatch(_) => "redispatch",
            Self::RequestExtension(_) => "request_extension",
            Self::ReviewExtension(_) => "review_extension",
            Self::Reply(_) => "reply",
            Self::Review(_) => "review",
            Self::Visit(_) => "visit",
            Self::Appeal(_) => "appeal",
            Self::ReviewAppeal(_) => "review_appeal",
            Self::Urge(_) => "urge",
            Self::Supervise(_) => "supervise",
            Self::Escalate(_) => "escalate",
            Self::Instruct(_) => "instruct",
        }
    }

    /// Every action code, in lifecycle order.
    pub const CODES: &'static [&'static str] = &[
        "close_direct",
        "reject",
        "transfer",
        "merge",
        "dispatch",
        "sign",
        "request_return",
        "review_return",
        "redispatch",
        "request_extension",
        "review_extension",
        "reply",
        "review",
        "visit",
        "appeal",
        "review_appeal",
        "urge",
        "supervise",
        "escalate",
        "instruct",
    ];
}

/// Everything a decision needs besides the order itself. Storage gathers it; the rules only read.
#[derive(Debug, Clone)]
pub struct ActionContext<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    /// The actor's unit, every unit named by the action and every unit with an assignment on the
    /// order, each with its path.
    pub units: &'a UnitDirectory,
    /// The order's time limits, resolved from its category, type and urgency.
    pub limits: &'a Limits,
    pub calendar: &'a Calendar,
    /// Share of a deadline's span left at which the warning turns yellow (e.g. 0.2).
    pub yellow_share: f64,
    /// For `merge`: the parent order the action names, as loaded by storage.
    pub merge_parent: Option<&'a Order>,
}

/// What a permitted action yields: the order and assignments as they are now, and the history
/// lines that say how they got there. Assignments with `id == 0` are new.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub order: Order,
    pub assignments: Vec<Assignment>,
    pub events: Vec<HistoryEvent>,
}

/// Why an action was refused. Each variant maps to one stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The actor lacks the role for this action (`forbidden`).
    #[error("没有执行该操作的权限：需要{required}")]
    Forbidden { required: String },
    /// The order or unit is outside the actor's data scope (`not_found`, so as not to leak it).
    #[error("工单不存在或不在您的数据范围内")]
    OutOfScope,
    /// The action does not apply in the order's (or assignment's) current state (`invalid_state`).
    #[error("当前状态为“{state}”，不能执行“{action}”")]
    InvalidState { action: String, state: String },
    /// A field's value is invalid (`invalid_field`).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    /// A unit named by the action does not exist or cannot take orders (`unknown_unit`).
    #[error("承办单位不存在或不可用：{unit_id}")]
    UnknownUnit { field: String, unit_id: i64 },
    /// A deadline has passed for this action, e.g. the return window (`deadline_passed`).
    #[error("{message}")]
    DeadlinePassed { message: String },
}

impl DomainError {
    /// The stable error code of the API's error envelope.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Forbidden { .. } => "forbidden",
            Self::OutOfScope => "not_found",
            Self::InvalidState { .. } => "invalid_state",
            Self::InvalidField { .. } => "invalid_field",
            Self::UnknownUnit { .. } => "unknown_unit",
            Self::DeadlinePassed { .. } => "deadline_passed",
        }
    }

    /// The request field the error concerns, if any.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidField { field, .. } | Self::UnknownUnit { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}
