//! Helpers shared by the lifecycle actions: free texts, deadlines, new assignments and the draft
//! that becomes a [`Transition`].

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::action::{ActionContext, DomainError, Transition};
use crate::enums::{AssignmentRole, AssignmentState, OrderState, UnitKind};
use crate::model::{ActiveDeadline, Assignment, HistoryEvent, Order, OrderAggregate, UnitInfo};
use crate::warning;

/// The longest note, reason or explanation, in characters.
pub(crate) const NOTE_MAX: usize = 2000;
/// The longest reply or answer, in characters.
pub(crate) const LONG_TEXT_MAX: usize = 10_000;

/// The Chinese name of an action code, for messages.
#[must_use]
pub(crate) fn action_label(code: &str) -> &'static str {
    match code {
        "register" => "登记",
        "close_direct" => "直接办结",
        "reject" => "不予受理",
        "transfer" => "转应急",
        "merge" => "并单",
        "dispatch" => "派单",
        "sign" => "签收",
        "request_return" => "退单",
        "review_return" => "退单审核",
        "redispatch" => "转派",
        "request_extension" => "延期申请",
        "review_extension" => "延期审核",
        "reply" => "办结反馈",
        "review" => "审核",
        "visit" => "回访",
        "appeal" => "申诉",
        "review_appeal" => "申诉审核",
        "urge" => "催办",
        "supervise" => "督办",
        "escalate" => "呈报",
        "instruct" => "批示",
        _ => "该操作",
    }
}

/// The refusal of `code` in a state described by `state` (a Chinese label).
pub(crate) fn invalid_state(code: &str, state: &str) -> DomainError {
    DomainError::InvalidState {
        action: action_label(code).to_owned(),
        state: state.to_owned(),
    }
}

/// A required free text: trimmed, non-empty, at most `max` characters.
pub(crate) fn required_text(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, format!("{label}不能为空")));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("{label}长度不能超过{max}字"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional free text: trimmed, empty counts as absent, at most `max` characters.
pub(crate) fn optional_text(
    field: &str,
    label: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => required_text(field, label, text, max).map(Some),
    }
}

/// The active deadline of a span, with its yellow instant.
pub(crate) fn span(
    ctx: &ActionContext<'_>,
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> ActiveDeadline {
    warning::active_deadline(start, deadline, ctx.yellow_share)
}

/// The sign-for span of an assignment (签收时限).
pub(crate) fn sign_span(ctx: &ActionContext<'_>, a: &Assignment) -> ActiveDeadline {
    span(ctx, a.dispatched_at, a.sign_deadline_at)
}

/// The handling span of an assignment (办结时限).
pub(crate) fn handle_span(ctx: &ActionContext<'_>, a: &Assignment) -> ActiveDeadline {
    span(ctx, a.handle_start_at, a.handle_deadline_at)
}

/// The order's active deadline while its top-level lead is in `a`'s state.
pub(crate) fn lead_deadline(
    ctx: &ActionContext<'_>,
    a: &Assignment,
    current: Option<ActiveDeadline>,
) -> Option<ActiveDeadline> {
    match a.state {
        AssignmentState::Dispatched => Some(sign_span(ctx, a)),
        AssignmentState::InProgress | AssignmentState::Delegated => Some(handle_span(ctx, a)),
        AssignmentState::ReturnRequested => current,
        AssignmentState::Replied | AssignmentState::Done | AssignmentState::Returned => None,
    }
}

/// The order state that a top-level lead in state `s` gives, if it gives one.
pub(crate) const fn order_state_of_lead(s: AssignmentState) -> Option<OrderState> {
    match s {
        AssignmentState::Dispatched => Some(OrderState::Dispatched),
        AssignmentState::ReturnRequested => Some(OrderState::ReturnRequested),
        AssignmentState::InProgress | AssignmentState::Delegated => Some(OrderState::InProgress),
        AssignmentState::Replied => Some(OrderState::Replied),
        AssignmentState::Done => Some(OrderState::PendingVisit),
        AssignmentState::Returned => None,
    }
}

/// A new assignment of `unit_id`, dispatched now by the actor. A child of `parent` (转派) keeps
/// the parent's handling deadline; otherwise every deadline runs from now.
pub(crate) fn new_assignment(
    ctx: &ActionContext<'_>,
    order_id: i64,
    unit_id: i64,
    role: AssignmentRole,
    parent: Option<&Assignment>,
) -> Assignment {
    let now = ctx.now;
    Assignment {
        id: 0,
        order_id,
        unit_id,
        role,
        state: AssignmentState::Dispatched,
        parent_assignment_id: parent.map(|p| p.id),
        dispatched_at: now,
        dispatched_by: ctx.actor.user_id,
        sign_deadline_at: ctx.calendar.deadline(now, ctx.limits.sign),
        return_deadline_at: ctx.calendar.deadline(now, ctx.limits.return_window),
        handle_start_at: now,
        handle_deadline_at: parent.map_or_else(
            || ctx.calendar.deadline(now, ctx.limits.handle),
            |p| p.handle_deadline_at,
        ),
        signed_at: None,
        signed_by: None,
        reply: None,
        replied_at: None,
        replied_by: None,
        return_reason: None,
        extension_request: None,
        extension_count: 0,
        urge_count: 0,
    }
}

/// A unit that may receive an order: known, active and not the city centre itself.
pub(crate) fn dispatchable_unit<'u>(
    ctx: &'u ActionContext<'_>,
    field: &str,
    unit_id: i64,
) -> Result<&'u UnitInfo, DomainError> {
    match ctx.units.get(unit_id) {
        Some(u) if u.active && u.kind != UnitKind::CityCentre => Ok(u),
        _ => Err(DomainError::UnknownUnit {
            field: field.to_owned(),
            unit_id,
        }),
    }
}

/// Refuses a unit that already holds an open assignment on the order, or is the top-level lead
/// whose done assignment a redo (重办) would reopen.
pub(crate) fn ensure_not_holding(
    assignments: &[Assignment],
    field: &str,
    unit_id: i64,
) -> Result<(), DomainError> {
    let holds = |a: &Assignment| {
        a.state.is_open()
            || (a.state == AssignmentState::Done && a.is_lead() && a.parent_assignment_id.is_none())
    };
    if assignments.iter().any(|a| a.unit_id == unit_id && holds(a)) {
        return Err(DomainError::invalid(
            field,
            "该单位已在办理本工单，不能重复交办",
        ));
    }
    Ok(())
}

/// Records that `a` has replied with `text`: a top-level co assignment is done at once (a co
/// unit's contribution needs no review); every other assignment waits for review. A pending
/// extension request lapses.
pub(crate) fn mark_replied(a: &mut Assignment, text: &str, now: DateTime<Utc>, by: i64) {
    a.reply = Some(text.to_owned());
    a.replied_at = Some(now);
    a.replied_by = Some(by);
    a.extension_request = None;
    a.state = if a.role == AssignmentRole::Co && a.parent_assignment_id.is_none() {
        AssignmentState::Done
    } else {
        AssignmentState::Replied
    };
}

/// The order and assignments being changed by one action.
pub(crate) struct Draft {
    /// The order, `updated_at` already set to now.
    pub order: Order,
    /// Every assignment; new ones are pushed with `id == 0`.
    pub assignments: Vec<Assignment>,
    from: OrderState,
}

impl Draft {
    /// A copy of `agg` to change.
    pub(crate) fn new(ctx: &ActionContext<'_>, agg: &OrderAggregate) -> Self {
        let mut order = agg.order.clone();
        order.updated_at = ctx.now;
        Self {
            order,
            assignments: agg.assignments.clone(),
            from: agg.order.state,
        }
    }

    /// Applies the state of the top-level lead at `idx` to the order: its state and, when
    /// `with_deadline`, its active deadline.
    pub(crate) fn follow_lead(&mut self, ctx: &ActionContext<'_>, idx: usize) {
        if let Some(lead) = self.assignments.get(idx) {
            if let Some(state) = order_state_of_lead(lead.state) {
                self.order.state = state;
            }
            self.order.active_deadline = lead_deadline(ctx, lead, self.order.active_deadline);
        }
    }

    /// The transition with one history event for `code`.
    pub(crate) fn finish(
        self,
        ctx: &ActionContext<'_>,
        code: &str,
        unit_id: Option<i64>,
        text: Option<String>,
        details: Value,
    ) -> Transition {
        let event = HistoryEvent {
            at: ctx.now,
            actor_id: ctx.actor.user_id,
            actor_unit_id: ctx.actor.unit.id,
            action: code.to_owned(),
            from_state: Some(self.from),
            to_state: self.order.state,
            unit_id,
            text,
            details,
        };
        Transition {
            order: self.order,
            assignments: self.assignments,
            events: vec![event],
        }
    }
}
