//! The demo city on every backend: its size, its accounts, orders in every state with histories
//! that keep the lifecycle's invariants, and a refusal to seed twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

use std::collections::BTreeMap;

use minhu::config::Config;
use minhu::demo::seed_demo;
use minhu::service::App;
use minhu::service::knowledge::KnowledgeQuery;
use minhu::storage::{KnowledgeFilter, OrderFilter, PageRequest};
use minhu_domain::lifecycle::check_invariants;
use minhu_domain::{OrderState, Role, UnitKind};

const REQUIRED_USERS: &[&str] = &[
    "admin",
    "agent1",
    "agent2",
    "dispatcher1",
    "supervisor1",
    "visitor1",
    "inspector1",
    "editor1",
    "leader1",
    "district1",
    "street1",
    "unit_water1",
    "unit_water_leader1",
    "unit_gas1",
    "unit_power1",
    "unit_heat1",
    "unit_cg1",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_city_is_complete_on_every_backend() {
    for db in db::all_backends().await {
        let backend = db.backend.name();
        let app = db.app();
        let started = std::time::Instant::now();
        let summary = seed_demo(&app, "password")
            .await
            .unwrap_or_else(|e| panic!("{backend}: seeding failed: {e:#?}"));
        eprintln!(
            "{backend}: demo seeded in {:.1} s: {} orders, {:?}",
            started.elapsed().as_secs_f64(),
            summary.orders,
            summary.orders_by_state
        );

        // The organisation.
        let units = app.store.list_units().await.unwrap();
        let count = |kind: UnitKind| units.iter().filter(|u| u.kind == kind).count();
        assert!(count(UnitKind::DistrictCentre) >= 6, "{backend}: districts");
        assert!(count(UnitKind::Street) >= 18, "{backend}: streets");
        assert!(count(UnitKind::Community) >= 40, "{backend}: communities");
        assert!(
            count(UnitKind::Bureau) + count(UnitKind::Enterprise) >= 20,
            "{backend}: bureaus and companies"
        );
        for district in units.iter().filter(|u| u.kind == UnitKind::DistrictCentre) {
            assert!(district.is_dispatch_point, "{backend}: {}", district.name);
            let streets = units
                .iter()
                .filter(|u| u.parent_id == Some(district.id))
                .count();
            assert!((3..=5).contains(&streets), "{backend}: {}", district.name);
        }
        for name in ["云澜市水务集团", "云澜市燃气集团", "云澜市城市管理局"] {
            assert!(units.iter().any(|u| u.name == name), "{backend}: {name}");
        }

        // The categories, with policies and a catalogue.
        let categories = app.store.list_categories().await.unwrap();
        let leaves = categories
            .iter()
            .filter(|c| !categories.iter().any(|o| o.parent_id == Some(c.id)))
            .count();
        assert!(leaves >= 60, "{backend}: {leaves} leaves");
        assert!(categories.iter().any(|c| c.level == 4), "{backend}: depth");
        let policies = app.store.list_policies().await.unwrap();
        assert!(
            policies.iter().filter(|p| p.category_id.is_some()).count() >= 10,
            "{backend}: category policies"
        );
        assert!(app.store.list_catalogue().await.unwrap().len() >= 20);

        // The accounts, each signing in with the demo password.
        for username in REQUIRED_USERS {
            let user = app
                .store
                .find_user_by_username(username)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{backend}: no user {username}"));
            assert!(!user.display_name.is_empty());
        }
        let district1 = app
            .store
            .find_user_by_username("district1")
            .await
            .unwrap()
            .unwrap();
        assert!(district1.roles.contains(&Role::SubCentre));
        let login = app
            .login("unit_gas1", "password", "127.0.0.1")
            .await
            .unwrap();
        assert!(login.actor.has_role(Role::UnitHandler));

        // Orders in every state, each with a consistent history.
        let by_state: BTreeMap<String, i64> = app
            .store
            .count_orders_by_state()
            .await
            .unwrap()
            .into_iter()
            .collect();
        for state in OrderState::ALL {
            assert!(
                by_state.get(state.as_str()).copied().unwrap_or(0) > 0,
                "{backend}: no order is {state}: {by_state:?}"
            );
        }
        let total: i64 = by_state.values().sum();
        assert!((250..=350).contains(&total), "{backend}: {total} orders");
        assert_eq!(usize::try_from(total).unwrap(), summary.orders);

        let page = app
            .store
            .list_orders(
                &OrderFilter::default(),
                &minhu::storage::Scope::All,
                &PageRequest {
                    limit: 1000,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let mut pending_extensions = 0;
        let mut co_handled = 0;
        let mut redispatched = 0;
        let mut phones = BTreeMap::new();
        for item in &page.orders {
            let aggregate = app.store.find_order(item.order.id).await.unwrap().unwrap();
            check_invariants(&aggregate)
                .unwrap_or_else(|e| panic!("{backend}: {}: {e}", aggregate.order.number));
            let history = app.store.order_history(item.order.id).await.unwrap();
            assert_eq!(
                history.first().map(|h| h.event.action.as_str()),
                Some("register")
            );
            assert_eq!(
                history.last().map(|h| h.event.to_state),
                Some(aggregate.order.state),
                "{backend}: {}",
                aggregate.order.number
            );
            pending_extensions += aggregate
                .assignments
                .iter()
                .filter(|a| a.extension_request.is_some())
                .count();
            co_handled += usize::from(aggregate.assignments.iter().any(|a| !a.is_lead()));
            redispatched += usize::from(
                aggregate
                    .assignments
                    .iter()
                    .any(|a| a.parent_assignment_id.is_some()),
            );
            *phones
                .entry(aggregate.order.citizen.phone.clone())
                .or_insert(0) += 1;
        }
        assert!(pending_extensions > 0, "{backend}: no pending extension");
        assert!(co_handled > 0, "{backend}: no co-handling");
        assert!(redispatched > 0, "{backend}: no sub-centre re-dispatch");
        assert!(
            phones.values().any(|n| *n > 1),
            "{backend}: no repeat caller"
        );
        let orders: Vec<_> = page.orders.iter().map(|i| &i.order).collect();
        assert!(orders.iter().any(|o| o.urge_count > 0));
        assert!(orders.iter().any(|o| o.supervision_count > 0));
        assert!(orders.iter().any(|o| o.redo_count > 0));
        assert!(orders.iter().any(|o| o.leader_instruction.is_some()));
        assert!(orders.iter().any(|o| o.evaluation_excluded));
        assert!(
            orders
                .iter()
                .any(|o| o.appeal.is_some() && !o.evaluation_excluded)
        );
        assert!(orders.iter().any(|o| o.citizen.confidential));

        // The knowledge base: every entry live and searchable; orders closed directly cite one.
        let now = chrono::Utc::now();
        let live = app
            .store
            .list_knowledge(
                &KnowledgeFilter::live(now),
                &PageRequest {
                    limit: 0,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            usize::try_from(live.total).unwrap(),
            summary.knowledge_entries,
            "{backend}"
        );
        assert!(summary.knowledge_entries >= 200, "{backend}");
        let first = app
            .store
            .list_knowledge(
                &KnowledgeFilter::live(now),
                &PageRequest {
                    limit: 20,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let temporary = first
            .items
            .iter()
            .take_while(|i| i.entry.content.temporary)
            .count();
        assert!(temporary >= 10, "{backend}: live temporary entries first");
        let editor = app
            .store
            .find_user_by_username("editor1")
            .await
            .unwrap()
            .unwrap();
        let editor = app.actor_for(&editor).await.unwrap();
        for word in ["停水", "井盖", "社保卡", "公积金提取"] {
            let found = app
                .search_knowledge(
                    &editor,
                    &KnowledgeQuery {
                        q: Some(word.to_owned()),
                        ..KnowledgeQuery::default()
                    },
                )
                .await
                .unwrap();
            assert!(
                found.page.total > 0 && !found.any_word,
                "{backend}: nothing about {word}"
            );
        }
        let cited: Vec<i64> = orders.iter().filter_map(|o| o.knowledge_entry_id).collect();
        assert!(
            !cited.is_empty(),
            "{backend}: no order closed with an entry"
        );
        let entry = app.store.find_knowledge(cited[0]).await.unwrap().unwrap();
        assert!(entry.entry.used_count > 0, "{backend}");

        // Seeding again is refused and changes nothing.
        let again = seed_demo(&app, "password").await.unwrap_err();
        assert_eq!(again.code(), "invalid_field", "{backend}: {again}");
        let after: i64 = app
            .store
            .count_orders_by_state()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(after, total, "{backend}");
        assert_eq!(app.store.list_units().await.unwrap().len(), units.len());
    }
}

#[tokio::test]
async fn the_demo_is_deterministic() {
    let first = db::sqlite().await;
    let second = db::sqlite().await;
    let mut titles = Vec::new();
    for db in [&first, &second] {
        let app = App::new(db.store.clone(), Config::default());
        seed_demo(&app, "password").await.unwrap();
        let page = app
            .store
            .list_orders(
                &OrderFilter::default(),
                &minhu::storage::Scope::All,
                &PageRequest {
                    limit: 1000,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let mut list: Vec<(String, String, String)> = page
            .orders
            .iter()
            .map(|i| {
                (
                    i.order.number.get(8..).unwrap_or_default().to_owned(),
                    i.order.title.clone(),
                    i.order.state.as_str().to_owned(),
                )
            })
            .collect();
        list.sort();
        titles.push(list);
    }
    assert_eq!(titles[0], titles[1]);
}
