//! The knowledge base's life cycle walked through by hand (create, edit, review, publish, the
//! edit-while-published rule, withdrawal, the counters), every refusal with its field, the
//! derived states, and random action sequences against the invariants.

// Test fixtures may panic: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use minhu_domain::knowledge::{
    self, KnowledgeAction, KnowledgeAggregate, KnowledgeContext, KnowledgeEvent, KnowledgeInput,
    KnowledgeState, KnowledgeTransition, KnowledgeVisibility, apply, available_knowledge_actions,
    can_read, check_knowledge_invariants, effective_state, is_live, shown_to_citizens,
};
use minhu_domain::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Fixture

const CENTRE: i64 = 1;
const DISTRICT: i64 = 2;
const WATER: i64 = 10;
const GAS: i64 = 11;
const CLOSED_UNIT: i64 = 12;
const UNKNOWN_UNIT: i64 = 99;
const ENTRY_ID: i64 = 7;

fn unit(id: i64, kind: UnitKind, parent: Option<&UnitInfo>) -> UnitInfo {
    UnitInfo {
        id,
        code: format!("U{id}"),
        name: format!("单位{id}"),
        kind,
        parent_id: parent.map(|p| p.id),
        path: UnitInfo::child_path(parent, id),
        is_dispatch_point: kind == UnitKind::DistrictCentre,
        active: id != CLOSED_UNIT,
    }
}

fn units() -> UnitDirectory {
    let centre = unit(CENTRE, UnitKind::CityCentre, None);
    let district = unit(DISTRICT, UnitKind::DistrictCentre, Some(&centre));
    let water = unit(WATER, UnitKind::Enterprise, Some(&centre));
    let gas = unit(GAS, UnitKind::Enterprise, Some(&centre));
    let closed = unit(CLOSED_UNIT, UnitKind::Bureau, Some(&centre));
    UnitDirectory::new([centre, district, water, gas, closed])
}

fn person(units: &UnitDirectory, user_id: i64, unit_id: i64, roles: &[Role]) -> Actor {
    Actor {
        user_id,
        username: format!("u{user_id}"),
        display_name: format!("用户{user_id}"),
        roles: roles.to_vec(),
        unit: units.get(unit_id).cloned().unwrap(),
    }
}

struct People {
    editor: Actor,
    agent: Actor,
    admin: Actor,
    water: Actor,
    water_leader: Actor,
    gas: Actor,
    sub_centre: Actor,
}

fn people(units: &UnitDirectory) -> People {
    People {
        editor: person(units, 1, CENTRE, &[Role::KnowledgeEditor]),
        agent: person(units, 2, CENTRE, &[Role::Agent]),
        admin: person(units, 3, CENTRE, &[Role::Admin, Role::Dispatcher]),
        water: person(units, 10, WATER, &[Role::UnitHandler]),
        water_leader: person(units, 11, WATER, &[Role::UnitLeader]),
        gas: person(units, 20, GAS, &[Role::UnitHandler]),
        sub_centre: person(units, 30, DISTRICT, &[Role::SubCentre]),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap()
}

fn input() -> KnowledgeInput {
    KnowledgeInput {
        category_id: 3,
        title: "居民用水报修流程及责任划分".into(),
        body: "## 答复口径\n\n水表前由供水企业维修，水表后由业主自行维修。".into(),
        keywords: vec!["停水".into(), " 报修 ".into(), "停水".into(), String::new()],
        source_unit_id: WATER,
        visibility: KnowledgeVisibility::Public,
        temporary: false,
        effective_from: None,
        expires_at: None,
    }
}

/// A simulated store: the aggregate with every version, and the history.
struct Kb {
    units: UnitDirectory,
    agg: KnowledgeAggregate,
    history: Vec<KnowledgeEvent>,
}

impl Kb {
    /// An entry created by `actor` at `t0`, stored with id [`ENTRY_ID`].
    fn new(actor: &Actor, input: &KnowledgeInput) -> Self {
        let units = units();
        let ctx = KnowledgeContext {
            now: t0(),
            actor,
            units: &units,
        };
        let t = knowledge::create(&ctx, input).unwrap();
        let mut agg = KnowledgeAggregate {
            entry: t.entry,
            versions: t.versions,
        };
        agg.entry.id = ENTRY_ID;
        for v in &mut agg.versions {
            v.entry_id = ENTRY_ID;
        }
        check_knowledge_invariants(&agg).unwrap();
        Self {
            units,
            agg,
            history: vec![t.event],
        }
    }

    fn ctx<'a>(&'a self, actor: &'a Actor, now: DateTime<Utc>) -> KnowledgeContext<'a> {
        KnowledgeContext {
            now,
            actor,
            units: &self.units,
        }
    }

    fn try_do(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        action: &KnowledgeAction,
    ) -> Result<KnowledgeTransition, DomainError> {
        apply(&self.ctx(actor, now), &self.agg, action)
    }

    /// Applies a permitted action and checks the invariants.
    fn act(&mut self, actor: &Actor, now: DateTime<Utc>, action: KnowledgeAction) {
        let t = self.try_do(actor, now, &action).unwrap();
        assert_eq!(t.event.action, action.code());
        assert_eq!(t.event.entry_id, ENTRY_ID);
        self.agg.apply(&t);
        self.history.push(t.event);
        check_knowledge_invariants(&self.agg).unwrap();
    }

    fn state(&self) -> KnowledgeState {
        self.agg.entry.state
    }

    fn version_state(&self, n: i32) -> KnowledgeState {
        self.agg.version(n).unwrap().state
    }
}

fn field_of<T: std::fmt::Debug>(r: Result<T, DomainError>) -> String {
    match r.unwrap_err() {
        DomainError::InvalidField { field, .. } | DomainError::UnknownUnit { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn code_of<T: std::fmt::Debug>(r: Result<T, DomainError>) -> &'static str {
    r.unwrap_err().code()
}

fn edit_with(f: impl FnOnce(&mut KnowledgeInput)) -> KnowledgeAction {
    let mut i = input();
    f(&mut i);
    KnowledgeAction::Edit(i)
}

fn approve() -> KnowledgeAction {
    KnowledgeAction::Approve { note: None }
}

fn hours(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
}

// ---------------------------------------------------------------------------------------------
// The life cycle

#[test]
fn create_builds_a_draft_with_its_first_version() {
    let p = people(&units());
    let kb = Kb::new(&p.water, &input());
    let e = &kb.agg.entry;
    assert_eq!(e.state, KnowledgeState::Draft);
    assert_eq!((e.published_version, e.latest_version), (None, 1));
    assert_eq!((e.used_count, e.helpful_count, e.revision), (0, 0, 1));
    assert_eq!(
        e.content.keywords,
        vec!["停水".to_owned(), "报修".to_owned()]
    );
    assert_eq!(e.content.effective_from, t0());
    assert_eq!((e.created_by, e.created_at), (10, t0()));
    let v = kb.agg.latest().unwrap();
    assert_eq!((v.version, v.state), (1, KnowledgeState::Draft));
    assert_eq!((v.author_id, v.author_unit_id), (10, WATER));
    assert_eq!(v.content, e.content);
    let ev = &kb.history[0];
    assert_eq!(
        (ev.action.as_str(), ev.from_state, ev.to_state, ev.version),
        ("create", None, KnowledgeState::Draft, 1)
    );
}

#[test]
fn a_unit_submits_a_policy_update_and_the_editor_publishes_it() {
    let p = people(&units());
    let mut kb = Kb::new(&p.water, &input());
    // The unit edits its draft in place, then submits.
    kb.act(
        &p.water,
        hours(1),
        edit_with(|i| i.title = "居民用水报修流程".into()),
    );
    assert_eq!(kb.agg.entry.latest_version, 1);
    assert_eq!(kb.agg.entry.content.title, "居民用水报修流程");
    kb.act(&p.water, hours(2), KnowledgeAction::Submit);
    assert_eq!(kb.state(), KnowledgeState::InReview);
    assert_eq!(kb.agg.latest().unwrap().submitted_at, Some(hours(2)));
    // The editor sends it back with a note.
    kb.act(
        &p.editor,
        hours(3),
        KnowledgeAction::Reject {
            note: "请补充办理地点".into(),
        },
    );
    assert_eq!(kb.state(), KnowledgeState::Draft);
    let v = kb.agg.latest().unwrap();
    assert!(v.is_rejected());
    assert_eq!(v.review_note.as_deref(), Some("请补充办理地点"));
    assert_eq!((v.reviewer_id, v.reviewed_at), (Some(1), Some(hours(3))));
    // Fixed in place (still version 1), resubmitted, approved.
    kb.act(
        &p.water,
        hours(4),
        edit_with(|i| i.body.push_str("\n\n办理地点：云澜市水务集团营业厅。")),
    );
    assert_eq!(kb.agg.entry.latest_version, 1);
    kb.act(&p.water_leader, hours(5), KnowledgeAction::Submit);
    kb.act(
        &p.editor,
        hours(6),
        KnowledgeAction::Approve {
            note: Some(" 同意发布 ".into()),
        },
    );
    let e = &kb.agg.entry;
    assert_eq!(e.state, KnowledgeState::Published);
    assert_eq!((e.published_version, e.latest_version), (Some(1), 1));
    let v = kb.agg.published().unwrap();
    assert_eq!(v.state, KnowledgeState::Published);
    assert_eq!(v.review_note.as_deref(), Some("同意发布"));
    assert!(!v.is_rejected());
    assert!(is_live(e, hours(7)));
    // Agents use it and find it helpful.
    kb.act(
        &p.agent,
        hours(7),
        KnowledgeAction::RecordUse { order_id: 42 },
    );
    kb.act(&p.agent, hours(7), KnowledgeAction::MarkHelpful);
    kb.act(
        &p.water,
        hours(8),
        KnowledgeAction::RecordUse { order_id: 43 },
    );
    assert_eq!(
        (kb.agg.entry.used_count, kb.agg.entry.helpful_count),
        (2, 1)
    );
    assert_eq!(kb.history[7].details["order_id"], 42);
    let actions: Vec<&str> = kb.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create",
            "edit",
            "submit",
            "reject",
            "edit",
            "submit",
            "approve",
            "record_use",
            "mark_helpful",
            "record_use"
        ]
    );
    // Withdrawn by the editor: out of use, no live version, the versions kept.
    kb.act(
        &p.editor,
        hours(9),
        KnowledgeAction::Withdraw {
            reason: "政策已废止".into(),
        },
    );
    assert_eq!(kb.state(), KnowledgeState::Withdrawn);
    assert_eq!(kb.agg.entry.published_version, None);
    assert_eq!(kb.version_state(1), KnowledgeState::Withdrawn);
    assert_eq!(kb.history.last().unwrap().details["published_version"], 1);
    assert!(!is_live(&kb.agg.entry, hours(10)));
    assert!(!can_read(&p.agent, &kb.agg.entry, hours(10)));
    // Revived by a new draft version.
    kb.act(&p.editor, hours(10), KnowledgeAction::Edit(input()));
    assert_eq!(kb.state(), KnowledgeState::Draft);
    assert_eq!(kb.agg.entry.latest_version, 2);
    assert_eq!(kb.version_state(1), KnowledgeState::Withdrawn);
}

#[test]
fn editing_a_published_entry_keeps_the_published_version_live_until_approval() {
    let p = people(&units());
    let mut kb = Kb::new(&p.editor, &input());
    kb.act(&p.editor, hours(1), KnowledgeAction::Submit);
    kb.act(&p.editor, hours(2), approve());
    let live = kb.agg.entry.content.clone();

    kb.act(
        &p.water,
        hours(3),
        edit_with(|i| {
            i.title = "居民用水报修流程（2027版）".into();
            i.visibility = KnowledgeVisibility::Internal;
        }),
    );
    let e = &kb.agg.entry;
    assert_eq!(e.state, KnowledgeState::Published);
    assert_eq!((e.published_version, e.latest_version), (Some(1), 2));
    assert_eq!(e.content, live, "the live content is unchanged");
    assert!(kb.agg.has_pending_version());
    assert!(shown_to_citizens(e, hours(3)));
    let v2 = kb.agg.latest().unwrap();
    assert_eq!((v2.state, v2.author_id), (KnowledgeState::Draft, 10));
    assert_eq!(kb.history.last().unwrap().details["new_version"], true);

    // The pending draft is edited in place, then reviewed; a rejection leaves v1 live.
    kb.act(
        &p.water,
        hours(4),
        edit_with(|i| i.title = "居民用水报修流程（修订）".into()),
    );
    assert_eq!(kb.agg.entry.latest_version, 2);
    assert_eq!(kb.history.last().unwrap().details["new_version"], false);
    kb.act(&p.water, hours(5), KnowledgeAction::Submit);
    assert_eq!(kb.state(), KnowledgeState::Published);
    assert_eq!(kb.version_state(2), KnowledgeState::InReview);
    assert_eq!(kb.agg.entry.content, live);
    // Counting still works on the live version while v2 waits.
    kb.act(
        &p.agent,
        hours(5),
        KnowledgeAction::RecordUse { order_id: 1 },
    );
    kb.act(
        &p.editor,
        hours(6),
        KnowledgeAction::Reject {
            note: "口径不准确".into(),
        },
    );
    assert_eq!(kb.state(), KnowledgeState::Published);
    assert_eq!(kb.version_state(1), KnowledgeState::Published);
    assert_eq!(kb.version_state(2), KnowledgeState::Draft);
    assert_eq!(kb.agg.entry.content, live);

    kb.act(&p.water, hours(7), KnowledgeAction::Submit);
    kb.act(&p.editor, hours(8), approve());
    let e = &kb.agg.entry;
    assert_eq!((e.published_version, e.latest_version), (Some(2), 2));
    assert_eq!(e.content.title, "居民用水报修流程（修订）");
    assert_eq!(kb.version_state(1), KnowledgeState::Superseded);
    assert_eq!(kb.version_state(2), KnowledgeState::Published);
    assert_eq!(kb.history.last().unwrap().details["replaced_version"], 1);
    assert_eq!(e.used_count, 1);
    assert!(!kb.agg.has_pending_version());
    // A third version, withdrawn together with the live one.
    kb.act(&p.editor, hours(9), KnowledgeAction::Edit(input()));
    kb.act(&p.editor, hours(9), KnowledgeAction::Submit);
    kb.act(
        &p.editor,
        hours(10),
        KnowledgeAction::Withdraw {
            reason: "合并到新条目".into(),
        },
    );
    assert_eq!(kb.version_state(2), KnowledgeState::Withdrawn);
    assert_eq!(kb.version_state(3), KnowledgeState::Withdrawn);
    assert_eq!(kb.version_state(1), KnowledgeState::Superseded);
}

#[test]
fn published_entries_expire_and_take_effect_by_their_dates() {
    let p = people(&units());
    let start = hours(24);
    let end = hours(24 * 10);
    let mut kb = Kb::new(
        &p.editor,
        &KnowledgeInput {
            temporary: true,
            effective_from: Some(start),
            expires_at: Some(end),
            ..input()
        },
    );
    let e = |kb: &Kb| kb.agg.entry.clone();
    assert_eq!(effective_state(&e(&kb), end), KnowledgeState::Draft);
    kb.act(&p.editor, hours(1), KnowledgeAction::Submit);
    kb.act(&p.editor, hours(2), approve());
    assert_eq!(kb.state(), KnowledgeState::Published);
    assert_eq!(
        effective_state(&e(&kb), hours(2)),
        KnowledgeState::Scheduled
    );
    assert_eq!(effective_state(&e(&kb), start), KnowledgeState::Published);
    assert_eq!(
        effective_state(&e(&kb), end - Duration::seconds(1)),
        KnowledgeState::Published
    );
    assert_eq!(effective_state(&e(&kb), end), KnowledgeState::Expired);
    assert!(KnowledgeState::Expired.is_derived() && KnowledgeState::Scheduled.is_derived());
    // Not live: agents neither see nor count it, citizens are not shown it.
    for at in [hours(2), end] {
        assert!(!is_live(&e(&kb), at));
        assert!(!shown_to_citizens(&e(&kb), at));
        assert!(!can_read(&p.agent, &e(&kb), at));
        assert!(can_read(&p.editor, &e(&kb), at));
        assert!(can_read(&p.water, &e(&kb), at));
        assert!(!can_read(&p.gas, &e(&kb), at));
    }
    assert!(can_read(&p.gas, &e(&kb), start));
    assert_eq!(
        code_of(kb.try_do(&p.agent, end, &KnowledgeAction::MarkHelpful)),
        "not_found"
    );
    let refused = kb.try_do(&p.editor, end, &KnowledgeAction::RecordUse { order_id: 1 });
    assert_eq!(
        refused.unwrap_err(),
        DomainError::InvalidState {
            action: "引用办结".into(),
            state: "已过期".into()
        }
    );
    // An expired entry can be edited into a new version with new dates…
    kb.act(
        &p.editor,
        end,
        KnowledgeAction::Edit(KnowledgeInput {
            temporary: true,
            expires_at: Some(end + Duration::days(3)),
            ..input()
        }),
    );
    assert_eq!(kb.agg.entry.latest_version, 2);
    // …but a version whose end has passed is neither submitted nor published.
    let mut stale = Kb::new(
        &p.editor,
        &KnowledgeInput {
            expires_at: Some(hours(5)),
            ..input()
        },
    );
    assert_eq!(
        field_of(stale.try_do(&p.editor, hours(5), &KnowledgeAction::Submit)),
        "expires_at"
    );
    stale.act(&p.editor, hours(1), KnowledgeAction::Submit);
    assert_eq!(
        field_of(stale.try_do(&p.editor, hours(6), &approve())),
        "expires_at"
    );
}

#[test]
fn internal_entries_are_for_staff_only() {
    let p = people(&units());
    let mut kb = Kb::new(
        &p.editor,
        &KnowledgeInput {
            visibility: KnowledgeVisibility::Internal,
            ..input()
        },
    );
    kb.act(&p.editor, hours(1), KnowledgeAction::Submit);
    kb.act(&p.editor, hours(1), approve());
    let e = &kb.agg.entry;
    assert!(is_live(e, hours(2)));
    assert!(!shown_to_citizens(e, hours(2)));
    for actor in [&p.agent, &p.admin, &p.gas, &p.sub_centre] {
        assert!(can_read(actor, e, hours(2)));
    }
    assert_eq!(KnowledgeVisibility::Internal.label(), "内部");
    assert_eq!(KnowledgeVisibility::Public.label(), "公开");
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn create_refuses_roles_and_bad_input_with_the_field() {
    let units = units();
    let p = people(&units);
    let ctx = |actor| KnowledgeContext {
        now: t0(),
        actor,
        units: &units,
    };
    for actor in [&p.agent, &p.admin] {
        assert_eq!(
            code_of(knowledge::create(&ctx(actor), &input())),
            "forbidden"
        );
    }
    // A handling unit may only speak for itself; a sub-centre likewise.
    assert_eq!(
        field_of(knowledge::create(&ctx(&p.gas), &input())),
        "source_unit_id"
    );
    let own = KnowledgeInput {
        source_unit_id: DISTRICT,
        ..input()
    };
    assert!(knowledge::create(&ctx(&p.sub_centre), &own).is_ok());
    let bad = |f: &dyn Fn(&mut KnowledgeInput)| {
        let mut i = input();
        f(&mut i);
        field_of(knowledge::create(&ctx(&p.editor), &i))
    };
    assert_eq!(bad(&|i| i.title = "  ".into()), "title");
    assert_eq!(bad(&|i| i.title = "长".repeat(101)), "title");
    assert_eq!(bad(&|i| i.body = "\n".into()), "body");
    assert_eq!(bad(&|i| i.body = "字".repeat(20_001)), "body");
    assert_eq!(bad(&|i| i.keywords = vec!["超".repeat(21)]), "keywords");
    assert_eq!(
        bad(&|i| i.keywords = (0..21).map(|n| format!("词{n}")).collect()),
        "keywords"
    );
    assert_eq!(bad(&|i| i.category_id = 0), "category_id");
    assert_eq!(bad(&|i| i.source_unit_id = UNKNOWN_UNIT), "source_unit_id");
    assert_eq!(bad(&|i| i.source_unit_id = CLOSED_UNIT), "source_unit_id");
    assert_eq!(
        code_of(knowledge::create(
            &ctx(&p.editor),
            &KnowledgeInput {
                source_unit_id: UNKNOWN_UNIT,
                ..input()
            }
        )),
        "unknown_unit"
    );
    assert_eq!(bad(&|i| i.expires_at = Some(t0())), "expires_at");
    assert_eq!(
        bad(&|i| {
            i.effective_from = Some(hours(5));
            i.expires_at = Some(hours(4));
        }),
        "expires_at"
    );
    assert_eq!(bad(&|i| i.temporary = true), "expires_at");
    assert_eq!(
        bad(&|i| {
            i.temporary = true;
            i.expires_at = Some(t0() + Duration::days(30) + Duration::seconds(1));
        }),
        "expires_at"
    );
    // The limits themselves pass.
    let mut ok = input();
    ok.title = "长".repeat(100);
    ok.body = "字".repeat(20_000);
    ok.keywords = (0..20).map(|n| format!("{n:0>20}")).collect();
    ok.temporary = true;
    ok.expires_at = Some(t0() + Duration::days(30));
    assert!(knowledge::create(&ctx(&p.editor), &ok).is_ok());
    // A long-running entry may run for years when it is not temporary.
    ok.temporary = false;
    ok.expires_at = Some(t0() + Duration::days(3650));
    assert!(knowledge::create(&ctx(&p.editor), &ok).is_ok());
}

#[test]
fn actions_refuse_the_wrong_person() {
    let p = people(&units());
    let mut kb = Kb::new(&p.water, &input());
    // Another unit does not even see a draft that is not its own.
    assert_eq!(
        code_of(kb.try_do(&p.gas, hours(1), &KnowledgeAction::Submit)),
        "not_found"
    );
    assert_eq!(
        code_of(kb.try_do(&p.agent, hours(1), &KnowledgeAction::Edit(input()))),
        "not_found"
    );
    kb.act(&p.water, hours(1), KnowledgeAction::Submit);
    // A unit never reviews, even its own entry.
    for action in [
        approve(),
        KnowledgeAction::Reject {
            note: "不行".into(),
        },
        KnowledgeAction::Withdraw {
            reason: "不要了".into(),
        },
    ] {
        assert_eq!(code_of(kb.try_do(&p.water, hours(2), &action)), "forbidden");
        assert_eq!(
            code_of(kb.try_do(&p.water_leader, hours(2), &action)),
            "forbidden"
        );
    }
    kb.act(&p.editor, hours(2), approve());
    // Once live everyone sees it, but only the editor and the source unit change it.
    for actor in [&p.agent, &p.admin, &p.gas, &p.sub_centre] {
        assert_eq!(
            code_of(kb.try_do(actor, hours(3), &KnowledgeAction::Edit(input()))),
            "forbidden"
        );
        assert_eq!(
            code_of(kb.try_do(
                actor,
                hours(3),
                &KnowledgeAction::Withdraw {
                    reason: "过时".into()
                }
            )),
            "forbidden"
        );
    }
    // The source unit may not hand its entry to another unit.
    assert_eq!(
        field_of(kb.try_do(&p.water, hours(3), &edit_with(|i| i.source_unit_id = GAS))),
        "source_unit_id"
    );
    // The editor may.
    kb.act(&p.editor, hours(3), edit_with(|i| i.source_unit_id = GAS));
    assert_eq!(kb.agg.latest().unwrap().content.source_unit_id, GAS);
}

#[test]
fn actions_refuse_the_wrong_state() {
    let p = people(&units());
    let mut kb = Kb::new(&p.editor, &input());
    let state_of = |kb: &Kb, actor: &Actor, action: KnowledgeAction| match kb
        .try_do(actor, hours(1), &action)
        .unwrap_err()
    {
        DomainError::InvalidState { action, state } => format!("{action}:{state}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(state_of(&kb, &p.editor, approve()), "审核通过:草稿");
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::Reject { note: "x".into() }),
        "审核退回:草稿"
    );
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::RecordUse { order_id: 1 }),
        "引用办结:草稿"
    );
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::MarkHelpful),
        "标记有用:草稿"
    );
    kb.act(&p.editor, hours(1), KnowledgeAction::Submit);
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::Edit(input())),
        "编辑:待审核"
    );
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::Submit),
        "提交审核:待审核"
    );
    kb.act(&p.editor, hours(1), approve());
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::Submit),
        "提交审核:已发布"
    );
    assert_eq!(state_of(&kb, &p.editor, approve()), "审核通过:已发布");
    kb.act(
        &p.editor,
        hours(1),
        KnowledgeAction::Withdraw { reason: "x".into() },
    );
    assert_eq!(
        state_of(
            &kb,
            &p.editor,
            KnowledgeAction::Withdraw { reason: "x".into() }
        ),
        "撤回:已撤回"
    );
    assert_eq!(
        state_of(&kb, &p.editor, KnowledgeAction::MarkHelpful),
        "标记有用:已撤回"
    );
}

#[test]
fn review_notes_and_reasons_are_checked() {
    let p = people(&units());
    let mut kb = Kb::new(&p.editor, &input());
    kb.act(&p.editor, hours(1), KnowledgeAction::Submit);
    let refuse = |action: KnowledgeAction| field_of(kb.try_do(&p.editor, hours(2), &action));
    assert_eq!(refuse(KnowledgeAction::Reject { note: " ".into() }), "note");
    assert_eq!(
        refuse(KnowledgeAction::Reject {
            note: "意".repeat(2001)
        }),
        "note"
    );
    assert_eq!(
        refuse(KnowledgeAction::Approve {
            note: Some("意".repeat(2001))
        }),
        "note"
    );
    assert_eq!(
        refuse(KnowledgeAction::Withdraw {
            reason: String::new()
        }),
        "reason"
    );
    // An empty approval note counts as none.
    kb.act(
        &p.editor,
        hours(2),
        KnowledgeAction::Approve {
            note: Some("  ".into()),
        },
    );
    assert_eq!(kb.agg.published().unwrap().review_note, None);
}

#[test]
fn available_actions_follow_role_and_state() {
    let p = people(&units());
    let mut kb = Kb::new(&p.water, &input());
    let avail =
        |kb: &Kb, actor: &Actor| available_knowledge_actions(&kb.ctx(actor, hours(1)), &kb.agg);
    assert_eq!(avail(&kb, &p.water), ["edit", "submit"]);
    assert_eq!(avail(&kb, &p.editor), ["edit", "submit", "withdraw"]);
    assert!(avail(&kb, &p.agent).is_empty());
    kb.act(&p.water, hours(1), KnowledgeAction::Submit);
    assert!(avail(&kb, &p.water).is_empty());
    assert_eq!(avail(&kb, &p.editor), ["approve", "reject", "withdraw"]);
    kb.act(&p.editor, hours(1), approve());
    assert_eq!(avail(&kb, &p.agent), ["record_use", "mark_helpful"]);
    assert_eq!(avail(&kb, &p.water), ["edit", "record_use", "mark_helpful"]);
    assert_eq!(
        avail(&kb, &p.editor),
        ["edit", "withdraw", "record_use", "mark_helpful"]
    );
    assert_eq!(knowledge::knowledge_action_label("approve"), "审核通过");
}

#[test]
fn vocabulary_and_actions_round_trip_as_json() {
    for s in KnowledgeState::ALL {
        assert_eq!(s.as_str().parse::<KnowledgeState>(), Ok(*s));
    }
    assert_eq!(KnowledgeState::InReview.label(), "待审核");
    let action: KnowledgeAction =
        serde_json::from_str(r#"{"action":"reject","note":"请补充"}"#).unwrap();
    assert_eq!(action.code(), "reject");
    let edit = KnowledgeAction::Edit(input());
    let json = serde_json::to_string(&edit).unwrap();
    assert_eq!(
        serde_json::from_str::<KnowledgeAction>(&json).unwrap(),
        edit
    );
    assert!(serde_json::from_str::<KnowledgeAction>(r#"{"action":"publish"}"#).is_err());
    assert_eq!(KnowledgeAction::CODES.len(), 7);
}

// ---------------------------------------------------------------------------------------------
// Random sequences

fn action_of(code: u8, seed: u8) -> KnowledgeAction {
    let mut i = input();
    if seed.is_multiple_of(3) {
        i.title = format!("知识{seed}");
    }
    if seed.is_multiple_of(5) {
        i.source_unit_id = GAS;
    }
    if seed.is_multiple_of(7) {
        i.temporary = true;
        i.expires_at = Some(hours(24 * i64::from(seed % 40 + 1)));
    }
    if seed.is_multiple_of(11) {
        i.effective_from = Some(hours(i64::from(seed)));
    }
    let note = if seed.is_multiple_of(4) {
        " "
    } else {
        "意见"
    };
    // Withdrawal ends most walks, so it is drawn less often than the rest.
    match code % 12 {
        0 | 1 => KnowledgeAction::Edit(i),
        2 | 3 => KnowledgeAction::Submit,
        4 | 5 => KnowledgeAction::Approve {
            note: (seed.is_multiple_of(2)).then(|| note.to_owned()),
        },
        6 | 7 => KnowledgeAction::Reject { note: note.into() },
        8 => KnowledgeAction::Withdraw {
            reason: note.into(),
        },
        9 | 10 => KnowledgeAction::RecordUse {
            order_id: i64::from(seed),
        },
        _ => KnowledgeAction::MarkHelpful,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whoever tries whatever, in whatever order: every permitted step keeps the invariants,
    /// the published version never passes the latest, a published entry always has its published
    /// version, counters and version numbers never go down, the history's states chain, and
    /// `available_knowledge_actions` lists every action `apply` permits.
    #[test]
    fn random_sequences_keep_the_invariants(
        steps in prop::collection::vec((0u8..10, 0u8..12, any::<u8>(), 0i64..72), 1..40)
    ) {
        let units = units();
        let p = people(&units);
        let actors = [
            &p.editor, &p.editor, &p.editor, &p.agent, &p.admin, &p.water, &p.water,
            &p.water_leader, &p.gas, &p.sub_centre,
        ];
        let mut kb = Kb::new(&p.water, &input());
        let mut now = t0();
        for (who, code, seed, advance) in steps {
            now += Duration::hours(advance);
            let actor = actors[usize::from(who) % actors.len()];
            let action = action_of(code, seed);
            let available = available_knowledge_actions(&kb.ctx(actor, now), &kb.agg);
            let before = kb.agg.entry.clone();
            match kb.try_do(actor, now, &action) {
                Ok(t) => {
                    let code = action.code();
                    prop_assert!(available.contains(&code), "{} not listed", code);
                    prop_assert_eq!(t.event.from_state, Some(before.state));
                    prop_assert_eq!(t.event.to_state, t.entry.state);
                    kb.agg.apply(&t);
                    let e = &kb.agg.entry;
                    if let Err(broken) = check_knowledge_invariants(&kb.agg) {
                        prop_assert!(false, "{broken} after {:?}", action);
                    }
                    prop_assert!(e.published_version.unwrap_or(0) <= e.latest_version);
                    prop_assert!(
                        e.state != KnowledgeState::Published || kb.agg.published().is_some()
                    );
                    prop_assert!(e.used_count >= before.used_count);
                    prop_assert!(e.helpful_count >= before.helpful_count);
                    prop_assert!(e.latest_version >= before.latest_version);
                    prop_assert_eq!(
                        (e.id, e.created_at, e.created_by),
                        (before.id, before.created_at, before.created_by)
                    );
                    kb.history.push(t.event);
                }
                Err(err) => {
                    prop_assert_eq!(&kb.agg.entry, &before);
                    let refused_early = matches!(
                        err,
                        DomainError::OutOfScope
                            | DomainError::Forbidden { .. }
                            | DomainError::InvalidState { .. }
                    );
                    if refused_early {
                        let code = action.code();
                        prop_assert!(!available.contains(&code), "{} listed but {:?}", code, err);
                    }
                }
            }
        }
        for pair in kb.history.windows(2) {
            prop_assert_eq!(pair[1].from_state, Some(pair[0].to_state));
        }
    }
}
