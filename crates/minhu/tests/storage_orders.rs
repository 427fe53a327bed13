//! The storage of orders, on every backend (SQLite and PostgreSQL): registration and daily
//! numbers, transitions (assignments inserted and updated, stale versions refused), the history,
//! and the order list with its filters, scopes and paging. Each test starts from fresh databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

#[allow(dead_code)]
use crate::support::builders;

use minhu::storage::{OrderFilter, Scope, Store, StoreError};
use minhu_domain::{
    Assignment, AssignmentRole, Channel, Order, OrderState, OrderType, Urgency, WarningLevel,
};

use builders::{
    Orders, at, complaint_order, day, dispatch_transition, lamp_order, listed, new_assignment,
    page, register, register_event, seed_orders, seed_org, sign_transition, water_order,
};

/// The numbers of the standard orders o1 to o4.
fn numbers(orders: &Orders) -> [String; 4] {
    [&orders.o1, &orders.o2, &orders.o3, &orders.o4].map(|o| o.number.clone())
}

// ---- registration and daily numbers ----

#[tokio::test]
async fn registration_numbers_orders_per_day_and_keeps_every_field() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let (d1, d2) = (day("2026-11-28"), day("2026-11-29"));

        let draft1 = lamp_order(&org);
        let o1 = register(store, &draft1, &org, d1).await;
        assert_eq!(o1.number, "20261128000001");
        assert!(o1.id > 0);
        assert_eq!(
            o1,
            Order {
                id: o1.id,
                number: o1.number.clone(),
                ..draft1.clone()
            },
            "{backend}: every field survives the round trip"
        );

        let draft2 = complaint_order(&org);
        let o2 = register(store, &draft2, &org, d1).await;
        assert_eq!(o2.number, "20261128000002");
        assert_eq!(
            o2,
            Order {
                id: o2.id,
                number: o2.number.clone(),
                ..draft2.clone()
            }
        );

        let draft3 = water_order(&org);
        let o3 = register(store, &draft3, &org, d2).await;
        assert_eq!(
            o3.number, "20261129000001",
            "{backend}: a new day starts at 1"
        );

        let mut bad = draft3.clone();
        bad.category_id = 9_999_999;
        assert!(matches!(
            store.create_order(&bad, &[], d2).await,
            Err(StoreError::InvalidReference { field }) if field == "category_id"
        ));
        // The failed registration did not use up a number.
        let o4_probe = store.create_order(&draft3, &[], d2).await.unwrap();
        assert_eq!(o4_probe.number, "20261129000002");

        let found = store
            .find_order_by_number(&o1.number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.order, o1);
        assert!(found.assignments.is_empty());
        assert_eq!(store.find_order(o2.id).await.unwrap().unwrap().order, o2);
        assert_eq!(
            store.find_order_by_number("20000101000001").await.unwrap(),
            None
        );
        assert_eq!(store.find_order(9_999_999).await.unwrap(), None);
    }
}

// ---- save_transition ----

#[tokio::test]
async fn a_dispatch_inserts_the_assignments() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let o1 = register(store, &lamp_order(&org), &org, day("2026-11-28")).await;
        let t_dispatch = at("2026-11-28T02:30:00Z");
        let dispatch = dispatch_transition(&o1, &org);
        let agg = store.save_transition(1, &dispatch).await.unwrap();
        assert_eq!(agg.order.version, 2);
        assert_eq!(
            agg.order,
            Order {
                version: 2,
                ..dispatch.order.clone()
            }
        );
        assert_eq!(agg.assignments.len(), 2);
        assert!(agg.assignments[0].id > 0 && agg.assignments[1].id > agg.assignments[0].id);
        assert_eq!(agg.assignments[0].unit_id, org.street.id);
        assert_eq!(agg.assignments[0].order_id, o1.id);
        assert_eq!(agg.assignments[1].unit_id, org.bureau.id);
        assert_eq!(
            agg.assignments[1],
            Assignment {
                id: agg.assignments[1].id,
                order_id: o1.id,
                ..new_assignment(org.bureau.id, AssignmentRole::Co, t_dispatch, org.admin.id)
            }
        );
        assert_eq!(agg.open_lead().map(|a| a.unit_id), Some(org.street.id));
    }
}

#[tokio::test]
async fn a_sign_updates_an_assignment_and_a_stale_version_writes_nothing() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let o1 = register(store, &lamp_order(&org), &org, day("2026-11-28")).await;
        let dispatched = store
            .save_transition(1, &dispatch_transition(&o1, &org))
            .await
            .unwrap();

        // Sign and ask for an extension: the lead assignment is updated.
        let sign = sign_transition(&dispatched, &org);
        let agg = store.save_transition(2, &sign).await.unwrap();
        assert_eq!(agg.order.version, 3);
        assert_eq!(agg.order.state, OrderState::InProgress);
        assert_eq!(
            agg.assignments[0], sign.assignments[0],
            "{backend}: the assignment was updated"
        );

        // A stale version is refused and writes nothing.
        let t_sign = at("2026-11-28T04:00:00Z");
        let mut stale = sign.clone();
        stale.order.title = "被覆盖的标题".to_owned();
        stale.assignments[0].reply = Some("不该写入".to_owned());
        stale.assignments.push(new_assignment(
            org.idle.id,
            AssignmentRole::Co,
            t_sign,
            org.admin.id,
        ));
        assert!(matches!(
            store.save_transition(2, &stale).await,
            Err(StoreError::Conflict)
        ));
        let reloaded = store.find_order(o1.id).await.unwrap().unwrap();
        assert_eq!(
            reloaded, agg,
            "{backend}: the refused transition left no trace"
        );
        let mut missing = sign.clone();
        missing.order.id = 9_999_999;
        assert!(matches!(
            store.save_transition(3, &missing).await,
            Err(StoreError::NotFound)
        ));
    }
}

// ---- history ----

#[tokio::test]
async fn the_history_keeps_every_saved_event_in_order() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let draft1 = lamp_order(&org);
        let register1 = register_event(&draft1, &org);
        let o1 = store
            .create_order(&draft1, std::slice::from_ref(&register1), day("2026-11-28"))
            .await
            .unwrap();
        let dispatch = dispatch_transition(&o1, &org);
        let dispatched = store.save_transition(1, &dispatch).await.unwrap();
        let sign = sign_transition(&dispatched, &org);
        store.save_transition(2, &sign).await.unwrap();
        // A refused (stale) transition adds no history line.
        assert!(matches!(
            store.save_transition(2, &sign).await,
            Err(StoreError::Conflict)
        ));

        let history = store.order_history(o1.id).await.unwrap();
        assert_eq!(
            history.iter().map(|h| h.event.clone()).collect::<Vec<_>>(),
            vec![
                register1,
                dispatch.events[0].clone(),
                sign.events[0].clone()
            ]
        );
        assert!(history.windows(2).all(|w| w[0].id < w[1].id));
        assert!(history.iter().all(|h| h.order_id == o1.id));
    }
}

// ---- the order list ----

#[tokio::test]
async fn the_order_list_is_newest_first_and_paged() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let org = seed_org(store).await;
        let orders = seed_orders(store, &org).await;
        let [n1, n2, n3, n4] = numbers(&orders);
        let (all, none) = (Scope::All, OrderFilter::default());
        // Newest first: o4 and o3 were created at the same time, the later id first.
        assert_eq!(
            listed(store, &none, &all).await,
            vec![n4.clone(), n3.clone(), n2.clone(), n1.clone()]
        );
        let first_page = store.list_orders(&none, &all, &page(2, 0)).await.unwrap();
        assert_eq!(first_page.total, 4);
        assert_eq!(
            first_page
                .orders
                .iter()
                .map(|i| i.order.number.clone())
                .collect::<Vec<_>>(),
            vec![n4.clone(), n3.clone()]
        );
        let last_page = store.list_orders(&none, &all, &page(2, 2)).await.unwrap();
        assert_eq!(last_page.total, 4);
        assert_eq!(last_page.orders.len(), 2);
        assert_eq!(last_page.orders[1].order, orders.agg.order);
        assert_eq!(last_page.orders[1].lead_unit_id, Some(org.street.id));
        assert_eq!(last_page.orders[0].lead_unit_id, None);

        assert_eq!(
            store.count_orders_by_state().await.unwrap(),
            vec![("in_progress".to_owned(), 1), ("registered".to_owned(), 3)]
        );
    }
}

#[tokio::test]
async fn the_order_list_filters_by_state_unit_and_category() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let [n1, n2, n3, n4] = numbers(&seed_orders(store, &org).await);
        let (all, none) = (Scope::All, OrderFilter::default());
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    states: vec![OrderState::InProgress, OrderState::Dispatched],
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n1.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    states: vec![OrderState::Registered],
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n4.clone(), n3.clone(), n2.clone()]
        );
        for (unit_id, expected) in [
            (org.district.id, vec![n1.clone()]),
            (org.centre.id, vec![n1.clone()]),
            (org.bureau.id, vec![n1.clone()]),
            (org.idle.id, vec![]),
            (9_999_999, vec![]),
        ] {
            let filter = OrderFilter {
                unit_id: Some(unit_id),
                ..none.clone()
            };
            assert_eq!(
                listed(store, &filter, &all).await,
                expected,
                "{backend}: unit filter {unit_id}"
            );
        }
        for (category_id, expected) in [
            (org.city.id, vec![n2.clone(), n1.clone()]),
            (org.lighting.id, vec![n2.clone(), n1.clone()]),
            (org.lamps.id, vec![n1.clone()]),
            (org.water.id, vec![n4.clone(), n3.clone()]),
            (9_999_999, vec![]),
        ] {
            let filter = OrderFilter {
                category_id: Some(category_id),
                ..none.clone()
            };
            assert_eq!(
                listed(store, &filter, &all).await,
                expected,
                "{backend}: category filter {category_id}"
            );
        }
    }
}

#[tokio::test]
async fn the_order_list_filters_by_the_order_fields() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let orders = seed_orders(store, &org).await;
        let [n1, n2, n3, _] = numbers(&orders);
        let (all, none) = (Scope::All, OrderFilter::default());
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    district_id: Some(org.district.id),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n1.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    order_type: Some(OrderType::Complaint),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n2.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    channel: Some(Channel::Web),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n2.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    urgency: Some(Urgency::Urgent),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n2.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    created_from: Some(orders.o2.created_at),
                    created_to: Some(orders.o3.created_at),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n2.clone()],
            "{backend}: created_from is inclusive, created_to exclusive"
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    phone: Some("13800000002".to_owned()),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n2.clone()]
        );
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    number: Some(n3.clone()),
                    ..none.clone()
                },
                &all
            )
            .await,
            vec![n3.clone()]
        );
    }
}

#[tokio::test]
async fn the_order_list_filters_by_warning_level() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let [n1, n2, n3, n4] = numbers(&seed_orders(store, &org).await);
        // o1's deadline: yellow from 2026-12-04T00:00Z, red from 2026-12-05T16:00Z.
        for (now, level, expected) in [
            (
                "2026-12-01T00:00:00Z",
                WarningLevel::Green,
                vec![n4.clone(), n3.clone(), n2.clone(), n1.clone()],
            ),
            ("2026-12-01T00:00:00Z", WarningLevel::Yellow, vec![]),
            ("2026-12-01T00:00:00Z", WarningLevel::Red, vec![]),
            (
                "2026-12-04T00:00:00Z",
                WarningLevel::Yellow,
                vec![n1.clone()],
            ),
            (
                "2026-12-04T00:00:00Z",
                WarningLevel::Green,
                vec![n4.clone(), n3.clone(), n2.clone()],
            ),
            ("2026-12-05T16:00:00Z", WarningLevel::Red, vec![n1.clone()]),
            ("2026-12-05T16:00:00Z", WarningLevel::Yellow, vec![]),
        ] {
            let filter = OrderFilter {
                warning: Some(level),
                now: Some(at(now)),
                ..OrderFilter::default()
            };
            assert_eq!(
                listed(store, &filter, &Scope::All).await,
                expected,
                "{backend}: {level} at {now}"
            );
        }
    }
}

#[tokio::test]
async fn the_order_list_is_scoped_to_a_unit_subtree() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let [n1, ..] = numbers(&seed_orders(store, &org).await);
        let none = OrderFilter::default();
        for (path_prefix, expected) in [
            (org.district.path.clone(), vec![n1.clone()]),
            (org.street.path.clone(), vec![n1.clone()]),
            (org.bureau.path.clone(), vec![n1.clone()]),
            (org.idle.path.clone(), vec![]),
            (String::new(), vec![]),
            ("/%".to_owned(), vec![]),
        ] {
            let scope = Scope::UnitSubtree {
                path_prefix: path_prefix.clone(),
            };
            assert_eq!(
                listed(store, &none, &scope).await,
                expected,
                "{backend}: scope {path_prefix:?}"
            );
        }
        // Scope and filter combine.
        assert_eq!(
            listed(
                store,
                &OrderFilter {
                    states: vec![OrderState::Registered],
                    ..none.clone()
                },
                &Scope::UnitSubtree {
                    path_prefix: org.district.path.clone()
                }
            )
            .await,
            Vec::<String>::new()
        );
    }
}
