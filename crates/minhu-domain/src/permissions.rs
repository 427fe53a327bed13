//! Data scope and permitted actions: who may see an order, and which lifecycle actions a person
//! may take on it now (so that the UI shows only the buttons that can work).

use crate::action::{Action, ActionContext};
use crate::lifecycle::guards;
use crate::model::{Actor, OrderAggregate, UnitDirectory};

/// Whether `actor` may see the order: centre staff see every order, everyone else the orders with
/// an assignment (current or past) on a unit of their unit's subtree.
#[must_use]
pub fn can_see_order(actor: &Actor, aggregate: &OrderAggregate, units: &UnitDirectory) -> bool {
    guards::can_see(actor, aggregate, units)
}

/// The codes of the lifecycle actions (in [`Action::CODES`] order) whose preconditions of scope,
/// role and state hold for `ctx.actor` on `aggregate` now; the input is not considered. These are
/// the very checks [`crate::lifecycle::apply`] makes first, so every action that `apply` would
/// permit is listed.
#[must_use]
pub fn available_actions(ctx: &ActionContext<'_>, aggregate: &OrderAggregate) -> Vec<&'static str> {
    Action::CODES
        .iter()
        .copied()
        .filter(|code| is_available(ctx, aggregate, code))
        .collect()
}

/// The Chinese name of an action code (`sign` → `签收`), for buttons and messages.
#[must_use]
pub fn action_label(code: &str) -> &'static str {
    crate::lifecycle::action_label(code)
}

fn is_available(ctx: &ActionContext<'_>, agg: &OrderAggregate, code: &str) -> bool {
    let covered_open = |a: &&crate::model::Assignment| {
        a.state.is_open() && guards::covers_unit(ctx.actor, ctx.units, a.unit_id)
    };
    match code {
        "close_direct" | "reject" | "transfer" | "merge" | "dispatch" => {
            guards::intake(ctx, agg, code).is_ok()
        }
        "sign" | "request_return" | "request_extension" | "reply" | "redispatch" => {
            guards::unit_order(ctx, agg, code, None).is_ok()
                && agg
                    .assignments
                    .iter()
                    .filter(covered_open)
                    .any(|a| guards::unit_target(ctx, code, a).is_ok())
        }
        "review_return" | "review_extension" | "review" => {
            guards::review_order(ctx, agg, code, None).is_ok()
                && agg
                    .assignments
                    .iter()
                    .filter(covered_open)
                    .any(|a| guards::review_target(ctx, agg, code, a).is_ok())
        }
        "visit" => guards::visit(ctx, agg).is_ok(),
        "appeal" => guards::appeal(ctx, agg).is_ok(),
        "review_appeal" => guards::review_appeal(ctx, agg).is_ok(),
        "urge" | "supervise" | "escalate" => guards::oversight(ctx, agg, code).is_ok(),
        "instruct" => guards::instruct(ctx, agg).is_ok(),
        _ => false,
    }
}
