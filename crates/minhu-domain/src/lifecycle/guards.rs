//! The preconditions of every action that do not depend on its input: data scope, role, state.
//! `apply` runs them in this order (scope, role, state) before it looks at the input, and
//! [`crate::permissions::available_actions`] runs the very same checks, so both always agree.

use crate::action::{ActionContext, DomainError};
use crate::enums::{AppealState, AssignmentState, EscalationState, OrderState, Role};
use crate::lifecycle::common::invalid_state;
use crate::model::{Actor, Assignment, OrderAggregate, UnitDirectory};

/// The roles of people in handling units.
pub(crate) const UNIT_ROLES: &[Role] = &[Role::UnitHandler, Role::UnitLeader, Role::SubCentre];
/// Who handles registered orders at intake.
pub(crate) const INTAKE_ROLES: &[Role] = &[Role::Agent, Role::Dispatcher];
/// Who urges and escalates.
pub(crate) const URGE_ROLES: &[Role] = &[Role::Supervisor, Role::Dispatcher];

/// Whether `actor`'s data scope covers the unit `unit_id`: centre staff cover every unit, others
/// their unit's subtree.
pub(crate) fn covers_unit(actor: &Actor, units: &UnitDirectory, unit_id: i64) -> bool {
    actor.is_centre_staff()
        || unit_id == actor.unit.id
        || units.get(unit_id).is_some_and(|u| actor.unit.contains(u))
}

/// Whether `actor` may see the order at all.
pub(crate) fn can_see(actor: &Actor, agg: &OrderAggregate, units: &UnitDirectory) -> bool {
    actor.is_centre_staff()
        || agg
            .assignments
            .iter()
            .any(|a| covers_unit(actor, units, a.unit_id))
}

/// The Forbidden error naming the roles required.
pub(crate) fn forbidden(roles: &[Role]) -> DomainError {
    let labels: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    DomainError::Forbidden {
        required: labels.join("或"),
    }
}

fn require_scope(ctx: &ActionContext<'_>, agg: &OrderAggregate) -> Result<(), DomainError> {
    if can_see(ctx.actor, agg, ctx.units) {
        Ok(())
    } else {
        Err(DomainError::OutOfScope)
    }
}

/// Scope, then a centre role.
fn require_centre(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    roles: &[Role],
) -> Result<(), DomainError> {
    require_scope(ctx, agg)?;
    if ctx.actor.is_centre_staff() && ctx.actor.has_any_role(roles) {
        Ok(())
    } else {
        Err(forbidden(roles))
    }
}

/// Scope, then a handling-unit role.
fn require_unit(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    roles: &[Role],
) -> Result<(), DomainError> {
    require_scope(ctx, agg)?;
    if !ctx.actor.is_centre_staff() && ctx.actor.has_any_role(roles) {
        Ok(())
    } else {
        Err(forbidden(roles))
    }
}

fn order_state_in(
    agg: &OrderAggregate,
    code: &str,
    ok: impl Fn(OrderState) -> bool,
) -> Result<(), DomainError> {
    if ok(agg.order.state) {
        Ok(())
    } else {
        Err(invalid_state(code, agg.order.state.label()))
    }
}

/// The top-level lead that is not returned: the open one, or the done one once the reply passed.
pub(crate) fn current_lead_index(agg: &OrderAggregate) -> Option<usize> {
    agg.assignments.iter().position(|a| {
        a.is_lead() && a.parent_assignment_id.is_none() && a.state != AssignmentState::Returned
    })
}

/// close_direct, reject, transfer, merge, dispatch: centre staff on a registered order.
pub(crate) fn intake(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
) -> Result<(), DomainError> {
    let roles: &[Role] = if code == "dispatch" {
        &[Role::Dispatcher]
    } else {
        INTAKE_ROLES
    };
    require_centre(ctx, agg, roles)?;
    order_state_in(agg, code, |s| s == OrderState::Registered)
}

/// The order-level checks of a unit action (sign, request_return, request_extension, reply,
/// redispatch); `unit_id` is the unit the input names, if any.
pub(crate) fn unit_order(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
    unit_id: Option<i64>,
) -> Result<(), DomainError> {
    let roles: &[Role] = if code == "redispatch" {
        &[Role::SubCentre]
    } else {
        UNIT_ROLES
    };
    require_unit(ctx, agg, roles)?;
    if let Some(u) = unit_id
        && !covers_unit(ctx.actor, ctx.units, u)
    {
        return Err(DomainError::OutOfScope);
    }
    order_state_in(agg, code, OrderState::is_with_units)
}

/// The assignment-level checks of a unit action on the open assignment `a`.
pub(crate) fn unit_target(
    ctx: &ActionContext<'_>,
    code: &str,
    a: &Assignment,
) -> Result<(), DomainError> {
    let state_ok = match code {
        "sign" => a.state == AssignmentState::Dispatched,
        "request_return" => matches!(
            a.state,
            AssignmentState::Dispatched | AssignmentState::InProgress
        ),
        _ => a.state == AssignmentState::InProgress,
    };
    if code == "redispatch"
        && !ctx
            .units
            .get(a.unit_id)
            .is_some_and(|u| u.is_dispatch_point)
    {
        return Err(DomainError::Forbidden {
            required: "分中心（派单节点）的分中心派单员".to_owned(),
        });
    }
    if !state_ok {
        return Err(invalid_state(code, a.state.label()));
    }
    if code == "request_extension" && a.extension_request.is_some() {
        return Err(invalid_state(code, "延期申请待审核"));
    }
    if code == "request_return" && ctx.now > a.return_deadline_at {
        return Err(DomainError::DeadlinePassed {
            message: "已超过退单时限，不能再申请退单".to_owned(),
        });
    }
    Ok(())
}

/// The centre role that decides `code` for a top-level assignment.
fn centre_reviewer(code: &str) -> Role {
    match code {
        "review" => Role::Supervisor,
        _ => Role::Dispatcher,
    }
}

/// The order-level checks of a review (review_return, review_extension, review): the centre role
/// for top-level assignments or a sub-centre for those below it.
pub(crate) fn review_order(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
    unit_id: Option<i64>,
) -> Result<(), DomainError> {
    require_scope(ctx, agg)?;
    let centre_role = centre_reviewer(code);
    let actor = ctx.actor;
    let role_ok = if actor.is_centre_staff() {
        actor.has_role(centre_role)
    } else {
        actor.has_role(Role::SubCentre)
    };
    if !role_ok {
        return Err(forbidden(&[centre_role, Role::SubCentre]));
    }
    if let Some(u) = unit_id
        && !covers_unit(actor, ctx.units, u)
    {
        return Err(DomainError::OutOfScope);
    }
    order_state_in(agg, code, OrderState::is_with_units)
}

/// The assignment-level checks of a review of the open assignment `a`: who reviews it, and
/// whether it waits for this review.
pub(crate) fn review_target(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
    a: &Assignment,
) -> Result<(), DomainError> {
    let actor = ctx.actor;
    let centre_role = centre_reviewer(code);
    match a.parent_assignment_id {
        None => {
            if !(actor.is_centre_staff() && actor.has_role(centre_role)) {
                return Err(forbidden(&[centre_role]));
            }
        }
        Some(pid) => {
            let parent_covered = agg
                .assignment(pid)
                .is_some_and(|p| covers_unit(actor, ctx.units, p.unit_id));
            if actor.is_centre_staff() || !actor.has_role(Role::SubCentre) || !parent_covered {
                return Err(DomainError::Forbidden {
                    required: "转派该工单的分中心派单员".to_owned(),
                });
            }
        }
    }
    match code {
        "review_return" if a.state != AssignmentState::ReturnRequested => {
            Err(invalid_state(code, a.state.label()))
        }
        "review_extension" if a.extension_request.is_none() => {
            Err(invalid_state(code, "无待审核的延期申请"))
        }
        "review" if a.state != AssignmentState::Replied => {
            Err(invalid_state(code, a.state.label()))
        }
        _ => Ok(()),
    }
}

/// visit: a visitor on an order waiting for its visit, or a direct closure not yet visited.
pub(crate) fn visit(ctx: &ActionContext<'_>, agg: &OrderAggregate) -> Result<(), DomainError> {
    require_centre(ctx, agg, &[Role::Visitor])?;
    let o = &agg.order;
    let ok = o.state == OrderState::PendingVisit
        || (o.state == OrderState::ClosedDirect && o.visited_at.is_none());
    if ok {
        Ok(())
    } else {
        Err(invalid_state("visit", o.state.label()))
    }
}

/// appeal: the lead unit (or a unit above it) on a closed order not appealed yet.
pub(crate) fn appeal(ctx: &ActionContext<'_>, agg: &OrderAggregate) -> Result<(), DomainError> {
    require_unit(ctx, agg, UNIT_ROLES)?;
    if let Some(lead) = current_lead_index(agg).and_then(|i| agg.assignments.get(i))
        && !covers_unit(ctx.actor, ctx.units, lead.unit_id)
    {
        return Err(DomainError::Forbidden {
            required: "主办单位（或其上级分中心）的承办单位经办人或承办单位负责人或分中心派单员"
                .to_owned(),
        });
    }
    order_state_in(agg, "appeal", |s| s == OrderState::Closed)?;
    match agg.order.appeal {
        None => Ok(()),
        Some(a) => Err(invalid_state("appeal", a.label())),
    }
}

/// review_appeal: a supervisor on a requested appeal.
pub(crate) fn review_appeal(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
) -> Result<(), DomainError> {
    require_centre(ctx, agg, &[Role::Supervisor])?;
    match agg.order.appeal {
        Some(AppealState::Requested) => Ok(()),
        Some(a) => Err(invalid_state("review_appeal", a.label())),
        None => Err(invalid_state("review_appeal", "未申诉")),
    }
}

/// urge, supervise, escalate: centre staff on an open order.
pub(crate) fn oversight(
    ctx: &ActionContext<'_>,
    agg: &OrderAggregate,
    code: &str,
) -> Result<(), DomainError> {
    let roles: &[Role] = if code == "supervise" {
        &[Role::Supervisor]
    } else {
        URGE_ROLES
    };
    require_centre(ctx, agg, roles)?;
    order_state_in(agg, code, |s| !s.is_terminal())?;
    if code == "escalate" && agg.order.escalation == Some(EscalationState::Pending) {
        return Err(invalid_state(code, EscalationState::Pending.label()));
    }
    Ok(())
}

/// instruct: a leader on a pending escalation.
pub(crate) fn instruct(ctx: &ActionContext<'_>, agg: &OrderAggregate) -> Result<(), DomainError> {
    require_centre(ctx, agg, &[Role::Leader])?;
    match agg.order.escalation {
        Some(EscalationState::Pending) => Ok(()),
        Some(e) => Err(invalid_state("instruct", e.label())),
        None => Err(invalid_state("instruct", "未呈报")),
    }
}
