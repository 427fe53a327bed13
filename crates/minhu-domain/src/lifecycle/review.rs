//! Reviews of what units send back: returns (退单审核), extensions (延期审核) and replies (审核).
//! A top-level assignment is reviewed by the centre; one passed down by a sub-centre (转派) is
//! reviewed by that sub-centre.

use serde_json::json;

use crate::action::{self, ActionContext, DomainError, Transition};
use crate::enums::{AssignmentState, OrderState};
use crate::lifecycle::common::{
    Draft, NOTE_MAX, dispatchable_unit, ensure_not_holding, handle_span, invalid_state,
    mark_replied, new_assignment, optional_text, required_text, span,
};
use crate::lifecycle::guards;
use crate::lifecycle::unit::{is_top_lead, select_open};
use crate::model::{Assignment, OrderAggregate};

/// Every non-input check of review `code`, then the reviewed assignment's index.
fn target(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
    unit_id: Option<i64>,
) -> Result<usize, DomainError> {
    guards::review_order(ctx, agg, code, unit_id)?;
    let idx = match unit_id {
        Some(u) => select_open(ctx, agg, Some(u))?,
        None if !ctx.actor.is_centre_staff() => {
            return Err(DomainError::invalid("unit_id", "请指定要审核的下级单位"));
        }
        None => {
            if agg.order.state != OrderState::Replied {
                return Err(invalid_state(code, agg.order.state.label()));
            }
            agg.assignments
                .iter()
                .position(|a| is_top_lead(a) && a.state.is_open())
                .ok_or_else(|| invalid_state(code, agg.order.state.label()))?
        }
    };
    if let Some(a) = agg.assignments.get(idx) {
        guards::review_target(ctx, agg, code, a)?;
    }
    Ok(idx)
}

/// The index of `a`'s parent assignment.
fn parent_index(agg: &OrderAggregate, a: &Assignment) -> Result<usize, DomainError> {
    a.parent_assignment_id
        .and_then(|pid| agg.assignments.iter().position(|p| p.id == pid))
        .ok_or_else(|| DomainError::invalid("unit_id", "找不到转派该任务的上级任务"))
}

/// 退单审核: refuse (the unit carries on) or agree (改派 to a new unit where needed).
pub(crate) fn review_return(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::ReviewReturn,
) -> Result<Transition, DomainError> {
    const CODE: &str = "review_return";
    let idx = target(ctx, agg, CODE, Some(input.unit_id))?;
    let Some(a) = agg.assignments.get(idx) else {
        return Err(DomainError::invalid("unit_id", "任务不存在"));
    };
    let field = "new_unit_id";
    if !input.agree && input.new_unit_id.is_some() {
        return Err(DomainError::invalid(field, "不同意退单时不能指定改派单位"));
    }
    let parent = match a.parent_assignment_id {
        Some(_) => Some(parent_index(agg, a)?),
        None => None,
    };
    let new_unit = match input.new_unit_id {
        Some(u) => Some(dispatchable_unit(ctx, field, u)?),
        None if input.agree && is_top_lead(a) => {
            return Err(DomainError::invalid(
                field,
                "同意主办单位退单时必须指定改派单位",
            ));
        }
        None => None,
    };
    if let Some(u) = new_unit {
        if u.id == a.unit_id {
            return Err(DomainError::invalid(field, "改派单位不能是退单单位"));
        }
        if let Some(p) = parent.and_then(|i| agg.assignments.get(i)) {
            let within = ctx
                .units
                .get(p.unit_id)
                .is_some_and(|pu| pu.contains(u) && pu.id != u.id);
            if !within {
                return Err(DomainError::invalid(
                    field,
                    "只能改派给本分中心辖区内的下级单位",
                ));
            }
        }
        ensure_not_holding(&agg.assignments, field, u.id)?;
    }
    let note = optional_text("note", "审核意见", input.note.as_deref(), NOTE_MAX)?;

    let mut d = Draft::new(ctx, agg);
    let mut follow = is_top_lead(a).then_some(idx);
    let mut details = json!({ "agree": input.agree, "new_unit_id": input.new_unit_id });
    if input.agree {
        let returned = &mut d.assignments[idx];
        returned.state = AssignmentState::Returned;
        returned.extension_request = None;
        if let Some(u) = new_unit {
            let parent_a = parent.and_then(|i| agg.assignments.get(i));
            let fresh = new_assignment(ctx, agg.order.id, u.id, a.role, parent_a);
            details["sign_deadline_at"] = json!(fresh.sign_deadline_at);
            details["handle_deadline_at"] = json!(fresh.handle_deadline_at);
            d.assignments.push(fresh);
            if follow.is_some() {
                follow = Some(d.assignments.len() - 1);
            }
        } else if let Some(p) = parent {
            // Nobody below takes over: the sub-centre handles it itself again.
            d.assignments[p].state = AssignmentState::InProgress;
            if d.assignments.get(p).is_some_and(is_top_lead) {
                follow = Some(p);
            }
        }
    } else {
        let back = &mut d.assignments[idx];
        back.state = if back.signed_at.is_some() {
            AssignmentState::InProgress
        } else {
            AssignmentState::Dispatched
        };
        details["assignment_state"] = json!(back.state);
    }
    if let Some(i) = follow {
        d.follow_lead(ctx, i);
    }
    Ok(d.finish(ctx, CODE, Some(a.unit_id), note, details))
}

/// 延期审核: approve (the handling deadline moves) or refuse.
pub(crate) fn review_extension(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::ReviewExtension,
) -> Result<Transition, DomainError> {
    const CODE: &str = "review_extension";
    let idx = target(ctx, agg, CODE, Some(input.unit_id))?;
    let note = optional_text("note", "审核意见", input.note.as_deref(), NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    let a = &mut d.assignments[idx];
    let Some(request) = a.extension_request.take() else {
        return Err(invalid_state(CODE, "无待审核的延期申请"));
    };
    let previous = a.handle_deadline_at;
    if input.approve {
        a.handle_deadline_at = request.proposed_deadline_at;
        a.extension_count += 1;
    }
    let details = json!({
        "approve": input.approve,
        "days": request.days,
        "previous_deadline_at": previous,
        "handle_deadline_at": a.handle_deadline_at,
    });
    let unit_id = a.unit_id;
    if input.approve && is_top_lead(a) && d.order.state == OrderState::InProgress {
        let deadline = handle_span(ctx, a);
        d.order.active_deadline = Some(deadline);
    }
    Ok(d.finish(ctx, CODE, Some(unit_id), note, details))
}

/// 审核: the centre reviews the lead's reply; a sub-centre reviews what came up from below.
pub(crate) fn review(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Review,
) -> Result<Transition, DomainError> {
    const CODE: &str = "review";
    let idx = target(ctx, agg, CODE, input.unit_id)?;
    let Some(a) = agg.assignments.get(idx) else {
        return Err(DomainError::invalid("unit_id", "任务不存在"));
    };
    let note = if input.pass {
        optional_text("note", "审核意见", input.note.as_deref(), NOTE_MAX)?
    } else {
        let text = input.note.as_deref().unwrap_or_default();
        Some(required_text("note", "退回意见", text, NOTE_MAX)?)
    };
    let parent = match a.parent_assignment_id {
        Some(_) => Some(parent_index(agg, a)?),
        None => None,
    };

    let mut d = Draft::new(ctx, agg);
    let mut details = json!({ "pass": input.pass });
    d.assignments[idx].state = if input.pass {
        AssignmentState::Done
    } else {
        AssignmentState::InProgress
    };
    match parent {
        None if input.pass => {
            let visit_deadline = ctx.calendar.deadline(ctx.now, ctx.limits.visit);
            d.order.state = OrderState::PendingVisit;
            d.order.reply.clone_from(&a.reply);
            d.order.visit_deadline_at = Some(visit_deadline);
            d.order.active_deadline = Some(span(ctx, ctx.now, visit_deadline));
            details["visit_deadline_at"] = json!(visit_deadline);
        }
        None => d.follow_lead(ctx, idx),
        Some(p) if input.pass => {
            // The reply goes up: the sub-centre's own assignment now carries it.
            let text = a.reply.clone().unwrap_or_default();
            let up = &mut d.assignments[p];
            mark_replied(up, &text, ctx.now, ctx.actor.user_id);
            details["parent_unit_id"] = json!(up.unit_id);
            details["parent_state"] = json!(up.state);
            if is_top_lead(up) {
                d.follow_lead(ctx, p);
            }
        }
        Some(_) => {}
    }
    details["assignment_role"] = json!(a.role);
    Ok(d.finish(ctx, CODE, Some(a.unit_id), note, details))
}
