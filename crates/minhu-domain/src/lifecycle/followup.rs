//! After the reply and around the whole life of an order: the return visit (回访) and redo (重办),
//! appeals (申诉), and the centre's oversight — urging (催办), supervision (督办), escalation (呈报)
//! and the leader's instruction (批示).

use serde_json::json;

use crate::action::{self, ActionContext, DomainError, Transition};
use crate::enums::{AppealState, AssignmentState, EscalationState, OrderState, Satisfaction};
use crate::lifecycle::common::{Draft, NOTE_MAX, optional_text, required_text};
use crate::lifecycle::guards;
use crate::lifecycle::unit::is_top_lead;
use crate::model::OrderAggregate;

/// 回访: record the citizen's answers and close, or send the order back for redo (重办).
pub(crate) fn visit(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Visit,
) -> Result<Transition, DomainError> {
    const CODE: &str = "visit";
    guards::visit(ctx, agg)?;
    let direct = agg.order.state == OrderState::ClosedDirect;
    if input.redo && direct {
        return Err(DomainError::invalid("redo", "直接办结的工单不能重办"));
    }
    if input.redo && input.satisfaction != Satisfaction::Unsatisfied {
        return Err(DomainError::invalid("redo", "只有市民不满意的工单才能重办"));
    }
    let note = optional_text("note", "回访备注", input.note.as_deref(), NOTE_MAX)?;
    let lead = guards::current_lead_index(agg);
    let mut d = Draft::new(ctx, agg);
    let mut details = json!({
        "solved": input.solved,
        "satisfaction": input.satisfaction,
        "redo": input.redo,
    });
    let mut unit_id = None;
    if input.redo {
        let Some(i) = lead else {
            return Err(invalid_lead());
        };
        let deadline = ctx.calendar.deadline(ctx.now, ctx.limits.redo);
        let a = &mut d.assignments[i];
        a.state = AssignmentState::InProgress;
        a.handle_start_at = ctx.now;
        a.handle_deadline_at = deadline;
        unit_id = Some(a.unit_id);
        d.order.redo_count += 1;
        d.order.reply = None;
        d.order.visit_deadline_at = None;
        d.follow_lead(ctx, i);
        details["handle_deadline_at"] = json!(deadline);
        details["redo_count"] = json!(d.order.redo_count);
    } else {
        d.order.solved = Some(input.solved);
        d.order.satisfaction = Some(input.satisfaction);
        d.order.visited_at = Some(ctx.now);
        if !direct {
            d.order.state = OrderState::Closed;
            d.order.closed_at = Some(ctx.now);
            d.order.active_deadline = None;
            // Units that never answered end with the order: nothing more can come of them.
            let mut ended = Vec::new();
            for a in d.assignments.iter_mut().filter(|a| a.state.is_open()) {
                a.state = AssignmentState::Done;
                a.extension_request = None;
                ended.push(a.id);
            }
            details["ended_assignment_ids"] = json!(ended);
            unit_id = lead.and_then(|i| agg.assignments.get(i)).map(|a| a.unit_id);
        }
    }
    Ok(d.finish(ctx, CODE, unit_id, note, details))
}

fn invalid_lead() -> DomainError {
    DomainError::invalid("redo", "工单没有主办单位，不能重办")
}

/// 申诉 (不予考核申请) by the lead unit on a closed order.
pub(crate) fn appeal(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Appeal,
) -> Result<Transition, DomainError> {
    const CODE: &str = "appeal";
    guards::appeal(ctx, agg)?;
    let reason = required_text("reason", "申诉理由", &input.reason, NOTE_MAX)?;
    let unit_id = guards::current_lead_index(agg)
        .and_then(|i| agg.assignments.get(i))
        .map(|a| a.unit_id);
    let mut d = Draft::new(ctx, agg);
    d.order.appeal = Some(AppealState::Requested);
    Ok(d.finish(ctx, CODE, unit_id, Some(reason), json!({})))
}

/// 申诉审核: uphold (the order leaves the evaluation) or keep.
pub(crate) fn review_appeal(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::ReviewAppeal,
) -> Result<Transition, DomainError> {
    const CODE: &str = "review_appeal";
    guards::review_appeal(ctx, agg)?;
    let note = optional_text("note", "审核意见", input.note.as_deref(), NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    if input.uphold {
        d.order.appeal = Some(AppealState::Upheld);
        d.order.evaluation_excluded = true;
    } else {
        d.order.appeal = Some(AppealState::Rejected);
    }
    let details = json!({ "uphold": input.uphold });
    Ok(d.finish(ctx, CODE, None, note, details))
}

/// 催办, 督办, 呈报: a note and a counter or flag; the order's state does not change.
pub(crate) fn oversight(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &'static str,
    input: &action::Note,
) -> Result<Transition, DomainError> {
    guards::oversight(ctx, agg, code)?;
    let note = required_text("note", "说明", &input.note, NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    let mut unit_id = None;
    let details = match code {
        "urge" => {
            d.order.urge_count += 1;
            if let Some(lead) = d
                .assignments
                .iter_mut()
                .find(|a| is_top_lead(a) && a.state.is_open())
            {
                lead.urge_count += 1;
                unit_id = Some(lead.unit_id);
            }
            json!({ "urge_count": d.order.urge_count })
        }
        "supervise" => {
            d.order.supervision_count += 1;
            json!({ "supervision_count": d.order.supervision_count })
        }
        _ => {
            d.order.escalation = Some(EscalationState::Pending);
            json!({})
        }
    };
    Ok(d.finish(ctx, code, unit_id, Some(note), details))
}

/// 批示: the leader's instruction on an escalated order.
pub(crate) fn instruct(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Instruct,
) -> Result<Transition, DomainError> {
    const CODE: &str = "instruct";
    guards::instruct(ctx, agg)?;
    let text = required_text("instruction", "批示内容", &input.instruction, NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    d.order.escalation = Some(EscalationState::Instructed);
    d.order.leader_instruction = Some(text.clone());
    Ok(d.finish(ctx, CODE, None, Some(text), json!({})))
}
