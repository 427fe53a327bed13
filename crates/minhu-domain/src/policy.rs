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

/// How specific a rule that matches is: type and urgency (3) beats urgency only (2) beats type
/// only (1) beats neither (0).
const fn specificity(rule: &PolicyRule) -> u8 {
    match (rule.order_type.is_some(), rule.urgency.is_some()) {
        (true, true) => 3,
        (false, true) => 2,
        (true, false) => 1,
        (false, false) => 0,
    }
}

/// The most specific rule for `step` on exactly one level (`category_id`, or the global level when
/// `None`) that matches the order's type and urgency. Ties go to the highest id (the newest rule).
fn pick(
    rules: &[PolicyRule],
    category_id: Option<i64>,
    step: LimitStep,
    order_type: OrderType,
    urgency: Urgency,
) -> Option<&PolicyRule> {
    rules
        .iter()
        .filter(|rule| {
            rule.category_id == category_id
                && rule.step == step
                && rule.order_type.is_none_or(|t| t == order_type)
                && rule.urgency.is_none_or(|u| u == urgency)
        })
        .max_by_key(|rule| (specificity(rule), rule.id))
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
    let levels = category_chain.iter().map(|&id| Some(id)).chain([None]);
    for level in levels {
        if let Some(rule) = pick(rules, level, step, order_type, urgency) {
            return rule.limit;
        }
    }
    pick(&default_rules(), None, step, order_type, urgency)
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
/// step the levels are tried in turn: the category itself, each ancestor in order, then the global
/// rules (`category_id: None`). The first level with any rule matching the order's type and
/// urgency decides (a rule without a type or urgency matches any), and there the most specific
/// matching rule wins: type and urgency beats urgency only, which beats type only, which beats
/// neither; equally specific rules go to the highest id. A step that no rule matches falls back to
/// [`default_rules`]. Pure; never panics.
///
/// Note that a level decides as soon as anything on it matches: a category rule without urgency
/// beats a global emergency rule.
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
                    assert!(pick(&defaults, None, step, order_type, urgency).is_some());
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
            // A category rule without urgency beats the global emergency default.
            rule(
                4,
                Some(1),
                None,
                None,
                LimitStep::Dispatch,
                TimeLimit::natural_hours(2),
            ),
        ];
        let report = resolve_limits(&rules, &[2, 1], OrderType::Report, Urgency::Normal);
        assert_eq!(report.handle, TimeLimit::working_days(4));
        let complaint = resolve_limits(&rules, &[2, 1], OrderType::Complaint, Urgency::Emergency);
        assert_eq!(complaint.handle, TimeLimit::working_days(6));
        assert_eq!(complaint.visit, TimeLimit::working_days(2));
        assert_eq!(complaint.dispatch, TimeLimit::natural_hours(2));
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
