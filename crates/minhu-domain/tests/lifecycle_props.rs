//! Random walks through the lifecycle: whatever people try, in whatever order, every permitted
//! transition keeps the aggregate consistent, the history explains the state, nobody acts outside
//! their data scope, and `available_actions` lists every action that `apply` permits.

// Test fixtures may panic: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use minhu_domain::action::{self, Action, ActionContext};
use minhu_domain::lifecycle::{apply, check_invariants, register};
use minhu_domain::permissions::{available_actions, can_see_order};
use minhu_domain::*;
use proptest::prelude::*;

const CENTRE: i64 = 1;
const DISTRICT: i64 = 2;
const STREET: i64 = 3;
const COMMUNITY: i64 = 4;
const STREET_B: i64 = 5;
const WATER: i64 = 10;
const GAS: i64 = 11;
const UNKNOWN: i64 = 99;

fn unit(id: i64, kind: UnitKind, parent: Option<&UnitInfo>, dispatch_point: bool) -> UnitInfo {
    UnitInfo {
        id,
        code: format!("U{id}"),
        name: format!("单位{id}"),
        kind,
        parent_id: parent.map(|p| p.id),
        path: UnitInfo::child_path(parent, id),
        is_dispatch_point: dispatch_point,
        active: true,
    }
}

struct World {
    units: UnitDirectory,
    limits: Limits,
    calendar: Calendar,
    merge_parent: Order,
    actors: Vec<Actor>,
}

fn world() -> World {
    let centre = unit(CENTRE, UnitKind::CityCentre, None, true);
    let district = unit(DISTRICT, UnitKind::DistrictCentre, Some(&centre), true);
    let street = unit(STREET, UnitKind::Street, Some(&district), true);
    let community = unit(COMMUNITY, UnitKind::Community, Some(&street), false);
    let street_b = unit(STREET_B, UnitKind::Street, Some(&district), false);
    let water = unit(WATER, UnitKind::Enterprise, Some(&centre), false);
    let gas = unit(GAS, UnitKind::Enterprise, Some(&centre), false);
    let units = UnitDirectory::new([
        centre.clone(),
        district.clone(),
        street.clone(),
        community.clone(),
        street_b.clone(),
        water.clone(),
        gas.clone(),
    ]);
    let limits = Limits {
        dispatch: TimeLimit::natural_hours(24),
        sign: TimeLimit::working_days(1),
        return_window: TimeLimit::working_days(2),
        handle: TimeLimit::working_days(10),
        redo: TimeLimit::working_days(3),
        extension_max: TimeLimit::working_days(10),
        visit: TimeLimit::working_days(1),
    };
    let person = |user_id: i64, unit: &UnitInfo, roles: &[Role]| Actor {
        user_id,
        username: format!("u{user_id}"),
        display_name: format!("用户{user_id}"),
        roles: roles.to_vec(),
        unit: unit.clone(),
    };
    let actors = vec![
        person(101, &centre, &[Role::Agent]),
        person(102, &centre, &[Role::Dispatcher]),
        person(103, &centre, &[Role::Supervisor]),
        person(104, &centre, &[Role::Visitor]),
        person(105, &centre, &[Role::Leader]),
        person(106, &centre, &[Role::Admin]),
        person(110, &water, &[Role::UnitHandler]),
        // A sub-centre role in a unit that is no dispatch point.
        person(111, &gas, &[Role::UnitLeader, Role::SubCentre]),
        person(120, &district, &[Role::SubCentre, Role::UnitHandler]),
        person(130, &street, &[Role::UnitHandler, Role::SubCentre]),
        person(140, &community, &[Role::UnitHandler]),
        person(150, &street_b, &[Role::UnitHandler]),
        // A unit user with centre roles only.
        person(160, &water, &[Role::Dispatcher, Role::Supervisor]),
    ];
    let calendar = Calendar::china_default(chrono_tz::Asia::Shanghai);
    let mut merge_parent = {
        let agent = &actors[0];
        let ctx = context(&units, &limits, &calendar, agent, start(), None);
        register(&ctx, new_order()).unwrap().order
    };
    merge_parent.id = 900;
    merge_parent.number = "20260301000900".into();
    World {
        units,
        limits,
        calendar,
        merge_parent,
        actors,
    }
}

fn context<'a>(
    units: &'a UnitDirectory,
    limits: &'a Limits,
    calendar: &'a Calendar,
    actor: &'a Actor,
    now: DateTime<Utc>,
    merge_parent: Option<&'a Order>,
) -> ActionContext<'a> {
    ActionContext {
        now,
        actor,
        units,
        limits,
        calendar,
        yellow_share: 0.2,
        merge_parent,
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn new_order() -> NewOrder {
    NewOrder {
        channel: Channel::Phone,
        citizen: Citizen {
            phone: "13812345678".into(),
            ..Citizen::default()
        },
        order_type: OrderType::Complaint,
        category_id: 7,
        title: "小区停水".into(),
        content: "3号楼停水".into(),
        tags: vec![],
        urgency: Urgency::Normal,
        location: Location::default(),
    }
}

/// Picks parameters out of a random seed, a few bits at a time; units mostly among `pool` (the
/// units on the order), sometimes any unit.
struct Seed<'p>(u64, &'p [i64]);

impl Seed<'_> {
    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        let n = options.len() as u64;
        let i = self.0 % n;
        self.0 = (self.0 / n) ^ (self.0 >> 40);
        options[usize::try_from(i).unwrap()]
    }
    fn flag(&mut self) -> bool {
        self.pick(&[true, false])
    }
    fn text(&mut self) -> String {
        self.pick(&["处理意见", "处理意见", "处理意见", "  "])
            .to_owned()
    }
    fn opt_text(&mut self) -> Option<String> {
        self.pick(&[None, Some("备注"), Some("")]).map(Into::into)
    }
    fn unit(&mut self) -> i64 {
        if !self.1.is_empty() && self.pick(&[true, true, true, false]) {
            let pool = self.1;
            self.pick(pool)
        } else {
            self.pick(&[DISTRICT, STREET, COMMUNITY, STREET_B, WATER, GAS, UNKNOWN])
        }
    }
    fn unit_opt(&mut self) -> Option<i64> {
        if self.flag() { None } else { Some(self.unit()) }
    }
}

/// An action of `code` with parameters drawn from `seed`, units mostly from `pool`.
fn make(code: &str, seed: u64, pool: &[i64]) -> Action {
    let mut s = Seed(seed, pool);
    match code {
        "close_direct" => Action::CloseDirect(action::CloseDirect {
            answer: s.text(),
            knowledge_entry_id: None,
        }),
        "reject" => Action::Reject(action::Reject {
            legal_channel: LegalChannel::Petition,
            explanation: s.text(),
        }),
        "transfer" => Action::Transfer(action::Transfer {
            line: EmergencyLine::Police110,
            note: s.opt_text(),
        }),
        "merge" => Action::Merge(action::Merge {
            parent_number: s.pick(&["20260301000900", "20260301000901"]).into(),
            note: s.opt_text(),
        }),
        "dispatch" => {
            let lead = s.pick(&[WATER, GAS, DISTRICT, STREET, STREET_B, CENTRE, UNKNOWN]);
            let co: Vec<i64> = match s.pick(&[0, 1, 2, 3, 4]) {
                0 => vec![],
                1 => vec![GAS],
                2 => vec![WATER, STREET_B],
                3 => vec![STREET],
                _ => vec![lead],
            };
            Action::Dispatch(action::Dispatch {
                lead_unit_id: lead,
                co_unit_ids: co,
                note: None,
            })
        }
        "sign" => Action::Sign(action::Sign {
            unit_id: s.unit_opt(),
        }),
        "request_return" => Action::RequestReturn(action::RequestReturn {
            reason: s.text(),
            unit_id: s.unit_opt(),
        }),
        "review_return" => Action::ReviewReturn(action::ReviewReturn {
            unit_id: s.unit(),
            agree: s.flag(),
            new_unit_id: s.pick(&[
                None,
                None,
                Some(WATER),
                Some(GAS),
                Some(STREET),
                Some(STREET_B),
                Some(COMMUNITY),
            ]),
            note: s.opt_text(),
        }),
        "redispatch" => Action::Redispatch(action::Redispatch {
            to_unit_id: s.pick(&[STREET, STREET_B, COMMUNITY, WATER, DISTRICT]),
            unit_id: s.unit_opt(),
            note: None,
        }),
        "request_extension" => Action::RequestExtension(action::RequestExtension {
            days: s.pick(&[1, 3, 10, 0, 11]),
            reason: s.text(),
            unit_id: s.unit_opt(),
        }),
        "review_extension" => Action::ReviewExtension(action::ReviewExtension {
            unit_id: s.unit(),
            approve: s.flag(),
            note: None,
        }),
        "reply" => Action::Reply(action::Reply {
            text: s.text(),
            unit_id: s.unit_opt(),
        }),
        "review" => Action::Review(action::Review {
            pass: s.flag(),
            note: s.opt_text(),
            unit_id: s.unit_opt(),
        }),
        "visit" => Action::Visit(action::Visit {
            solved: s.pick(Solved::ALL),
            satisfaction: s.pick(Satisfaction::ALL),
            redo: s.flag(),
            note: None,
        }),
        "appeal" => Action::Appeal(action::Appeal { reason: s.text() }),
        "review_appeal" => Action::ReviewAppeal(action::ReviewAppeal {
            uphold: s.flag(),
            note: None,
        }),
        "urge" => Action::Urge(action::Note { note: s.text() }),
        "supervise" => Action::Supervise(action::Note { note: s.text() }),
        "escalate" => Action::Escalate(action::Note { note: s.text() }),
        _ => Action::Instruct(action::Instruct {
            instruction: s.text(),
        }),
    }
}

/// One step of a walk: who acts, what they try, and how much time passes first.
#[derive(Debug, Clone)]
struct Step {
    /// Pick among the actions `available_actions` offers (progress) or try anything.
    guided: bool,
    actor: usize,
    code: usize,
    seed: u64,
    hours: i64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::bool::weighted(0.85),
        0..13usize,
        0..Action::CODES.len(),
        any::<u64>(),
        prop::sample::select(vec![0i64, 0, 1, 4, 20, 30]),
    )
        .prop_map(|(guided, actor, code, seed, hours)| Step {
            guided,
            actor,
            code,
            seed,
            hours,
        })
}

/// Codes whose checks do not depend on the input before scope, role and state are settled: for
/// them a refusal on those grounds means the action is not offered either.
const PLAIN: &[&str] = &[
    "close_direct",
    "reject",
    "transfer",
    "merge",
    "dispatch",
    "visit",
    "appeal",
    "review_appeal",
    "urge",
    "supervise",
    "escalate",
    "instruct",
];

/// How much more often a guided walk picks `code` than the endings at intake, so that walks
/// reach the states with units.
fn weight(code: &str) -> usize {
    match code {
        "close_direct" | "reject" | "transfer" | "merge" => 1,
        "urge" | "supervise" | "escalate" | "instruct" => 1,
        "dispatch" => 40,
        _ => 8,
    }
}

/// A weighted choice among the offered (actor, code) pairs.
fn choose<'c>(offered: &[(usize, &'c str)], st: &Step) -> (usize, &'c str) {
    let total: usize = offered.iter().map(|(_, c)| weight(c)).sum();
    let mut r = (st.code * 7919 + st.actor * 31 + usize::from(st.seed as u16)) % total;
    for &(i, c) in offered {
        let w = weight(c);
        if r < w {
            return (i, c);
        }
        r -= w;
    }
    offered[0]
}

fn ctx_in<'a>(w: &'a World, actor: &'a Actor, now: DateTime<Utc>) -> ActionContext<'a> {
    context(
        &w.units,
        &w.limits,
        &w.calendar,
        actor,
        now,
        Some(&w.merge_parent),
    )
}

fn covers(actor: &Actor, units: &UnitDirectory, unit_id: i64) -> bool {
    unit_id == actor.unit.id || units.get(unit_id).is_some_and(|u| actor.unit.contains(u))
}

fn walk(steps: &[Step]) -> Result<usize, TestCaseError> {
    let w = world();
    let mut now = start();
    let agent = &w.actors[0];
    let registered = {
        let ctx = context(&w.units, &w.limits, &w.calendar, agent, now, None);
        register(&ctx, new_order()).unwrap()
    };
    let mut order = registered.order;
    order.id = 1;
    order.number = "20260302000001".into();
    let mut agg = OrderAggregate {
        order,
        assignments: vec![],
    };
    let mut history = registered.events;
    let mut next_id = 0;
    let mut successes = 0;
    check_invariants(&agg).map_err(TestCaseError::fail)?;

    for st in steps {
        now += Duration::hours(st.hours);
        let (actor, code) = if st.guided {
            let offered: Vec<(usize, &str)> = (0..w.actors.len())
                .flat_map(|i| {
                    let a = &w.actors[i];
                    available_actions(&ctx_in(&w, a, now), &agg)
                        .into_iter()
                        .map(move |c| (i, c))
                })
                .collect();
            if offered.is_empty() {
                break;
            }
            let (i, c) = choose(&offered, st);
            (&w.actors[i], c)
        } else {
            (&w.actors[st.actor], Action::CODES[st.code])
        };
        let action = make(code, st.seed, &agg.unit_ids());
        prop_assert_eq!(action.code(), code);
        let ctx = ctx_in(&w, actor, now);
        let offered = available_actions(&ctx, &agg);
        let before = agg.clone();
        match apply(&ctx, &agg, &action) {
            Err(e) => {
                prop_assert_eq!(&agg, &before);
                prop_assert!(!e.to_string().is_empty());
                let precondition = matches!(
                    e,
                    DomainError::Forbidden { .. }
                        | DomainError::OutOfScope
                        | DomainError::InvalidState { .. }
                        | DomainError::DeadlinePassed { .. }
                );
                if precondition && PLAIN.contains(&code) {
                    prop_assert!(
                        !offered.contains(&code),
                        "{} offered to {} but refused: {:?}",
                        code,
                        actor.username,
                        e
                    );
                }
            }
            Ok(t) => {
                successes += 1;
                prop_assert!(
                    offered.contains(&code),
                    "{} permitted for {} but not offered ({:?})",
                    code,
                    actor.username,
                    offered
                );
                // Scope: units act only on what lies in their subtree.
                if !actor.is_centre_staff() {
                    prop_assert!(can_see_order(actor, &agg, &w.units));
                    prop_assert!(matches!(
                        code,
                        "sign"
                            | "request_return"
                            | "request_extension"
                            | "reply"
                            | "redispatch"
                            | "review_return"
                            | "review_extension"
                            | "review"
                            | "appeal"
                    ));
                    for e in &t.events {
                        let unit_id = e.unit_id.ok_or_else(|| {
                            TestCaseError::fail(format!("{code} by a unit names no unit"))
                        })?;
                        prop_assert!(
                            covers(actor, &w.units, unit_id),
                            "{} by {} concerns unit {}",
                            code,
                            actor.username,
                            unit_id
                        );
                    }
                }
                // What storage relies on.
                prop_assert_eq!(t.order.version, agg.order.version);
                prop_assert_eq!(t.order.id, agg.order.id);
                prop_assert_eq!(t.order.updated_at, now);
                prop_assert!(t.assignments.len() >= agg.assignments.len());
                for (old, new) in agg.assignments.iter().zip(&t.assignments) {
                    prop_assert_eq!(old.id, new.id);
                    prop_assert_eq!(old.unit_id, new.unit_id);
                }
                for new in &t.assignments[agg.assignments.len()..] {
                    prop_assert_eq!(new.id, 0);
                }
                prop_assert!(!t.events.is_empty());
                let mut state = agg.order.state;
                for e in &t.events {
                    prop_assert_eq!(e.action.as_str(), code);
                    prop_assert_eq!(e.from_state, Some(state));
                    prop_assert_eq!(e.at, now);
                    prop_assert_eq!(e.actor_id, actor.user_id);
                    state = e.to_state;
                }
                prop_assert_eq!(state, t.order.state);

                // Store it.
                let mut order = t.order;
                order.version += 1;
                let mut assignments = t.assignments;
                for a in &mut assignments {
                    if a.id == 0 {
                        next_id += 1;
                        a.id = next_id;
                    }
                }
                agg = OrderAggregate { order, assignments };
                history.extend(t.events);
                if let Err(msg) = check_invariants(&agg) {
                    return Err(TestCaseError::fail(format!(
                        "after {code} by {}: {msg}\n{agg:#?}",
                        actor.username
                    )));
                }
            }
        }
    }

    // The state always follows from the history.
    let first = &history[0];
    prop_assert_eq!(first.from_state, None);
    prop_assert_eq!(first.to_state, OrderState::Registered);
    for pair in history.windows(2) {
        prop_assert_eq!(pair[1].from_state, Some(pair[0].to_state));
    }
    prop_assert_eq!(history.last().map(|e| e.to_state), Some(agg.order.state));
    prop_assert_eq!(agg.order.version, 1 + successes as i64);
    Ok(successes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_walks_keep_the_lifecycle_consistent(steps in prop::collection::vec(step(), 1..40)) {
        walk(&steps)?;
    }
}

/// The guided walks do get somewhere: over many seeds, orders reach every state.
#[test]
fn walks_reach_every_state() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 1,
        ..Config::default()
    });
    let mut seen = std::collections::BTreeSet::new();
    let strategy = prop::collection::vec(step(), 40);
    for _ in 0..300 {
        let steps =
            proptest::strategy::ValueTree::current(&strategy.new_tree(&mut runner).unwrap());
        let guided: Vec<Step> = steps
            .into_iter()
            .map(|s| Step { guided: true, ..s })
            .collect();
        walk_states(&guided, &mut seen);
    }
    for state in OrderState::ALL {
        assert!(seen.contains(state), "never reached {state}: {seen:?}");
    }
}

fn walk_states(steps: &[Step], seen: &mut std::collections::BTreeSet<OrderState>) {
    let w = world();
    let mut now = start();
    let ctx = context(&w.units, &w.limits, &w.calendar, &w.actors[0], now, None);
    let mut agg = OrderAggregate {
        order: register(&ctx, new_order()).unwrap().order,
        assignments: vec![],
    };
    agg.order.id = 1;
    let mut next_id = 0;
    for st in steps {
        now += Duration::hours(st.hours);
        seen.insert(agg.order.state);
        let offered: Vec<(usize, &str)> = (0..w.actors.len())
            .flat_map(|i| {
                let ctx = context(
                    &w.units,
                    &w.limits,
                    &w.calendar,
                    &w.actors[i],
                    now,
                    Some(&w.merge_parent),
                );
                available_actions(&ctx, &agg)
                    .into_iter()
                    .map(move |c| (i, c))
            })
            .collect();
        if offered.is_empty() {
            break;
        }
        let (i, code) = choose(&offered, st);
        let ctx = context(
            &w.units,
            &w.limits,
            &w.calendar,
            &w.actors[i],
            now,
            Some(&w.merge_parent),
        );
        if let Ok(t) = apply(&ctx, &agg, &make(code, st.seed, &agg.unit_ids())) {
            let mut assignments = t.assignments;
            for a in &mut assignments {
                if a.id == 0 {
                    next_id += 1;
                    a.id = next_id;
                }
            }
            agg = OrderAggregate {
                order: t.order,
                assignments,
            };
        }
    }
    seen.insert(agg.order.state);
}
