//! Hand-built domain values and seeding helpers for the storage tests: recognisable orders,
//! events and assignments, the organisation the order tests work in, and the standard set of
//! orders (one of them dispatched and signed) that the list and backup tests read.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support fails by panicking

use chrono::{DateTime, Duration, NaiveDate, Utc};
use minhu::storage::{
    Category, CategoryPatch, NewCategory, NewUnit, NewUser, OrderFilter, PageRequest, Scope, Store,
    UnitPatch, User,
};
use minhu_domain::{
    ActiveDeadline, Assignment, AssignmentRole, AssignmentState, CallerTag, Channel, Citizen,
    ExtensionRequest, Gender, HistoryEvent, Location, Order, OrderAggregate, OrderState, OrderType,
    Role, Transition, UnitInfo, UnitKind, Urgency,
};

// ---- hand-built domain values ----

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A freshly registered order with every field set to something recognisable.
pub fn new_order(
    category_id: i64,
    created_by: i64,
    created_at: DateTime<Utc>,
    phone: &str,
) -> Order {
    Order {
        id: 0,
        number: String::new(),
        version: 1,
        channel: Channel::Phone,
        created_at,
        created_by,
        updated_at: created_at,
        citizen: Citizen {
            name: Some("张三".to_owned()),
            phone: phone.to_owned(),
            contact_phone: Some("010-12345678".to_owned()),
            gender: Some(Gender::Male),
            enterprise_name: None,
            confidential: false,
            tags: vec![CallerTag::Elderly, CallerTag::RepeatCaller],
        },
        order_type: OrderType::Help,
        category_id,
        title: "小区路灯不亮".to_owned(),
        content: "朝阳路 12 号院内路灯连续三晚不亮，老人夜间出行不便。".to_owned(),
        tags: vec!["路灯".to_owned(), "夜间, 安全".to_owned()],
        urgency: Urgency::Normal,
        location: Location {
            district_id: None,
            street_id: None,
            community_id: None,
            address: "朝阳路 12 号院".to_owned(),
            longitude: Some(116.4551),
            latitude: Some(39.9219),
        },
        state: OrderState::Registered,
        dispatch_deadline_at: created_at + Duration::hours(2),
        active_deadline: Some(ActiveDeadline {
            start_at: created_at,
            deadline_at: created_at + Duration::hours(2),
            yellow_at: created_at + Duration::minutes(96),
        }),
        visit_deadline_at: None,
        reply: None,
        knowledge_entry_id: None,
        transfer_line: None,
        legal_channel: None,
        terminal_note: None,
        parent_order_id: None,
        closed_at: None,
        solved: None,
        satisfaction: None,
        visited_at: None,
        redo_count: 0,
        urge_count: 0,
        supervision_count: 0,
        escalation: None,
        leader_instruction: None,
        appeal: None,
        evaluation_excluded: false,
    }
}

pub fn event(
    action: &str,
    at: DateTime<Utc>,
    from: Option<OrderState>,
    to: OrderState,
    actor: i64,
    actor_unit: i64,
) -> HistoryEvent {
    HistoryEvent {
        at,
        actor_id: actor,
        actor_unit_id: actor_unit,
        action: action.to_owned(),
        from_state: from,
        to_state: to,
        unit_id: None,
        text: None,
        details: serde_json::json!({}),
    }
}

pub fn new_assignment(
    unit_id: i64,
    role: AssignmentRole,
    dispatched_at: DateTime<Utc>,
    by: i64,
) -> Assignment {
    Assignment {
        id: 0,
        order_id: 0,
        unit_id,
        role,
        state: AssignmentState::Dispatched,
        parent_assignment_id: None,
        dispatched_at,
        dispatched_by: by,
        sign_deadline_at: dispatched_at + Duration::hours(2),
        return_deadline_at: dispatched_at + Duration::hours(24),
        handle_start_at: dispatched_at,
        handle_deadline_at: dispatched_at + Duration::days(7),
        signed_at: None,
        signed_by: None,
        reply: None,
        replied_at: None,
        replied_by: None,
        return_reason: None,
        extension_request: None,
        extension_count: 0,
        urge_count: 0,
    }
}

pub fn unit(code: &str, kind: UnitKind, parent_id: Option<i64>) -> NewUnit {
    NewUnit {
        code: code.to_owned(),
        name: format!("单位 {code}"),
        kind,
        parent_id,
        is_dispatch_point: kind == UnitKind::DistrictCentre,
    }
}

pub fn category(code: &str, parent_id: Option<i64>) -> NewCategory {
    NewCategory {
        code: code.to_owned(),
        name: format!("分类 {code}"),
        parent_id,
    }
}

pub fn user(username: &str, unit_id: i64, roles: Vec<Role>) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("用户 {username}"),
        unit_id,
        roles,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
    }
}

pub fn page(limit: i64, offset: i64) -> PageRequest {
    PageRequest { limit, offset }
}

/// The numbers of the orders a list call returns, in order.
pub async fn listed(store: &dyn Store, filter: &OrderFilter, scope: &Scope) -> Vec<String> {
    let page = store
        .list_orders(filter, scope, &page(100, 0))
        .await
        .unwrap();
    assert_eq!(
        page.total,
        page.orders.len() as i64,
        "total matches an unpaged list"
    );
    page.orders
        .into_iter()
        .map(|item| item.order.number)
        .collect()
}

// ---- the organisation ----

/// The five units as first created: a city centre, a district centre (a dispatch point) with a
/// street below it, and two bureaus.
pub struct Units {
    pub centre: UnitInfo,
    pub district: UnitInfo,
    pub street: UnitInfo,
    pub bureau: UnitInfo,
    pub idle: UnitInfo,
}

pub async fn create_units(store: &dyn Store) -> Units {
    let centre = store
        .create_unit(&unit("C", UnitKind::CityCentre, None))
        .await
        .unwrap();
    let district = store
        .create_unit(&unit("D01", UnitKind::DistrictCentre, Some(centre.id)))
        .await
        .unwrap();
    let street = store
        .create_unit(&unit("D01-S01", UnitKind::Street, Some(district.id)))
        .await
        .unwrap();
    let bureau = store
        .create_unit(&unit("B-WATER", UnitKind::Bureau, Some(centre.id)))
        .await
        .unwrap();
    let idle = store
        .create_unit(&unit("B-IDLE", UnitKind::Bureau, Some(centre.id)))
        .await
        .unwrap();
    Units {
        centre,
        district,
        street,
        bureau,
        idle,
    }
}

/// The four categories as first created: city (03) > lighting (0301) > lamps (030105), and water
/// (04) on its own.
pub struct Categories {
    pub city: Category,
    pub lighting: Category,
    pub lamps: Category,
    pub water: Category,
}

pub async fn create_categories(store: &dyn Store) -> Categories {
    let city = store.create_category(&category("03", None)).await.unwrap();
    let lighting = store
        .create_category(&category("0301", Some(city.id)))
        .await
        .unwrap();
    let lamps = store
        .create_category(&category("030105", Some(lighting.id)))
        .await
        .unwrap();
    let water = store.create_category(&category("04", None)).await.unwrap();
    Categories {
        city,
        lighting,
        lamps,
        water,
    }
}

/// Everything the order tests need: the units (the water bureau renamed, the idle bureau a
/// deactivated dispatch point), an admin at the centre, a handler in the street, and the
/// categories (water renamed and deactivated).
pub struct Org {
    pub centre: UnitInfo,
    pub district: UnitInfo,
    pub street: UnitInfo,
    pub bureau: UnitInfo,
    pub idle: UnitInfo,
    pub admin: User,
    pub handler: User,
    pub city: Category,
    pub lighting: Category,
    pub lamps: Category,
    pub water: Category,
}

pub async fn seed_org(store: &dyn Store) -> Org {
    let Units {
        centre,
        district,
        street,
        bureau,
        idle,
    } = create_units(store).await;
    let bureau = store
        .update_unit(
            bureau.id,
            &UnitPatch {
                name: Some("市水务局".to_owned()),
                ..UnitPatch::default()
            },
        )
        .await
        .unwrap();
    let idle = store
        .update_unit(
            idle.id,
            &UnitPatch {
                name: None,
                is_dispatch_point: Some(true),
                active: Some(false),
            },
        )
        .await
        .unwrap();
    let admin = store
        .create_user(&user(
            "admin",
            centre.id,
            vec![Role::Admin, Role::Dispatcher],
        ))
        .await
        .unwrap();
    let handler = store
        .create_user(&user("street.handler", street.id, vec![Role::UnitHandler]))
        .await
        .unwrap();
    let Categories {
        city,
        lighting,
        lamps,
        water,
    } = create_categories(store).await;
    let water = store
        .update_category(
            water.id,
            &CategoryPatch {
                name: Some("供水".to_owned()),
                active: Some(false),
            },
        )
        .await
        .unwrap();
    Org {
        centre,
        district,
        street,
        bureau,
        idle,
        admin,
        handler,
        city,
        lighting,
        lamps,
        water,
    }
}

// ---- the standard orders ----

/// The registration event of `draft`, by the admin at the centre.
pub fn register_event(draft: &Order, org: &Org) -> HistoryEvent {
    event(
        "register",
        draft.created_at,
        None,
        OrderState::Registered,
        org.admin.id,
        org.centre.id,
    )
}

/// Order 1 (2026-11-28): street lamps, located in the district and street.
pub fn lamp_order(org: &Org) -> Order {
    let mut draft = new_order(
        org.lamps.id,
        org.admin.id,
        at("2026-11-28T02:00:00.123Z"),
        "13800000001",
    );
    draft.location.district_id = Some(org.district.id);
    draft.location.street_id = Some(org.street.id);
    draft
}

/// Order 2 (2026-11-28): an urgent web complaint about lighting from a confidential enterprise,
/// with the optional fields empty.
pub fn complaint_order(org: &Org) -> Order {
    let mut draft = new_order(
        org.lighting.id,
        org.admin.id,
        at("2026-11-28T03:00:00Z"),
        "13800000002",
    );
    draft.order_type = OrderType::Complaint;
    draft.channel = Channel::Web;
    draft.urgency = Urgency::Urgent;
    draft.active_deadline = None;
    draft.citizen = Citizen {
        name: None,
        phone: "13800000002".to_owned(),
        contact_phone: None,
        gender: None,
        enterprise_name: Some("某某科技有限公司".to_owned()),
        confidential: true,
        tags: vec![],
    };
    draft.tags = vec![];
    draft.location.longitude = None;
    draft.location.latitude = None;
    draft
}

/// Orders 3 and 4 (2026-11-29): water, no active deadline.
pub fn water_order(org: &Org) -> Order {
    let mut draft = new_order(
        org.water.id,
        org.admin.id,
        at("2026-11-29T01:00:00Z"),
        "13900000003",
    );
    draft.active_deadline = None;
    draft
}

/// Dispatches the registered lamp order (version 1) to the street (lead) and the bureau (co).
pub fn dispatch_transition(registered: &Order, org: &Org) -> Transition {
    let t_dispatch = at("2026-11-28T02:30:00Z");
    let mut dispatched = registered.clone();
    dispatched.state = OrderState::Dispatched;
    dispatched.updated_at = t_dispatch;
    dispatched.active_deadline = Some(ActiveDeadline {
        start_at: t_dispatch,
        deadline_at: at("2026-12-05T16:00:00Z"),
        yellow_at: at("2026-12-04T00:00:00Z"),
    });
    let mut dispatch_event = event(
        "dispatch",
        t_dispatch,
        Some(OrderState::Registered),
        OrderState::Dispatched,
        org.admin.id,
        org.centre.id,
    );
    dispatch_event.details = serde_json::json!({"lead": org.street.id, "co": [org.bureau.id]});
    dispatch_event.text = Some("请尽快处理".to_owned());
    Transition {
        order: dispatched,
        assignments: vec![
            new_assignment(
                org.street.id,
                AssignmentRole::Lead,
                t_dispatch,
                org.admin.id,
            ),
            new_assignment(org.bureau.id, AssignmentRole::Co, t_dispatch, org.admin.id),
        ],
        events: vec![dispatch_event],
    }
}

/// The street signs the dispatched lamp order (version 2) and asks for an extension: the lead
/// assignment is updated, the co assignment kept as it is.
/// The street's reply `text` to an order (its lead assignment, the first), on 2026-11-29; the
/// order stays in its state (the reply waits for review).
pub fn reply_transition(aggregate: &OrderAggregate, org: &Org, text: &str) -> Transition {
    let mut replied = aggregate.order.clone();
    replied.updated_at = at("2026-11-29T02:00:00Z");
    let mut lead = aggregate.assignments[0].clone();
    lead.reply = Some(text.to_owned());
    lead.replied_at = Some(replied.updated_at);
    let mut reply_event = event(
        "reply",
        replied.updated_at,
        Some(replied.state),
        replied.state,
        org.handler.id,
        org.street.id,
    );
    reply_event.unit_id = Some(org.street.id);
    Transition {
        order: replied,
        assignments: vec![lead],
        events: vec![reply_event],
    }
}

pub fn sign_transition(dispatched: &OrderAggregate, org: &Org) -> Transition {
    let t_sign = at("2026-11-28T04:00:00Z");
    let mut signed = dispatched.order.clone();
    signed.state = OrderState::InProgress;
    signed.updated_at = t_sign;
    let mut lead = dispatched.assignments[0].clone();
    lead.state = AssignmentState::InProgress;
    lead.signed_at = Some(t_sign);
    lead.signed_by = Some(org.handler.id);
    lead.extension_request = Some(ExtensionRequest {
        days: 5,
        reason: "需协调施工队".to_owned(),
        requested_at: t_sign,
        requested_by: org.handler.id,
        proposed_deadline_at: at("2026-12-12T16:00:00Z"),
    });
    let mut sign_event = event(
        "sign",
        t_sign,
        Some(OrderState::Dispatched),
        OrderState::InProgress,
        org.handler.id,
        org.street.id,
    );
    sign_event.unit_id = Some(org.street.id);
    Transition {
        order: signed,
        assignments: vec![lead, dispatched.assignments[1].clone()],
        events: vec![sign_event],
    }
}

/// The standard orders: o1 (lamps, 2026-11-28, dispatched and signed: in progress), o2 (the
/// complaint, 2026-11-28), o3 and o4 (water, 2026-11-29; o4 without history). `agg` is o1 as
/// stored after signing.
pub struct Orders {
    pub o1: Order,
    pub o2: Order,
    pub o3: Order,
    pub o4: Order,
    pub agg: OrderAggregate,
}

/// Registers `draft` on `local_date` with its registration event.
pub async fn register(store: &dyn Store, draft: &Order, org: &Org, local_date: NaiveDate) -> Order {
    store
        .create_order(draft, &[register_event(draft, org)], local_date)
        .await
        .unwrap()
}

pub async fn seed_orders(store: &dyn Store, org: &Org) -> Orders {
    let (d1, d2) = (day("2026-11-28"), day("2026-11-29"));
    let o1 = register(store, &lamp_order(org), org, d1).await;
    let o2 = register(store, &complaint_order(org), org, d1).await;
    let o3 = register(store, &water_order(org), org, d2).await;
    let o4 = store
        .create_order(&water_order(org), &[], d2)
        .await
        .unwrap();
    let dispatched = store
        .save_transition(1, &dispatch_transition(&o1, org))
        .await
        .unwrap();
    let agg = store
        .save_transition(2, &sign_transition(&dispatched, org))
        .await
        .unwrap();
    Orders {
        o1,
        o2,
        o3,
        o4,
        agg,
    }
}
