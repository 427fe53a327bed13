//! The lifecycle walked through by hand: the happy path, returns, extensions, sub-centres,
//! oversight, the intake endings and the refusals.

// Test fixtures may panic: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use chrono::{Duration, TimeZone, Utc};
use fixture::*;
use minhu_domain::action::{
    self, Action, CloseDirect, Dispatch, Instruct, Merge, Redispatch, RequestExtension,
    RequestReturn, ReviewAppeal, ReviewExtension, ReviewReturn, Transfer,
};
use minhu_domain::lifecycle::{check_invariants, derive_order_state, register};
use minhu_domain::permissions::{action_label, available_actions, can_see_order};
use minhu_domain::*;
// ---------------------------------------------------------------------------------------------
// Registration

#[test]
fn register_builds_a_registered_order() {
    let s = Sim::new();
    let o = &s.agg.order;
    assert_eq!(o.state, OrderState::Registered);
    assert_eq!(o.version, 1);
    assert_eq!(o.title, "小区停水");
    assert_eq!(o.citizen.name.as_deref(), Some("张三"));
    assert_eq!(o.citizen.contact_phone, None);
    assert_eq!(o.tags, vec!["民生".to_owned()]);
    assert_eq!(o.dispatch_deadline_at, start() + Duration::hours(24));
    let d = o.active_deadline.unwrap();
    assert_eq!(
        (d.start_at, d.deadline_at),
        (start(), o.dispatch_deadline_at)
    );
    assert!(d.yellow_at > d.start_at && d.yellow_at < d.deadline_at);
    assert_eq!(s.history.len(), 1);
    let e = &s.history[0];
    assert_eq!(
        (e.action.as_str(), e.from_state, e.to_state),
        ("register", None, OrderState::Registered)
    );
    check_invariants(&s.agg).unwrap();
    assert_eq!(derive_order_state(&s.agg), None);
}

#[test]
fn register_validates_its_input() {
    let w = world();
    let p = people(&w);
    let ctx = ctx(&w, &p.agent, start());
    let bad = |f: &dyn Fn(&mut NewOrder)| {
        let mut n = new_order();
        f(&mut n);
        field_of(register(&ctx, n))
    };
    assert_eq!(bad(&|n| n.title = "   ".into()), "title");
    assert_eq!(bad(&|n| n.title = "长".repeat(201)), "title");
    assert_eq!(bad(&|n| n.content = String::new()), "content");
    assert_eq!(bad(&|n| n.content = "字".repeat(10_001)), "content");
    assert_eq!(bad(&|n| n.citizen.phone = String::new()), "citizen.phone");
    assert_eq!(bad(&|n| n.citizen.phone = "12".into()), "citizen.phone");
    assert_eq!(bad(&|n| n.citizen.phone = "138abc".into()), "citizen.phone");
    assert_eq!(bad(&|n| n.citizen.phone = "1".repeat(21)), "citizen.phone");
    assert_eq!(
        bad(&|n| n.citizen.contact_phone = Some("x1".into())),
        "citizen.contact_phone"
    );
    assert_eq!(
        bad(&|n| n.citizen.name = Some("名".repeat(51))),
        "citizen.name"
    );
    assert_eq!(
        bad(&|n| n.citizen.enterprise_name = Some("企".repeat(201))),
        "citizen.enterprise_name"
    );
    assert_eq!(
        bad(&|n| n.location.address = "址".repeat(501)),
        "location.address"
    );
    assert_eq!(
        bad(&|n| n.tags = (0..21).map(|i| format!("t{i}")).collect()),
        "tags"
    );
    assert_eq!(bad(&|n| n.tags = vec!["签".repeat(31)]), "tags");
    assert_eq!(bad(&|n| n.tags = vec!["  ".into()]), "tags");
    // Location units must exist, have the right kind and nest.
    assert_eq!(
        bad(&|n| n.location.district_id = Some(WATER)),
        "location.district_id"
    );
    assert_eq!(
        bad(&|n| n.location.district_id = Some(99)),
        "location.district_id"
    );
    assert_eq!(
        bad(&|n| n.location.street_id = Some(COMMUNITY)),
        "location.street_id"
    );
    assert_eq!(
        bad(&|n| n.location.community_id = Some(STREET_B)),
        "location.community_id"
    );
    let mut other_district = new_order();
    other_district.location.street_id = Some(STREET);
    other_district.location.district_id = None;
    assert!(register(&ctx, other_district).is_ok());
    assert_eq!(
        bad(&|n| n.location.latitude = Some(91.0)),
        "location.latitude"
    );
    assert_eq!(
        bad(&|n| n.location.longitude = Some(f64::NAN)),
        "location.longitude"
    );

    // Only agents and dispatchers register.
    let vctx = self::ctx(&w, &p.visitor, start());
    assert!(matches!(
        register(&vctx, new_order()),
        Err(DomainError::Forbidden { required }) if required == "话务员或派单员"
    ));
    let dctx = self::ctx(&w, &p.dispatcher, start());
    assert!(register(&dctx, new_order()).is_ok());
}

// ---------------------------------------------------------------------------------------------
// The happy path

#[test]
fn happy_path_from_registration_to_appeal() {
    let mut s = Sim::new();
    let (dispatcher, supervisor, visitor, water, gas) = (
        s.p.dispatcher.clone(),
        s.p.supervisor.clone(),
        s.p.visitor.clone(),
        s.p.water.clone(),
        s.p.gas.clone(),
    );

    s.advance(1);
    s.dispatch(WATER, &[GAS]);
    assert_eq!(s.state(), OrderState::Dispatched);
    assert_eq!(s.agg.assignments.len(), 2);
    let lead = s.of_unit(WATER).clone();
    assert!(lead.is_lead() && lead.state == AssignmentState::Dispatched);
    assert_eq!(s.of_unit(GAS).role, AssignmentRole::Co);
    assert_eq!(
        s.agg.order.active_deadline.unwrap().deadline_at,
        lead.sign_deadline_at
    );
    // The sign-for limit is one working day: the end of Tuesday in Shanghai.
    assert_eq!(
        lead.sign_deadline_at,
        Utc.with_ymd_and_hms(2026, 3, 3, 16, 0, 0).unwrap()
    );
    assert_eq!(s.last_event().unit_id, Some(WATER));
    assert_eq!(s.last_event().details["co_unit_ids"][0], GAS);

    s.advance(1);
    s.act(&water, sign(None));
    assert_eq!(s.state(), OrderState::InProgress);
    let lead = s.of_unit(WATER).clone();
    assert_eq!(lead.signed_by, Some(water.user_id));
    assert_eq!(
        s.agg.order.active_deadline.unwrap().deadline_at,
        lead.handle_deadline_at
    );

    // The co unit signs and contributes; its reply needs no review.
    s.act(&gas, sign(None));
    s.act(&gas, reply("燃气管道已检查，无影响。", None));
    assert_eq!(s.of_unit(GAS).state, AssignmentState::Done);
    assert_eq!(s.state(), OrderState::InProgress);

    s.advance(24);
    s.act(&water, reply("已抢修，恢复供水。", None));
    assert_eq!(s.state(), OrderState::Replied);
    assert_eq!(s.agg.order.active_deadline, None);

    // Review fails: a note is required; back to handling with the deadline kept.
    assert_eq!(
        field_of(s.try_act(&supervisor, review(false, None, None))),
        "note"
    );
    s.act(&supervisor, review(false, Some("未说明停水原因"), None));
    assert_eq!(s.state(), OrderState::InProgress);
    assert_eq!(s.of_unit(WATER).handle_deadline_at, lead.handle_deadline_at);
    assert_eq!(
        s.of_unit(WATER).reply.as_deref(),
        Some("已抢修，恢复供水。")
    );

    s.act(&water, reply("管道破裂导致停水，已抢修恢复。", None));
    s.act(&supervisor, review(true, None, None));
    assert_eq!(s.state(), OrderState::PendingVisit);
    assert_eq!(s.of_unit(WATER).state, AssignmentState::Done);
    assert_eq!(
        s.agg.order.reply.as_deref(),
        Some("管道破裂导致停水，已抢修恢复。")
    );
    let visit_deadline = s.agg.order.visit_deadline_at.unwrap();
    assert_eq!(
        s.agg.order.active_deadline.unwrap().deadline_at,
        visit_deadline
    );

    // Redo only when unsatisfied.
    assert_eq!(
        field_of(s.try_act(&visitor, visit(Satisfaction::Satisfied, true))),
        "redo"
    );
    s.advance(2);
    s.act(&visitor, visit(Satisfaction::Unsatisfied, true));
    assert_eq!(s.state(), OrderState::InProgress);
    assert_eq!(s.agg.order.redo_count, 1);
    assert_eq!(s.agg.order.reply, None);
    let redo = s.of_unit(WATER).clone();
    assert_eq!(redo.state, AssignmentState::InProgress);
    assert_eq!(redo.handle_start_at, s.now);
    assert_eq!(
        redo.handle_deadline_at,
        s.w.calendar.deadline(s.now, TimeLimit::working_days(3))
    );
    assert_eq!(s.last_event().details["satisfaction"], "unsatisfied");

    s.act(&water, reply("已回访住户并补偿。", None));
    s.act(&supervisor, review(true, Some("同意"), None));
    s.act(&visitor, visit(Satisfaction::Satisfied, false));
    let o = &s.agg.order;
    assert_eq!(o.state, OrderState::Closed);
    assert_eq!(o.closed_at, Some(s.now));
    assert_eq!(o.satisfaction, Some(Satisfaction::Satisfied));
    assert_eq!(o.solved, Some(Solved::Solved));
    assert_eq!(o.active_deadline, None);

    // Appeal by the lead unit, not the co unit.
    let appeal = || {
        Action::Appeal(action::Appeal {
            reason: "停水系第三方施工所致".into(),
        })
    };
    assert_forbidden(s.try_act(&gas, appeal()));
    assert_invalid_state(s.try_act(
        &supervisor,
        Action::ReviewAppeal(ReviewAppeal {
            uphold: true,
            note: None,
        }),
    ));
    s.act(&water, appeal());
    assert_eq!(s.agg.order.appeal, Some(AppealState::Requested));
    assert_invalid_state(s.try_act(&water, appeal()));
    assert_forbidden(s.try_act(
        &dispatcher,
        Action::ReviewAppeal(ReviewAppeal {
            uphold: true,
            note: None,
        }),
    ));
    s.act(
        &supervisor,
        Action::ReviewAppeal(ReviewAppeal {
            uphold: true,
            note: Some("属实".into()),
        }),
    );
    assert_eq!(s.agg.order.appeal, Some(AppealState::Upheld));
    assert!(s.agg.order.evaluation_excluded);

    // The history tells the whole story.
    let codes: Vec<&str> = s.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        codes,
        [
            "register",
            "dispatch",
            "sign",
            "sign",
            "reply",
            "reply",
            "review",
            "reply",
            "review",
            "visit",
            "reply",
            "review",
            "visit",
            "appeal",
            "review_appeal"
        ]
    );
    assert_eq!(s.agg.order.version, 15);
}

// ---------------------------------------------------------------------------------------------
// Returns

fn review_return(unit_id: i64, agree: bool, new_unit_id: Option<i64>) -> Action {
    Action::ReviewReturn(ReviewReturn {
        unit_id,
        agree,
        new_unit_id,
        note: None,
    })
}

fn request_return(reason: &str) -> Action {
    Action::RequestReturn(RequestReturn {
        reason: reason.into(),
        unit_id: None,
    })
}

#[test]
fn return_agreed_redispatches_to_a_new_lead() {
    let mut s = Sim::new();
    let (dispatcher, water, gas) = (s.p.dispatcher.clone(), s.p.water.clone(), s.p.gas.clone());
    s.dispatch(WATER, &[]);
    assert_eq!(field_of(s.try_act(&water, request_return("  "))), "reason");
    s.act(&water, request_return("不属于本单位职责，应为燃气公司"));
    assert_eq!(s.state(), OrderState::ReturnRequested);
    assert_eq!(
        s.of_unit(WATER).return_reason.as_deref(),
        Some("不属于本单位职责，应为燃气公司")
    );

    // Agreeing on a lead needs a new unit, a valid one, not the same.
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(WATER, true, None))),
        "new_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(WATER, true, Some(WATER)))),
        "new_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(WATER, true, Some(CLOSED_UNIT)))),
        "unknown:new_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(WATER, true, Some(CENTRE)))),
        "unknown:new_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(GAS, true, None))),
        "unit_id"
    );
    assert_forbidden(s.try_act(
        &s.p.supervisor.clone(),
        review_return(WATER, true, Some(GAS)),
    ));

    s.advance(3);
    s.act(&dispatcher, review_return(WATER, true, Some(GAS)));
    assert_eq!(s.state(), OrderState::Dispatched);
    let old = s.of_unit(WATER);
    assert_eq!(old.state, AssignmentState::Returned);
    let new = s.of_unit(GAS).clone();
    assert!(new.is_lead() && new.state == AssignmentState::Dispatched);
    assert_eq!(new.dispatched_at, s.now);
    assert_eq!(
        s.agg.order.active_deadline.unwrap().deadline_at,
        new.sign_deadline_at
    );

    // The returned unit still sees the order (it had it) but can no longer act.
    assert!(can_see_order(&water, &s.agg, &s.w.units));
    assert_eq!(field_of(s.try_act(&water, sign(None))), "unit_id");
    s.act(&gas, sign(None));
    assert_eq!(s.state(), OrderState::InProgress);
}

#[test]
fn return_refused_goes_back_to_where_it_was() {
    let mut s = Sim::new();
    let (dispatcher, water, gas) = (s.p.dispatcher.clone(), s.p.water.clone(), s.p.gas.clone());
    s.dispatch(WATER, &[GAS]);
    // Unsigned lead: refused → dispatched again, sign span active.
    s.act(&water, request_return("非本单位"));
    assert_eq!(
        field_of(s.try_act(&dispatcher, review_return(WATER, false, Some(GAS)))),
        "new_unit_id"
    );
    s.act(&dispatcher, review_return(WATER, false, None));
    assert_eq!(s.state(), OrderState::Dispatched);
    assert_eq!(s.of_unit(WATER).state, AssignmentState::Dispatched);
    assert_eq!(s.of_unit(WATER).return_reason.as_deref(), Some("非本单位"));
    // Signed lead: refused → in progress again.
    s.act(&water, sign(None));
    s.act(&water, request_return("仍非本单位"));
    assert_eq!(s.state(), OrderState::ReturnRequested);
    s.act(&dispatcher, review_return(WATER, false, None));
    assert_eq!(s.state(), OrderState::InProgress);
    assert_eq!(
        s.agg.order.active_deadline.unwrap().deadline_at,
        s.of_unit(WATER).handle_deadline_at
    );
    // A co unit's return: the order state is untouched; a replacement co unit is optional.
    s.act(&gas, request_return("无燃气设施"));
    assert_eq!(s.state(), OrderState::InProgress);
    s.act(&dispatcher, review_return(GAS, true, Some(STREET)));
    assert_eq!(s.of_unit(GAS).state, AssignmentState::Returned);
    let co = s.of_unit(STREET);
    assert_eq!(
        (co.role, co.state),
        (AssignmentRole::Co, AssignmentState::Dispatched)
    );
    let street = s.p.street.clone();
    s.act(&street, request_return("非本辖区"));
    s.act(&dispatcher, review_return(STREET, true, None));
    assert_eq!(
        s.agg
            .assignments
            .iter()
            .filter(|a| a.state.is_open())
            .count(),
        1
    );
}

#[test]
fn return_after_the_window_is_refused() {
    let mut s = Sim::new();
    let water = s.p.water.clone();
    s.dispatch(WATER, &[]);
    let window = s.of_unit(WATER).return_deadline_at;
    // Two working days from Monday morning: until the end of Wednesday.
    assert_eq!(window, Utc.with_ymd_and_hms(2026, 3, 4, 16, 0, 0).unwrap());
    s.now = window;
    assert!(s.try_act(&water, request_return("来不及了")).is_ok());
    s.now = window + Duration::seconds(1);
    let r = s.try_act(&water, request_return("来不及了"));
    match r {
        Err(DomainError::DeadlinePassed { message }) => assert!(message.contains("退单时限")),
        other => panic!("expected DeadlinePassed, got {other:?}"),
    }
    let ctx = ctx(&s.w, &water, s.now);
    assert!(!available_actions(&ctx, &s.agg).contains(&"request_return"));
}

// ---------------------------------------------------------------------------------------------
// Extensions

fn request_extension(days: u32) -> Action {
    Action::RequestExtension(RequestExtension {
        days,
        reason: "需协调多个部门".into(),
        unit_id: None,
    })
}

fn review_extension(unit_id: i64, approve: bool) -> Action {
    Action::ReviewExtension(ReviewExtension {
        unit_id,
        approve,
        note: None,
    })
}

#[test]
fn extension_moves_the_handling_deadline() {
    let mut s = Sim::new();
    let (dispatcher, water) = (s.p.dispatcher.clone(), s.p.water.clone());
    s.dispatch(WATER, &[]);
    assert_invalid_state(s.try_act(&water, request_extension(3)));
    s.act(&water, sign(None));
    assert_eq!(field_of(s.try_act(&water, request_extension(0))), "days");
    assert_eq!(field_of(s.try_act(&water, request_extension(11))), "days");
    let before = s.of_unit(WATER).handle_deadline_at;
    s.act(&water, request_extension(5));
    let proposed = s.w.calendar.deadline(before, TimeLimit::working_days(5));
    assert_eq!(
        s.of_unit(WATER)
            .extension_request
            .as_ref()
            .unwrap()
            .proposed_deadline_at,
        proposed
    );
    assert_eq!(s.state(), OrderState::InProgress);
    assert_invalid_state(s.try_act(&water, request_extension(2)));
    assert_forbidden(s.try_act(&water, review_extension(WATER, true)));

    s.act(&dispatcher, review_extension(WATER, true));
    let a = s.of_unit(WATER);
    assert_eq!((a.handle_deadline_at, a.extension_count), (proposed, 1));
    assert!(a.extension_request.is_none());
    assert_eq!(s.agg.order.active_deadline.unwrap().deadline_at, proposed);
    assert_eq!(
        s.last_event().details["handle_deadline_at"],
        serde_json::json!(proposed)
    );

    // Refused: nothing moves; no pending request left to review.
    s.act(&water, request_extension(2));
    s.act(&dispatcher, review_extension(WATER, false));
    let a = s.of_unit(WATER);
    assert_eq!((a.handle_deadline_at, a.extension_count), (proposed, 1));
    assert_invalid_state(s.try_act(&dispatcher, review_extension(WATER, true)));

    // A reply withdraws a pending request.
    s.act(&water, request_extension(2));
    s.act(&water, reply("已办结", None));
    assert!(s.of_unit(WATER).extension_request.is_none());
}

// ---------------------------------------------------------------------------------------------
// Sub-centres

fn redispatch(to: i64, unit_id: Option<i64>) -> Action {
    Action::Redispatch(Redispatch {
        to_unit_id: to,
        unit_id,
        note: Some("请街道处理".into()),
    })
}

#[test]
fn sub_centre_redispatches_and_reviews() {
    let mut s = Sim::new();
    let (supervisor, district, street, community, water) = (
        s.p.supervisor.clone(),
        s.p.district.clone(),
        s.p.street.clone(),
        s.p.community.clone(),
        s.p.water.clone(),
    );
    s.dispatch(DISTRICT, &[]);
    // Before signing: no redispatch.
    assert_invalid_state(s.try_act(&district, redispatch(STREET, None)));
    s.act(&district, sign(None));
    assert_eq!(
        field_of(s.try_act(&district, redispatch(WATER, None))),
        "to_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&district, redispatch(DISTRICT, None))),
        "to_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&district, redispatch(99, None))),
        "unknown:to_unit_id"
    );
    s.advance(2);
    s.act(&district, redispatch(STREET, None));
    let parent = s.of_unit(DISTRICT).clone();
    let child = s.of_unit(STREET).clone();
    assert_eq!(parent.state, AssignmentState::Delegated);
    assert_eq!(child.parent_assignment_id, Some(parent.id));
    assert_eq!(child.role, AssignmentRole::Lead);
    assert_eq!(child.handle_deadline_at, parent.handle_deadline_at);
    assert_eq!(child.handle_start_at, s.now);
    assert_eq!(s.state(), OrderState::InProgress);
    assert_eq!(derive_order_state(&s.agg), Some(OrderState::InProgress));

    // The street sees and works it; the water company does not see it at all.
    assert!(can_see_order(&street, &s.agg, &s.w.units));
    assert!(!can_see_order(&water, &s.agg, &s.w.units));
    assert_out_of_scope(s.try_act(&water, sign(Some(STREET))));
    s.act(&street, sign(None));
    s.act(&street, reply("已协调物业修复。", None));
    assert_eq!(s.of_unit(STREET).state, AssignmentState::Replied);
    assert_eq!(s.state(), OrderState::InProgress);

    // The centre does not review a child; the district does, naming it.
    assert_forbidden(s.try_act(&supervisor, review(true, None, Some(STREET))));
    assert_invalid_state(s.try_act(&supervisor, review(true, None, None)));
    assert_eq!(
        field_of(s.try_act(&district, review(true, None, None))),
        "unit_id"
    );
    assert_forbidden(s.try_act(&street, review(true, None, Some(STREET))));
    s.act(&district, review(false, Some("请附照片"), Some(STREET)));
    assert_eq!(s.of_unit(STREET).state, AssignmentState::InProgress);
    s.act(&street, reply("已修复，照片见附件。", None));
    s.act(&district, review(true, None, Some(STREET)));
    assert_eq!(s.of_unit(STREET).state, AssignmentState::Done);
    let parent = s.of_unit(DISTRICT);
    assert_eq!(parent.state, AssignmentState::Replied);
    assert_eq!(parent.reply.as_deref(), Some("已修复，照片见附件。"));
    assert_eq!(s.state(), OrderState::Replied);

    s.act(&supervisor, review(true, None, None));
    assert_eq!(s.state(), OrderState::PendingVisit);
    assert_eq!(s.agg.order.reply.as_deref(), Some("已修复，照片见附件。"));

    // Redo: the district works it again and can pass it down again, two levels this time.
    s.act(&s.p.visitor.clone(), visit(Satisfaction::Unsatisfied, true));
    s.act(&district, redispatch(STREET, None));
    s.act(&street, sign(None));
    // The community does not see the order until it is passed down to it.
    assert_out_of_scope(s.try_act(&community, sign(None)));
    s.act(&street, redispatch(COMMUNITY, None));
    s.act(&community, sign(None));
    // A community is no sub-centre: it cannot pass it further down.
    assert_forbidden(s.try_act(&community, redispatch(COMMUNITY, None)));
    // The community asks to return; the street agrees and hands it to nobody below: it works
    // it itself again.
    s.act(
        &community,
        Action::RequestReturn(RequestReturn {
            reason: "非本社区".into(),
            unit_id: None,
        }),
    );
    assert_forbidden(s.try_act(
        &s.p.dispatcher.clone(),
        review_return(COMMUNITY, true, None),
    ));
    assert_eq!(
        field_of(s.try_act(&street, review_return(COMMUNITY, true, Some(STREET_B)))),
        "new_unit_id"
    );
    s.act(&street, review_return(COMMUNITY, true, None));
    assert_eq!(s.of_unit(COMMUNITY).state, AssignmentState::Returned);
    assert_eq!(s.of_unit(STREET).state, AssignmentState::InProgress);
    // The district can act for its street (naming it), and a street's reply goes up to it.
    s.act(&district, reply("街道已处理。", Some(STREET)));
    assert_eq!(s.of_unit(STREET).state, AssignmentState::Replied);
    s.act(&district, review(true, None, Some(STREET)));
    assert_eq!(s.state(), OrderState::Replied);

    // A child's extension is reviewed by its sub-centre.
    let mut s2 = Sim::new();
    s2.dispatch(DISTRICT, &[]);
    s2.act(&district, sign(None));
    s2.act(&district, redispatch(STREET_B, None));
    let street_b = s2.p.street_b.clone();
    s2.act(&street_b, sign(None));
    s2.act(&street_b, request_extension(2));
    assert_forbidden(s2.try_act(&s2.p.dispatcher.clone(), review_extension(STREET_B, true)));
    let active_before = s2.agg.order.active_deadline;
    s2.act(&district, review_extension(STREET_B, true));
    assert_eq!(s2.of_unit(STREET_B).extension_count, 1);
    assert_eq!(s2.agg.order.active_deadline, active_before);
}

// ---------------------------------------------------------------------------------------------
// Oversight

#[test]
fn urge_supervise_escalate_instruct() {
    let mut s = Sim::new();
    let (dispatcher, supervisor, leader, agent, water) = (
        s.p.dispatcher.clone(),
        s.p.supervisor.clone(),
        s.p.leader.clone(),
        s.p.agent.clone(),
        s.p.water.clone(),
    );
    // Urging works on a registered order too; it needs a note.
    assert_eq!(
        field_of(s.try_act(&supervisor, Action::Urge(note(" ")))),
        "note"
    );
    s.act(&supervisor, Action::Urge(note("请尽快派单")));
    assert_eq!(s.agg.order.urge_count, 1);
    s.dispatch(WATER, &[]);
    s.act(&dispatcher, Action::Urge(note("请尽快签收")));
    assert_eq!(
        (s.agg.order.urge_count, s.of_unit(WATER).urge_count),
        (2, 1)
    );
    assert_eq!(s.last_event().unit_id, Some(WATER));
    assert_forbidden(s.try_act(&agent, Action::Urge(note("x"))));
    assert_forbidden(s.try_act(&dispatcher, Action::Supervise(note("x"))));
    s.act(&supervisor, Action::Supervise(note("已超期，督办")));
    assert_eq!(s.agg.order.supervision_count, 1);

    let instruct = |t: &str| {
        Action::Instruct(Instruct {
            instruction: t.into(),
        })
    };
    assert_invalid_state(s.try_act(&leader, instruct("请尽快解决")));
    s.act(&dispatcher, Action::Escalate(note("群众反映强烈")));
    assert_eq!(s.agg.order.escalation, Some(EscalationState::Pending));
    assert_invalid_state(s.try_act(&supervisor, Action::Escalate(note("再报"))));
    assert_forbidden(s.try_act(&supervisor, instruct("请尽快解决")));
    assert_eq!(field_of(s.try_act(&leader, instruct(""))), "instruction");
    s.act(&leader, instruct("请水务公司三日内解决"));
    assert_eq!(s.agg.order.escalation, Some(EscalationState::Instructed));
    assert_eq!(
        s.agg.order.leader_instruction.as_deref(),
        Some("请水务公司三日内解决")
    );
    // None of the four changes the order's state.
    for e in s.history.iter().filter(|e| {
        matches!(
            e.action.as_str(),
            "urge" | "supervise" | "escalate" | "instruct"
        )
    }) {
        assert_eq!(e.from_state, Some(e.to_state));
    }
    // Units cannot urge.
    assert_forbidden(s.try_act(&water, Action::Urge(note("x"))));
    // A long note is refused.
    assert_eq!(
        field_of(s.try_act(&supervisor, Action::Urge(note(&"催".repeat(2001))))),
        "note"
    );
}

// ---------------------------------------------------------------------------------------------
// Endings at intake

#[test]
fn close_direct_and_optional_visit() {
    let mut s = Sim::new();
    let (agent, visitor) = (s.p.agent.clone(), s.p.visitor.clone());
    let close = |answer: &str| {
        Action::CloseDirect(CloseDirect {
            answer: answer.into(),
            knowledge_entry_id: Some(42),
        })
    };
    assert_eq!(field_of(s.try_act(&agent, close(""))), "answer");
    assert_eq!(
        field_of(s.try_act(&agent, close(&"答".repeat(10_001)))),
        "answer"
    );
    assert_forbidden(s.try_act(&visitor, close("x")));
    s.act(&agent, close("可携带身份证到街道办理。"));
    let o = &s.agg.order;
    assert_eq!(o.state, OrderState::ClosedDirect);
    assert_eq!(o.reply.as_deref(), Some("可携带身份证到街道办理。"));
    assert_eq!((o.knowledge_entry_id, o.active_deadline), (Some(42), None));
    assert_invalid_state(s.try_act(&agent, close("再答")));
    assert_eq!(
        field_of(s.try_act(&visitor, visit(Satisfaction::Unsatisfied, true))),
        "redo"
    );
    s.act(&visitor, visit(Satisfaction::BasicallySatisfied, false));
    assert_eq!(s.state(), OrderState::ClosedDirect);
    assert_eq!(
        s.agg.order.satisfaction,
        Some(Satisfaction::BasicallySatisfied)
    );
    assert_invalid_state(s.try_act(&visitor, visit(Satisfaction::Satisfied, false)));
    assert_invalid_state(s.try_act(&s.p.supervisor.clone(), Action::Urge(note("x"))));
}

#[test]
fn reject_transfer_merge() {
    let mut s = Sim::new();
    let agent = s.p.agent.clone();
    let reject = |text: &str| {
        Action::Reject(action::Reject {
            legal_channel: LegalChannel::Litigation,
            explanation: text.into(),
        })
    };
    assert_eq!(field_of(s.try_act(&agent, reject(" "))), "explanation");
    s.act(&agent, reject("合同纠纷请通过诉讼解决。"));
    assert_eq!(s.state(), OrderState::Rejected);
    assert_eq!(s.agg.order.legal_channel, Some(LegalChannel::Litigation));

    let mut s = Sim::new();
    s.act(
        &agent,
        Action::Transfer(Transfer {
            line: EmergencyLine::Fire119,
            note: None,
        }),
    );
    assert_eq!(s.state(), OrderState::Transferred);
    assert_eq!(s.agg.order.transfer_line, Some(EmergencyLine::Fire119));

    let mut s = Sim::new();
    let merge = |number: &str| {
        Action::Merge(Merge {
            parent_number: number.into(),
            note: Some("同一事项".into()),
        })
    };
    assert_eq!(
        field_of(s.try_act(&agent, merge("20260301000999"))),
        "parent_number"
    );
    s.w.merge_parent.state = OrderState::Closed;
    assert_eq!(
        field_of(s.try_act(&agent, merge("20260301000900"))),
        "parent_number"
    );
    s.w.merge_parent.state = OrderState::Dispatched;
    s.w.merge_parent.id = s.agg.order.id;
    assert_eq!(
        field_of(s.try_act(&agent, merge("20260301000900"))),
        "parent_number"
    );
    s.w.merge_parent.id = 900;
    s.act(&agent, merge("20260301000900"));
    assert_eq!(s.state(), OrderState::Merged);
    assert_eq!(s.agg.order.parent_order_id, Some(900));
    assert_eq!(s.last_event().details["parent_order_id"], 900);
    assert_invalid_state(s.try_act(&agent, merge("20260301000900")));
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn refusals_follow_scope_role_state_input() {
    let mut s = Sim::new();
    let p = people(&s.w);
    // Units never see a registered order: even a centre action tells them it does not exist.
    assert_out_of_scope(s.try_act(
        &p.water,
        Action::Dispatch(Dispatch {
            lead_unit_id: WATER,
            co_unit_ids: vec![],
            note: None,
        }),
    ));
    assert_out_of_scope(s.try_act(&p.water, sign(None)));
    // Centre staff without the role.
    assert_forbidden(s.try_act(
        &p.agent,
        Action::Dispatch(Dispatch {
            lead_unit_id: WATER,
            co_unit_ids: vec![],
            note: None,
        }),
    ));
    assert_forbidden(s.try_act(&p.admin, Action::Urge(note("x"))));
    // Bad dispatch input.
    let d = |lead: i64, co: Vec<i64>| {
        Action::Dispatch(Dispatch {
            lead_unit_id: lead,
            co_unit_ids: co,
            note: None,
        })
    };
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(99, vec![]))),
        "unknown:lead_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(CENTRE, vec![]))),
        "unknown:lead_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(CLOSED_UNIT, vec![]))),
        "unknown:lead_unit_id"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(WATER, vec![WATER]))),
        "co_unit_ids"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(WATER, vec![GAS, GAS]))),
        "co_unit_ids"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(WATER, vec![99]))),
        "unknown:co_unit_ids"
    );
    assert_eq!(
        field_of(s.try_act(&p.dispatcher, d(WATER, (20..31).collect()))),
        "co_unit_ids"
    );
    // Wrong state: unit actions and reviews before dispatch.
    assert_invalid_state(s.try_act(&p.supervisor, review(true, None, None)));
    assert_invalid_state(s.try_act(&p.visitor, visit(Satisfaction::Satisfied, false)));

    s.dispatch(GAS, &[]);
    // The water company is out of scope on a gas order, whatever it tries.
    assert_out_of_scope(s.try_act(&p.water, sign(None)));
    assert_out_of_scope(s.try_act(&p.water, reply("x", Some(GAS))));
    assert_out_of_scope(s.try_act(&p.water, review(true, None, Some(GAS))));
    assert!(!can_see_order(&p.water, &s.agg, &s.w.units));
    let wctx = ctx(&s.w, &p.water, s.now);
    assert!(available_actions(&wctx, &s.agg).is_empty());
    // The gas company names a unit outside its subtree: out of scope.
    assert_out_of_scope(s.try_act(&p.gas, sign(Some(WATER))));
    // Centre staff cannot do a unit's work.
    assert_forbidden(s.try_act(&p.dispatcher, sign(Some(GAS))));
    // Wrong state.
    assert_invalid_state(s.try_act(&p.gas, reply("还没签收", None)));
    assert_invalid_state(s.try_act(&p.dispatcher, d(WATER, vec![])));
    assert_invalid_state(s.try_act(
        &p.agent,
        Action::CloseDirect(CloseDirect {
            answer: "x".into(),
            knowledge_entry_id: None,
        }),
    ));
    s.act(&p.gas, sign(None));
    assert_invalid_state(s.try_act(&p.gas, sign(None)));
    // Bad input.
    assert_eq!(field_of(s.try_act(&p.gas, reply(" ", None))), "text");
    assert_eq!(
        field_of(s.try_act(&p.gas, reply(&"字".repeat(10_001), None))),
        "text"
    );
    let long_reason = "因".repeat(2001);
    assert!(matches!(
        s.try_act(&p.gas, request_return(&long_reason)),
        Err(DomainError::InvalidField { field, message }) if field == "reason" && message.contains("长度不能超过2000字")
    ));
    s.act(&p.gas, reply("已处理", None));
    assert!(s.try_act(&p.supervisor, review(true, None, None)).is_ok());

    // Error messages are Chinese.
    let err = s.try_act(&p.water, sign(None)).unwrap_err();
    assert_eq!(err.to_string(), "工单不存在或不在您的数据范围内");
    let err = s.try_act(&p.agent, review(true, None, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "没有执行该操作的权限：需要督查考评员或分中心派单员"
    );
    let err = s.try_act(&p.gas, sign(None)).unwrap_err();
    assert_eq!(err.to_string(), "当前状态为“已反馈待审核”，不能执行“签收”");
    assert_eq!(action_label("review_return"), "退单审核");
}

#[test]
fn unit_id_must_pick_an_assignment() {
    let mut s = Sim::new();
    let district = s.p.district.clone();
    s.dispatch(STREET, &[]);
    // The district sees the order through its street, but has no assignment of its own.
    assert!(can_see_order(&district, &s.agg, &s.w.units));
    assert_eq!(field_of(s.try_act(&district, sign(None))), "unit_id");
    assert_eq!(
        field_of(s.try_act(&district, sign(Some(COMMUNITY)))),
        "unit_id"
    );
    s.act(&district, sign(Some(STREET)));
    assert_eq!(s.of_unit(STREET).signed_by, Some(district.user_id));
    assert_eq!(s.last_event().unit_id, Some(STREET));
}

// ---------------------------------------------------------------------------------------------
// Permissions and invariants

#[test]
fn available_actions_follow_the_state() {
    let mut s = Sim::new();
    let c = |s: &Sim, a: &Actor| {
        let ctx = ctx(&s.w, a, s.now);
        available_actions(&ctx, &s.agg)
    };
    let p = people(&s.w);
    assert_eq!(
        c(&s, &p.agent),
        ["close_direct", "reject", "transfer", "merge"]
    );
    assert_eq!(
        c(&s, &p.dispatcher),
        [
            "close_direct",
            "reject",
            "transfer",
            "merge",
            "dispatch",
            "urge",
            "escalate"
        ]
    );
    assert_eq!(c(&s, &p.supervisor), ["urge", "supervise", "escalate"]);
    assert!(c(&s, &p.water).is_empty());
    s.dispatch(WATER, &[GAS]);
    assert_eq!(c(&s, &p.water), ["sign", "request_return"]);
    assert!(c(&s, &p.visitor).is_empty());
    s.act(&p.water, sign(None));
    assert_eq!(
        c(&s, &p.water),
        ["request_return", "request_extension", "reply"]
    );
    s.act(&p.water, reply("好了", None));
    assert_eq!(c(&s, &p.water), Vec::<&str>::new());
    assert_eq!(
        c(&s, &p.supervisor),
        ["review", "urge", "supervise", "escalate"]
    );
    assert_eq!(c(&s, &p.gas), ["sign", "request_return"]);
}

#[test]
fn invariants_catch_inconsistencies() {
    let mut s = Sim::new();
    s.dispatch(WATER, &[GAS]);
    check_invariants(&s.agg).unwrap();
    assert_eq!(derive_order_state(&s.agg), Some(OrderState::Dispatched));

    let mut bad = s.agg.clone();
    bad.order.state = OrderState::InProgress;
    assert!(check_invariants(&bad).is_err());

    let mut bad = s.agg.clone();
    bad.assignments[1].role = AssignmentRole::Lead;
    assert!(check_invariants(&bad).is_err());

    let mut bad = s.agg.clone();
    bad.assignments[1].unit_id = WATER;
    assert!(check_invariants(&bad).is_err());

    let mut bad = s.agg.clone();
    bad.order.state = OrderState::Registered;
    assert!(check_invariants(&bad).is_err());

    let mut bad = s.agg.clone();
    bad.order.state = OrderState::Closed;
    assert!(check_invariants(&bad).is_err());

    let mut bad = s.agg.clone();
    bad.assignments[0].state = AssignmentState::Delegated;
    assert!(check_invariants(&bad).is_err());
}
