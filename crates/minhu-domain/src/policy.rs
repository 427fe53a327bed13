//! Time-limit policies: which limit applies to an order's steps, by category, type and urgency.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{DeadlineUnit, LimitStep, OrderType, Urgency};

/// An amount of time counted one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimeLimit {
    pub amount: u32,
    pub unit: DeadlineUnit,
}

impl TimeLimit {
    #[must_use]
    pub const fn natural_hours(amount: u32) -> Self {
        Self {
            amount,
            unit: DeadlineUnit::NaturalHours,
        }
    }
    #[must_use]
    pub const fn working_hours(amount: u32) -> Self {
        Self {
            amount,
            unit: DeadlineUnit::WorkingHours,
        }
    }
    #[must_use]
    pub const fn working_days(amount: u32) -> Self {
        Self {
            amount,
            unit: DeadlineUnit::WorkingDays,
        }
    }
}

/// The limits of every step for one order, after inheritance has been resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Limits {
    pub dispatch: TimeLimit,
    pub sign: TimeLimit,
    pub return_window: TimeLimit,
    pub handle: TimeLimit,
    pub redo: TimeLimit,
    pub extension_max: TimeLimit,
    pub visit: TimeLimit,
}

impl Limits {
    #[must_use]
    pub const fn get(&self, step: LimitStep) -> TimeLimit {
        match step {
            LimitStep::Dispatch => self.dispatch,
            LimitStep::Sign => self.sign,
            LimitStep::ReturnWindow => self.return_window,
            LimitStep::Handle => self.handle,
            LimitStep::Redo => self.redo,
            LimitStep::ExtensionMax => self.extension_max,
            LimitStep::Visit => self.visit,
        }
    }
}

/// One policy rule as stored: a limit for a step, on a category node (or everywhere when
/// `category_id` is `None`), optionally narrowed to an order type and/or an urgency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRule {
    pub id: i64,
    pub category_id: Option<i64>,
    pub order_type: Option<OrderType>,
    pub urgency: Option<Urgency>,
    pub step: LimitStep,
    pub limit: TimeLimit,
}

/// The product's default rules (PRODUCT.md §4): global (`category_id: None`), all with id 0.
///
/// - dispatch: 24 natural hours; emergencies 1 natural hour.
/// - sign: 1 working day; emergencies 1 natural hour.
/// - return window: 2 working days.
/// - handle: consultation 2 working days; help, suggestion, praise and other 10; complaint and
///   report 15; emergencies 2 natural hours (urgency-specific beats type-specific).
/// - redo: 3 working days; extensions: at most 10 working days; visit: 1 working day.
///
/// The 2-hour dispatch of water, power, gas and heating is a category policy, not a default.
#[must_use]
pub fn default_rules() -> Vec<PolicyRule> {
    let rule = |step, order_type, urgency, limit| PolicyRule {
        id: 0,
        category_id: None,
        order_type,
        urgency,
        step,
        limit,
    };
    let emergency = Some(Urgency::Emergency);
    let mut rules = vec![
        rule(
            LimitStep::Dispatch,
            None,
            None,
            TimeLimit::natural_hours(24),
        ),
        rule(
            LimitStep::Dispatch,
            None,
            emergency,
            TimeLimit::natural_hours(1),
        ),
        rule(LimitStep::Sign, None, None, TimeLimit::working_days(1)),
        rule(
            LimitStep::Sign,
            None,
            emergency,
            TimeLimit::natural_hours(1),
        ),
        rule(
            LimitStep::ReturnWindow,
            None,
            None,
            TimeLimit::working_days(2),
        ),
    ];
    for (order_type, days) in [
        (OrderType::Consultation, 2),
        (OrderType::Help, 10),
        (OrderType::Suggestion, 10),
        (OrderType::Complaint, 15),
        (OrderType::Report, 15),
        (OrderType::Praise, 10),
        (OrderType::Other, 10),
    ] {
        rules.push(rule(
            LimitStep::Handle,
            Some(order_type),
            None,
            TimeLimit::working_days(days),
        ));
    }
    rules.extend([
        rule(
            LimitStep::Handle,
            None,
            emergency,
            TimeLimit::natural_hours(2),
        ),
        rule(LimitStep::Redo, None, None, TimeLimit::working_days(3)),
        rule(
            LimitStep::ExtensionMax,
            None,
            None,
            TimeLimit::working_days(10),
        ),
        rule(LimitStep::Visit, None, None, TimeLimit::working_days(1)),
    ]);
    rules
}

/// How a matching rule ranks; the highest wins. In order of weight: a rule for the order's
/// urgency beats one for any urgency, wherever each sits (an emergency is an emergency in every
/// category); then the nearer level wins (the category itself, then each ancestor, then the
/// global rules); then a rule for the order's type beats one for any type; then the newest (highest
/// id).
fn rank(rule: &PolicyRule, category_chain: &[i64]) -> Option<(bool, usize, bool, i64)> {
    let level = match rule.category_id {
        None => 0,
        Some(id) => category_chain.len() - category_chain.iter().position(|c| *c == id)?,
    };
    Some((
        rule.urgency.is_some(),
        level,
        rule.order_type.is_some(),
        rule.id,
    ))
}

/// The best rule for `step` among `rules` that applies to the order: on its category chain or
/// global, and matching its type and urgency (a rule without a type or urgency matches any).
fn pick<'r>(
    rules: &'r [PolicyRule],
    category_chain: &[i64],
    step: LimitStep,
    order_type: OrderType,
    urgency: Urgency,
) -> Option<&'r PolicyRule> {
    rules
        .iter()
        .filter(|rule| {
            rule.step == step
                && rule.order_type.is_none_or(|t| t == order_type)
                && rule.urgency.is_none_or(|u| u == urgency)
        })
        .filter_map(|rule| rank(rule, category_chain).map(|r| (r, rule)))
        .max_by_key(|(r, _)| *r)
        .map(|(_, rule)| rule)
}

/// The limit of one step for an order, with the inheritance of [`resolve_limits`].
#[must_use]
pub fn resolve_limit(
    rules: &[PolicyRule],
    category_chain: &[i64],
    step: LimitStep,
    order_type: OrderType,
    urgency: Urgency,
) -> TimeLimit {
    if let Some(rule) = pick(rules, category_chain, step, order_type, urgency) {
        return rule.limit;
    }
    pick(&default_rules(), &[], step, order_type, urgency)
        .map_or_else(|| last_resort(step), |rule| rule.limit)
}

/// A limit for a step the default rules would not cover (they cover every step, type and urgency).
const fn last_resort(step: LimitStep) -> TimeLimit {
    match step {
        LimitStep::Dispatch => TimeLimit::natural_hours(24),
        LimitStep::Sign | LimitStep::Visit => TimeLimit::working_days(1),
        LimitStep::ReturnWindow => TimeLimit::working_days(2),
        LimitStep::Handle | LimitStep::ExtensionMax => TimeLimit::working_days(10),
        LimitStep::Redo => TimeLimit::working_days(3),
    }
}

/// The limits of every step for an order, resolved from the stored rules.
///
/// `category_chain` is the order's category first, then its ancestors up to the root. For each
/// step, among the stored rules on the chain or global (`category_id: None`) that match the
/// order's type and urgency (a rule without a type or urgency matches any), the one ranked highest
/// decides: a rule for the order's urgency first, wherever it sits (so the global "emergency:
/// dispatch within 1 hour" holds in the water category too); then the nearest level (the category
/// itself, its ancestors in turn, the global rules last), so that a category's own limit beats the
/// global limit of its type; then a rule for the order's type; then the newest. A step that no
/// stored rule matches falls back to [`default_rules`]. Pure; never panics.
#[must_use]
pub fn resolve_limits(
    rules: &[PolicyRule],
    category_chain: &[i64],
    order_type: OrderType,
    urgency: Urgency,
) -> Limits {
    let limit = |step| resolve_limit(rules, category_chain, step, order_type, urgency);
    Limits {
        dispatch: limit(LimitStep::Dispatch),
        sign: limit(LimitStep::Sign),
        return_window: limit(LimitStep::ReturnWindow),
        handle: limit(LimitStep::Handle),
        redo: limit(LimitStep::Redo),
        extension_max: limit(LimitStep::ExtensionMax),
        visit: limit(LimitStep::Visit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        id: i64,
        category_id: Option<i64>,
        order_type: Option<OrderType>,
        urgency: Option<Urgency>,
        step: LimitStep,
        limit: TimeLimit,
    ) -> PolicyRule {
        PolicyRule {
            id,
            category_id,
            order_type,
            urgency,
            step,
            limit,
        }
    }

    #[test]
    fn defaults_without_rules() {
        let limits = resolve_limits(&[], &[3, 2, 1], OrderType::Complaint, Urgency::Normal);
        assert_eq!(
            limits,
            Limits {
                dispatch: TimeLimit::natural_hours(24),
                sign: TimeLimit::working_days(1),
                return_window: TimeLimit::working_days(2),
                handle: TimeLimit::working_days(15),
                redo: TimeLimit::working_days(3),
                extension_max: TimeLimit::working_days(10),
                visit: TimeLimit::working_days(1),
            }
        );
        let consult = resolve_limits(&[], &[], OrderType::Consultation, Urgency::Urgent);
        assert_eq!(consult.handle, TimeLimit::working_days(2));
        for (order_type, days) in [
            (OrderType::Help, 10),
            (OrderType::Suggestion, 10),
            (OrderType::Report, 15),
            (OrderType::Praise, 10),
            (OrderType::Other, 10),
        ] {
            assert_eq!(
                resolve_limits(&[], &[], order_type, Urgency::Normal)
                    .handle
                    .amount,
                days
            );
        }
    }

    #[test]
    fn emergency_defaults_beat_type_defaults() {
        let limits = resolve_limits(&[], &[7], OrderType::Consultation, Urgency::Emergency);
        assert_eq!(limits.dispatch, TimeLimit::natural_hours(1));
        assert_eq!(limits.sign, TimeLimit::natural_hours(1));
        assert_eq!(limits.handle, TimeLimit::natural_hours(2));
        assert_eq!(limits.redo, TimeLimit::working_days(3));
    }

    #[test]
    fn defaults_cover_every_step_type_and_urgency() {
        let defaults = default_rules();
        for &step in LimitStep::ALL {
            for &order_type in OrderType::ALL {
                for &urgency in Urgency::ALL {
                    assert!(pick(&defaults, &[], step, order_type, urgency).is_some());
                }
            }
        }
    }

    #[test]
    fn child_overrides_parent_and_parent_is_inherited() {
        // 1 = 城乡建设 (root), 2 = 供水 (child of 1), 3 = 停水 (child of 2).
        let rules = vec![
            rule(
                1,
                Some(1),
                None,
                None,
                LimitStep::Handle,
                TimeLimit::working_days(7),
            ),
            rule(
                2,
                Some(2),
                None,
                None,
                LimitStep::Dispatch,
                TimeLimit::natural_hours(2),
            ),
            rule(
                3,
                Some(3),
                None,
                None,
                LimitStep::Handle,
                TimeLimit::working_days(3),
            ),
        ];
        let leaf = resolve_limits(&rules, &[3, 2, 1], OrderType::Help, Urgency::Normal);
        assert_eq!(leaf.handle, TimeLimit::working_days(3)); // own rule beats the root's
        assert_eq!(leaf.dispatch, TimeLimit::natural_hours(2)); // inherited from the parent
        assert_eq!(leaf.sign, TimeLimit::working_days(1)); // global default

        let middle = resolve_limits(&rules, &[2, 1], OrderType::Help, Urgency::Normal);
        assert_eq!(middle.handle, TimeLimit::working_days(7)); // inherited from the root
        assert_eq!(middle.dispatch, TimeLimit::natural_hours(2));
    }

    #[test]
    fn specificity_order_on_one_level() {
        let rules = vec![
            rule(
                1,
                Some(5),
                None,
                None,
                LimitStep::Handle,
                TimeLimit::working_days(20),
            ),
            rule(
                2,
                Some(5),
                Some(OrderType::Complaint),
                None,
                LimitStep::Handle,
                TimeLimit::working_days(12),
            ),
            rule(
                3,
                Some(5),
                None,
                Some(Urgency::Urgent),
                LimitStep::Handle,
                TimeLimit::working_days(5),
            ),
            rule(
                4,
                Some(5),
                Some(OrderType::Complaint),
                Some(Urgency::Urgent),
                LimitStep::Handle,
                TimeLimit::working_hours(8),
            ),
        ];
        let handle = |order_type, urgency| {
            resolve_limit(&rules, &[5], LimitStep::Handle, order_type, urgency)
        };
        assert_eq!(
            handle(OrderType::Complaint, Urgency::Urgent),
            TimeLimit::working_hours(8)
        );
        assert_eq!(
            handle(OrderType::Help, Urgency::Urgent),
            TimeLimit::working_days(5)
        );
        assert_eq!(
            handle(OrderType::Complaint, Urgency::Normal),
            TimeLimit::working_days(12)
        );
        assert_eq!(
            handle(OrderType::Help, Urgency::Normal),
            TimeLimit::working_days(20)
        );
        // Urgency-only beats type-only.
        let both = &rules[1..3];
        assert_eq!(
            resolve_limit(
                both,
                &[5],
                LimitStep::Handle,
                OrderType::Complaint,
                Urgency::Urgent
            ),
            TimeLimit::working_days(5)
        );
    }

    #[test]
    fn first_matching_level_decides() {
        let rules = vec![
            // The child only has a rule for reports: complaints go on to the parent.
            rule(
                1,
                Some(2),
                Some(OrderType::Report),
                None,
                LimitStep::Handle,
                TimeLimit::working_days(4),
            ),
            rule(
                2,
                Some(1),
                None,
                None,
                LimitStep::Handle,
                TimeLimit::working_days(6),
            ),
            // A global rule replaces the default for everything else.
            rule(
                3,
                None,
                None,
                None,
                LimitStep::Visit,
                TimeLimit::working_days(2),
            ),
            // A category rule without urgency beats a global rule without urgency…
            rule(
                4,
                Some(1),
                None,
                None,
                LimitStep::Dispatch,
                TimeLimit::natural_hours(2),
            ),
            rule(
                5,
                None,
                None,
                None,
                LimitStep::Dispatch,
                TimeLimit::natural_hours(24),
            ),
            // …but a global rule for the order's urgency beats both.
            rule(
                6,
                None,
                None,
                Some(Urgency::Emergency),
                LimitStep::Sign,
                TimeLimit::natural_hours(1),
            ),
            rule(
                7,
                Some(2),
                None,
                None,
                LimitStep::Sign,
                TimeLimit::working_days(2),
            ),
        ];
        let report = resolve_limits(&rules, &[2, 1], OrderType::Report, Urgency::Normal);
        assert_eq!(report.handle, TimeLimit::working_days(4));
        let complaint = resolve_limits(&rules, &[2, 1], OrderType::Complaint, Urgency::Emergency);
        assert_eq!(complaint.handle, TimeLimit::working_days(6));
        assert_eq!(complaint.visit, TimeLimit::working_days(2));
        assert_eq!(complaint.dispatch, TimeLimit::natural_hours(2));
        assert_eq!(complaint.sign, TimeLimit::natural_hours(1));
        assert_eq!(report.sign, TimeLimit::working_days(2));
        // A category outside the chain is ignored.
        let other = resolve_limits(&rules, &[9], OrderType::Report, Urgency::Normal);
        assert_eq!(other.handle, TimeLimit::working_days(15));
        assert_eq!(other.visit, TimeLimit::working_days(2));
    }

    #[test]
    fn global_rules_replace_defaults() {
        let rules = vec![rule(
            1,
            None,
            None,
            None,
            LimitStep::Handle,
            TimeLimit::working_days(9),
        )];
        // The global level matches, so the type-specific defaults are not consulted.
        let limits = resolve_limits(&rules, &[1], OrderType::Consultation, Urgency::Emergency);
        assert_eq!(limits.handle, TimeLimit::working_days(9));
        // Ties on one level go to the highest id.
        let rules = vec![
            rule(
                1,
                None,
                None,
                None,
                LimitStep::Redo,
                TimeLimit::working_days(4),
            ),
            rule(
                2,
                None,
                None,
                None,
                LimitStep::Redo,
                TimeLimit::working_days(5),
            ),
        ];
        let limits = resolve_limits(&rules, &[], OrderType::Help, Urgency::Normal);
        assert_eq!(limits.redo, TimeLimit::working_days(5));
    }
}
