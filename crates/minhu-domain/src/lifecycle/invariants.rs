//! What must hold of every order aggregate the lifecycle produces.

use std::collections::HashSet;

use crate::enums::{AppealState, AssignmentRole, AssignmentState, EscalationState, OrderState};
use crate::lifecycle::common::order_state_of_lead;
use crate::model::{Assignment, OrderAggregate};

/// Top-level lead assignments that were not returned: the lead now, open or done.
fn current_leads(agg: &OrderAggregate) -> Vec<&Assignment> {
    agg.assignments
        .iter()
        .filter(|a| {
            a.is_lead() && a.parent_assignment_id.is_none() && a.state != AssignmentState::Returned
        })
        .collect()
}

/// The state an order with units must be in, read off its top-level lead assignment: 待签收,
/// 退单审核, 办理中 (also while a sub-centre has passed it down), 待审核, and 待回访 once the lead
/// is done. `None` for registered and terminal orders (their state does not follow from the
/// assignments) and when there is not exactly one current top-level lead.
#[must_use]
pub fn derive_order_state(agg: &OrderAggregate) -> Option<OrderState> {
    if !agg.order.state.is_with_units() {
        return None;
    }
    match current_leads(agg).as_slice() {
        [lead] => order_state_of_lead(lead.state),
        _ => None,
    }
}

fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

fn check_assignment(agg: &OrderAggregate, a: &Assignment) -> Result<(), String> {
    let id = a.id;
    ensure(a.order_id == agg.order.id, || {
        format!("任务{id}属于工单{}，不属于本工单", a.order_id)
    })?;
    if let Some(pid) = a.parent_assignment_id {
        let parent = agg
            .assignment(pid)
            .ok_or_else(|| format!("任务{id}的上级任务{pid}不存在"))?;
        ensure(parent.role == a.role, || {
            format!("任务{id}与上级任务{pid}的主协办性质不同")
        })?;
    }
    ensure(a.extension_request.is_none() || a.state.is_open(), || {
        format!("已结束的任务{id}仍有待审核的延期申请")
    })?;
    ensure(
        a.state != AssignmentState::ReturnRequested || a.return_reason.is_some(),
        || format!("任务{id}退单待审核但没有退单理由"),
    )?;
    let worked = matches!(
        a.state,
        AssignmentState::InProgress | AssignmentState::Delegated | AssignmentState::Replied
    );
    ensure(!worked || a.signed_at.is_some(), || {
        format!("任务{id}处于{}但未签收", a.state.label())
    })?;
    ensure(
        a.state != AssignmentState::Replied || a.reply.is_some(),
        || format!("任务{id}已反馈但没有反馈内容"),
    )?;
    ensure(
        !(a.state == AssignmentState::Replied
            && a.role == AssignmentRole::Co
            && a.parent_assignment_id.is_none()),
        || format!("协办任务{id}不经审核，不应处于待审核"),
    )?;
    let open_children = agg
        .assignments
        .iter()
        .filter(|c| c.parent_assignment_id == Some(id) && c.state.is_open())
        .count();
    if a.state == AssignmentState::Delegated {
        ensure(open_children == 1, || {
            format!("已转派的任务{id}有{open_children}项进行中的下级任务，应为1项")
        })
    } else {
        ensure(open_children == 0, || {
            format!("未转派的任务{id}有{open_children}项进行中的下级任务")
        })
    }
}

fn check_unrouted(agg: &OrderAggregate) -> Result<(), String> {
    let o = &agg.order;
    ensure(agg.assignments.is_empty(), || {
        format!("{}的工单不应有承办任务", o.state.label())
    })?;
    match o.state {
        OrderState::ClosedDirect => ensure(o.reply.is_some(), || "直接办结的工单没有答复".into()),
        OrderState::Rejected => ensure(o.legal_channel.is_some(), || {
            "不予受理的工单没有告知法定途径".into()
        }),
        OrderState::Transferred => ensure(o.transfer_line.is_some(), || {
            "已转应急的工单没有转往的热线".into()
        }),
        OrderState::Merged => ensure(o.parent_order_id.is_some_and(|p| p != o.id), || {
            "已并单的工单没有（有效的）主工单".into()
        }),
        _ => Ok(()),
    }
}

fn check_routed(agg: &OrderAggregate) -> Result<(), String> {
    let o = &agg.order;
    let leads = current_leads(agg);
    let [lead] = leads.as_slice() else {
        return Err(format!(
            "已派单的工单应有且只有一个主办任务，实有{}个",
            leads.len()
        ));
    };
    if o.state == OrderState::Closed {
        ensure(lead.state == AssignmentState::Done, || {
            "已办结工单的主办任务未办结".into()
        })?;
        ensure(agg.assignments.iter().all(|a| !a.state.is_open()), || {
            "已办结的工单仍有进行中的任务".into()
        })?;
        ensure(
            o.solved.is_some()
                && o.satisfaction.is_some()
                && o.visited_at.is_some()
                && o.closed_at.is_some(),
            || "已办结的工单缺少回访结果".into(),
        )?;
        return Ok(());
    }
    let derived = derive_order_state(agg);
    ensure(derived == Some(o.state), || {
        format!(
            "工单状态为{}，但按主办任务应为{}",
            o.state.label(),
            derived.map_or("（无法推出）", OrderState::label)
        )
    })?;
    if o.state == OrderState::PendingVisit {
        ensure(o.visit_deadline_at.is_some() && o.reply.is_some(), || {
            "待回访的工单缺少答复或回访时限".into()
        })?;
    }
    Ok(())
}

/// Checks that the aggregate is consistent: the order's state follows from its assignments,
/// each terminal state has what it needs (a Closed order its visit results, a direct closure its
/// answer, a rejection its legal channel, a transfer its line, a merge its parent), a registered
/// order has no assignments, every delegated assignment has exactly one open child and no unit
/// holds two open assignments. The error says, in Chinese, what does not hold.
pub fn check_invariants(agg: &OrderAggregate) -> Result<(), String> {
    let o = &agg.order;
    let mut open_units = HashSet::new();
    for a in &agg.assignments {
        check_assignment(agg, a)?;
        if a.state.is_open() && !open_units.insert(a.unit_id) {
            return Err(format!("单位{}在本工单上有两项进行中的任务", a.unit_id));
        }
    }
    match o.state {
        OrderState::Registered
        | OrderState::ClosedDirect
        | OrderState::Rejected
        | OrderState::Transferred
        | OrderState::Merged => check_unrouted(agg)?,
        _ => check_routed(agg)?,
    }
    if o.state.is_terminal() {
        ensure(o.active_deadline.is_none(), || {
            "已结束的工单不应有当前时限".into()
        })?;
    }
    ensure(o.appeal.is_none() || o.state == OrderState::Closed, || {
        "只有已办结的工单才能申诉".into()
    })?;
    ensure(
        !o.evaluation_excluded || o.appeal == Some(AppealState::Upheld),
        || "不予考核的工单没有成立的申诉".into(),
    )?;
    ensure(
        o.escalation != Some(EscalationState::Instructed) || o.leader_instruction.is_some(),
        || "已批示的工单没有批示内容".into(),
    )
}
