//! What a handling unit does with its assignment: sign for it, ask to return it, ask for more
//! time, reply, or (a sub-centre) pass it down its subtree.

use serde_json::json;

use crate::action::{self, ActionContext, DomainError, Transition};
use crate::enums::AssignmentState;
use crate::lifecycle::common::{
    Draft, LONG_TEXT_MAX, NOTE_MAX, dispatchable_unit, ensure_not_holding, mark_replied,
    new_assignment, optional_text, required_text,
};
use crate::lifecycle::guards;
use crate::model::{Assignment, ExtensionRequest, OrderAggregate};
use crate::policy::TimeLimit;

/// Whether `a` is the top-level lead assignment (whose state the order follows).
pub(crate) fn is_top_lead(a: &Assignment) -> bool {
    a.is_lead() && a.parent_assignment_id.is_none()
}

/// The only open assignment matching `pred`, or the `unit_id` field error.
fn single_open(
    agg: &OrderAggregate,
    pred: impl Fn(&Assignment) -> bool,
    none: &str,
) -> Result<usize, DomainError> {
    let mut found = agg
        .assignments
        .iter()
        .enumerate()
        .filter(|(_, a)| a.state.is_open() && pred(a))
        .map(|(i, _)| i);
    match (found.next(), found.next()) {
        (Some(i), None) => Ok(i),
        (None, _) => Err(DomainError::invalid("unit_id", none)),
        (Some(_), Some(_)) => Err(DomainError::invalid(
            "unit_id",
            "该工单上有多项进行中的任务，请指定单位",
        )),
    }
}

/// The open assignment a unit action concerns: that of `unit_id` when given, else that of the
/// actor's own unit.
pub(crate) fn select_open(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    unit_id: Option<i64>,
) -> Result<usize, DomainError> {
    match unit_id {
        Some(u) => single_open(agg, |a| a.unit_id == u, "该单位在本工单上没有进行中的任务"),
        None => {
            let own = ctx.actor.unit.id;
            single_open(
                agg,
                |a| a.unit_id == own,
                "本单位在该工单上没有进行中的任务，请指定要操作的单位",
            )
        }
    }
}

/// Every non-input check of unit action `code`, then the assignment's index.
fn target(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
    unit_id: Option<i64>,
) -> Result<usize, DomainError> {
    guards::unit_order(ctx, agg, code, unit_id)?;
    let idx = select_open(ctx, agg, unit_id)?;
    if let Some(a) = agg.assignments.get(idx) {
        guards::unit_target(ctx, code, a)?;
    }
    Ok(idx)
}

/// 签收.
pub(crate) fn sign(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Sign,
) -> Result<Transition, DomainError> {
    const CODE: &str = "sign";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let mut d = Draft::new(ctx, agg);
    let a = &mut d.assignments[idx];
    a.state = AssignmentState::InProgress;
    a.signed_at = Some(ctx.now);
    a.signed_by = Some(ctx.actor.user_id);
    let (unit_id, top_lead) = (a.unit_id, is_top_lead(a));
    let details = json!({
        "assignment_role": a.role,
        "handle_deadline_at": a.handle_deadline_at,
    });
    if top_lead {
        d.follow_lead(ctx, idx);
    }
    Ok(d.finish(ctx, CODE, Some(unit_id), None, details))
}

/// 退单申请, within the return window.
pub(crate) fn request_return(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::RequestReturn,
) -> Result<Transition, DomainError> {
    const CODE: &str = "request_return";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let reason = required_text("reason", "退单理由", &input.reason, NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    let a = &mut d.assignments[idx];
    let previous = a.state;
    a.state = AssignmentState::ReturnRequested;
    a.return_reason = Some(reason.clone());
    let (unit_id, top_lead) = (a.unit_id, is_top_lead(a));
    let details = json!({ "assignment_role": a.role, "previous_state": previous });
    if top_lead {
        d.follow_lead(ctx, idx);
    }
    Ok(d.finish(ctx, CODE, Some(unit_id), Some(reason), details))
}

/// 延期申请: extra working days on the handling deadline, up to the policy's maximum.
pub(crate) fn request_extension(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::RequestExtension,
) -> Result<Transition, DomainError> {
    const CODE: &str = "request_extension";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let max = ctx.limits.extension_max.amount;
    if input.days < 1 || input.days > max {
        return Err(DomainError::invalid(
            "days",
            format!("延期天数应为1到{max}个工作日"),
        ));
    }
    let reason = required_text("reason", "延期理由", &input.reason, NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    let a = &mut d.assignments[idx];
    let proposed = ctx
        .calendar
        .deadline(a.handle_deadline_at, TimeLimit::working_days(input.days));
    a.extension_request = Some(ExtensionRequest {
        days: input.days,
        reason: reason.clone(),
        requested_at: ctx.now,
        requested_by: ctx.actor.user_id,
        proposed_deadline_at: proposed,
    });
    let unit_id = a.unit_id;
    let details = json!({
        "days": input.days,
        "handle_deadline_at": a.handle_deadline_at,
        "proposed_deadline_at": proposed,
    });
    Ok(d.finish(ctx, CODE, Some(unit_id), Some(reason), details))
}

/// 办结反馈.
pub(crate) fn reply(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Reply,
) -> Result<Transition, DomainError> {
    const CODE: &str = "reply";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let text = required_text("text", "反馈内容", &input.text, LONG_TEXT_MAX)?;
    let mut d = Draft::new(ctx, agg);
    let a = &mut d.assignments[idx];
    let withdrawn = a.extension_request.is_some();
    mark_replied(a, &text, ctx.now, ctx.actor.user_id);
    let (unit_id, top_lead) = (a.unit_id, is_top_lead(a));
    let details = json!({
        "assignment_role": a.role,
        "assignment_state": a.state,
        "extension_request_withdrawn": withdrawn,
    });
    if top_lead {
        d.follow_lead(ctx, idx);
    }
    Ok(d.finish(ctx, CODE, Some(unit_id), Some(text), details))
}

/// 转派: a sub-centre passes its signed assignment to a unit of its subtree.
pub(crate) fn redispatch(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Redispatch,
) -> Result<Transition, DomainError> {
    const CODE: &str = "redispatch";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let Some(parent) = agg.assignments.get(idx) else {
        return Err(DomainError::invalid("unit_id", "任务不存在"));
    };
    let field = "to_unit_id";
    let to = dispatchable_unit(ctx, field, input.to_unit_id)?;
    let within = ctx
        .units
        .get(parent.unit_id)
        .is_some_and(|p| p.contains(to) && p.id != to.id);
    if !within {
        return Err(DomainError::invalid(
            field,
            "只能转派给本分中心辖区内的下级单位",
        ));
    }
    ensure_not_holding(&agg.assignments, field, to.id)?;
    let note = optional_text("note", "备注", input.note.as_deref(), NOTE_MAX)?;

    let mut d = Draft::new(ctx, agg);
    let child = new_assignment(ctx, agg.order.id, to.id, parent.role, Some(parent));
    let details = json!({
        "parent_assignment_id": parent.id,
        "from_unit_id": parent.unit_id,
        "to_unit_id": to.id,
        "sign_deadline_at": child.sign_deadline_at,
        "handle_deadline_at": child.handle_deadline_at,
    });
    d.assignments[idx].state = AssignmentState::Delegated;
    d.assignments.push(child);
    Ok(d.finish(ctx, CODE, Some(parent.unit_id), note, details))
}
