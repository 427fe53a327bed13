//! What the centre does with a registered order: close it at once, reject, transfer, merge, or
//! dispatch it to units.

use serde_json::json;

use crate::action::{self, ActionContext, DomainError, Transition};
use crate::enums::{AssignmentRole, OrderState};
use crate::lifecycle::common::{
    Draft, LONG_TEXT_MAX, NOTE_MAX, dispatchable_unit, new_assignment, optional_text,
    required_text, sign_span,
};
use crate::lifecycle::guards;
use crate::model::OrderAggregate;

/// The most co-handling units of one dispatch.
const CO_UNITS_MAX: usize = 10;

/// Ends the order at intake: the state and the common fields of every terminal step.
fn end(draft: &mut Draft, ctx: &ActionContext<'_>, state: OrderState) {
    draft.order.state = state;
    draft.order.closed_at = Some(ctx.now);
    draft.order.active_deadline = None;
}

/// 直接办结.
pub(crate) fn close_direct(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::CloseDirect,
) -> Result<Transition, DomainError> {
    const CODE: &str = "close_direct";
    guards::intake(ctx, agg, CODE)?;
    let answer = required_text("answer", "答复内容", &input.answer, LONG_TEXT_MAX)?;
    let mut d = Draft::new(ctx, agg);
    end(&mut d, ctx, OrderState::ClosedDirect);
    d.order.reply = Some(answer.clone());
    d.order.knowledge_entry_id = input.knowledge_entry_id;
    let details = json!({ "knowledge_entry_id": input.knowledge_entry_id });
    Ok(d.finish(ctx, CODE, None, Some(answer), details))
}

/// 不予受理.
pub(crate) fn reject(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Reject,
) -> Result<Transition, DomainError> {
    const CODE: &str = "reject";
    guards::intake(ctx, agg, CODE)?;
    let explanation = required_text("explanation", "告知内容", &input.explanation, NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    end(&mut d, ctx, OrderState::Rejected);
    d.order.legal_channel = Some(input.legal_channel);
    d.order.terminal_note = Some(explanation.clone());
    let details = json!({ "legal_channel": input.legal_channel });
    Ok(d.finish(ctx, CODE, None, Some(explanation), details))
}

/// 转应急 (110/119/120/122).
pub(crate) fn transfer(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Transfer,
) -> Result<Transition, DomainError> {
    const CODE: &str = "transfer";
    guards::intake(ctx, agg, CODE)?;
    let note = optional_text("note", "备注", input.note.as_deref(), NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    end(&mut d, ctx, OrderState::Transferred);
    d.order.transfer_line = Some(input.line);
    d.order.terminal_note.clone_from(&note);
    let details = json!({ "line": input.line });
    Ok(d.finish(ctx, CODE, None, note, details))
}

/// 并单: into the open parent order storage loaded as `ctx.merge_parent`.
pub(crate) fn merge(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Merge,
) -> Result<Transition, DomainError> {
    const CODE: &str = "merge";
    guards::intake(ctx, agg, CODE)?;
    let field = "parent_number";
    let parent = ctx
        .merge_parent
        .filter(|p| p.number == input.parent_number.trim())
        .ok_or_else(|| DomainError::invalid(field, "要并入的工单不存在"))?;
    if parent.id == agg.order.id {
        return Err(DomainError::invalid(field, "不能并入工单自身"));
    }
    if parent.state.is_terminal() {
        return Err(DomainError::invalid(
            field,
            format!(
                "要并入的工单已结束（{}），只能并入办理中的工单",
                parent.state.label()
            ),
        ));
    }
    let note = optional_text("note", "备注", input.note.as_deref(), NOTE_MAX)?;
    let mut d = Draft::new(ctx, agg);
    end(&mut d, ctx, OrderState::Merged);
    d.order.parent_order_id = Some(parent.id);
    d.order.terminal_note.clone_from(&note);
    let details = json!({ "parent_order_id": parent.id, "parent_number": parent.number });
    Ok(d.finish(ctx, CODE, None, note, details))
}

/// 派单: one lead unit and up to ten co-handling units.
pub(crate) fn dispatch(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    input: &action::Dispatch,
) -> Result<Transition, DomainError> {
    const CODE: &str = "dispatch";
    guards::intake(ctx, agg, CODE)?;
    let lead_unit = dispatchable_unit(ctx, "lead_unit_id", input.lead_unit_id)?;
    if input.co_unit_ids.len() > CO_UNITS_MAX {
        return Err(DomainError::invalid(
            "co_unit_ids",
            format!("协办单位不能超过{CO_UNITS_MAX}个"),
        ));
    }
    for (i, co) in input.co_unit_ids.iter().enumerate() {
        if *co == lead_unit.id || input.co_unit_ids[..i].contains(co) {
            return Err(DomainError::invalid(
                "co_unit_ids",
                "协办单位不能重复，也不能与主办单位相同",
            ));
        }
        dispatchable_unit(ctx, "co_unit_ids", *co)?;
    }
    let note = optional_text("note", "备注", input.note.as_deref(), NOTE_MAX)?;

    let order_id = agg.order.id;
    let mut d = Draft::new(ctx, agg);
    let lead = new_assignment(ctx, order_id, lead_unit.id, AssignmentRole::Lead, None);
    d.order.state = OrderState::Dispatched;
    d.order.active_deadline = Some(sign_span(ctx, &lead));
    let details = json!({
        "lead_unit_id": lead.unit_id,
        "co_unit_ids": input.co_unit_ids,
        "sign_deadline_at": lead.sign_deadline_at,
        "return_deadline_at": lead.return_deadline_at,
        "handle_deadline_at": lead.handle_deadline_at,
    });
    d.assignments.push(lead);
    for co in &input.co_unit_ids {
        d.assignments
            .push(new_assignment(ctx, order_id, *co, AssignmentRole::Co, None));
    }
    Ok(d.finish(ctx, CODE, Some(input.lead_unit_id), note, details))
}
