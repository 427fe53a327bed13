//! The lifecycle of PRODUCT.md §3: one pure function per action.
//!
//! Every action checks, in this order, the actor's data scope ([`DomainError::OutOfScope`], so
//! that an order outside the scope is never revealed), the actor's role
//! ([`DomainError::Forbidden`]), the state of the order or assignment
//! ([`DomainError::InvalidState`], [`DomainError::DeadlinePassed`]) and finally the input
//! ([`DomainError::InvalidField`], [`DomainError::UnknownUnit`]). A permitted action yields the new
//! order (its version not bumped: storage does that), every assignment (new ones with `id == 0`)
//! and the history events that record it.

pub(crate) mod common;
mod followup;
pub(crate) mod guards;
mod intake;
mod invariants;
mod register;
mod review;
mod unit;

pub(crate) use common::action_label;
pub use invariants::{check_invariants, derive_order_state};

use crate::action::{Action, ActionContext, DomainError, Transition};
use crate::model::{NewOrder, OrderAggregate};

/// Registers a new order (登记): an agent (or dispatcher) records what the citizen asks.
///
/// The input is checked (title, content, phone numbers, lengths, tags, and that the location's
/// district, street and community exist and nest). The result's order has `id == 0`, an empty
/// number and version 1 (storage assigns id and number), is in state `registered` with the
/// dispatch deadline as its active deadline, and comes with one `register` history event.
pub fn register(ctx: &ActionContext<'_>, new: NewOrder) -> Result<Transition, DomainError> {
    register::register(ctx, new)
}

/// Applies `action` to `aggregate` on behalf of `ctx.actor`, or says why not.
pub fn apply(
    ctx: &ActionContext<'_>,
    aggregate: &OrderAggregate,
    action: &Action,
) -> Result<Transition, DomainError> {
    let agg = aggregate;
    match action {
        Action::CloseDirect(input) => intake::close_direct(ctx, agg, input),
        Action::Reject(input) => intake::reject(ctx, agg, input),
        Action::Transfer(input) => intake::transfer(ctx, agg, input),
        Action::Merge(input) => intake::merge(ctx, agg, input),
        Action::Dispatch(input) => intake::dispatch(ctx, agg, input),
        Action::Sign(input) => unit::sign(ctx, agg, input),
        Action::RequestReturn(input) => unit::request_return(ctx, agg, input),
        Action::ReviewReturn(input) => review::review_return(ctx, agg, input),
        Action::Redispatch(input) => unit::redispatch(ctx, agg, input),
        Action::RequestExtension(input) => unit::request_extension(ctx, agg, input),
        Action::ReviewExtension(input) => review::review_extension(ctx, agg, input),
        Action::Reply(input) => unit::reply(ctx, agg, input),
        Action::Review(input) => review::review(ctx, agg, input),
        Action::Visit(input) => followup::visit(ctx, agg, input),
        Action::Appeal(input) => followup::appeal(ctx, agg, input),
        Action::ReviewAppeal(input) => followup::review_appeal(ctx, agg, input),
        Action::Urge(input) => followup::oversight(ctx, agg, "urge", input),
        Action::Supervise(input) => followup::oversight(ctx, agg, "supervise", input),
        Action::Escalate(input) => followup::oversight(ctx, agg, "escalate", input),
        Action::Instruct(input) => followup::instruct(ctx, agg, input),
    }
}
