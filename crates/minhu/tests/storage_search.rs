//! Chinese full-text search of orders in the store, on every backend: the hard two-character words,
//! ranking, scope, the caller's name for centre roles only, findability right after a save and
//! after a reply, rebuilding after the index was deleted, and the repeat candidates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

#[allow(dead_code)]
use crate::support::builders;

use minhu::storage::{OrderFilter, RepeatQuery, Scope, Store, TextFilter};
use minhu_domain::{Order, OrderState};
use minhu_text::{SearchQuery, segmenter};

use builders::{
    Org, at, day, dispatch_transition, lamp_order, page, register, reply_transition, seed_org,
};

fn text(query: &str, include_caller: bool) -> OrderFilter {
    OrderFilter {
        text: Some(TextFilter {
            query: SearchQuery::parse(segmenter(), query).expect("a searchable query"),
            include_caller,
        }),
        ..OrderFilter::default()
    }
}

async fn found(store: &dyn Store, filter: &OrderFilter, scope: &Scope) -> Vec<String> {
    let page = store
        .list_orders(filter, scope, &page(50, 0))
        .await
        .unwrap();
    assert_eq!(page.total as usize, page.orders.len());
    page.orders.into_iter().map(|i| i.order.title).collect()
}

fn draft(org: &Org, title: &str, content: &str, hour: u32) -> Order {
    let mut order = lamp_order(org);
    order.title = title.to_owned();
    order.content = content.to_owned();
    order.created_at = at(&format!("2026-11-28T{hour:02}:00:00Z"));
    order.updated_at = order.created_at;
    order
}

/// Registers the test's orders; returns them in order.
async fn seed(store: &dyn Store, org: &Org) -> Vec<Order> {
    let texts = [
        (
            "幸福路路灯不亮",
            "幸福路东段三盏路灯晚上不亮，行人看不清路。",
        ),
        (
            "小区井盖缺失",
            "锦绣花园北门井盖丢失，路灯旁边有个大坑，很危险。",
        ),
        (
            "夜间施工噪音扰民",
            "工地晚上十一点后还在施工，噪音很大影响休息。",
        ),
        (
            "青石街道停水",
            "青石街道幸福里3号楼停水两天了，没有任何通知。",
        ),
        ("咨询公积金提取", "想问一下租房提取公积金需要什么材料。"),
    ];
    let mut orders = Vec::new();
    for (i, (title, content)) in texts.iter().enumerate() {
        let mut d = draft(org, title, content, 1 + i as u32);
        d.citizen.name = Some(format!("王{}", ["一", "二", "三", "四", "五"][i]));
        orders.push(register(store, &d, org, day("2026-11-28")).await);
    }
    orders
}

#[tokio::test]
async fn hard_words_are_found_and_title_hits_rank_first() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        seed(store, &org).await;
        let all = Scope::All;
        assert_eq!(
            found(store, &text("井盖", false), &all).await,
            vec!["小区井盖缺失"],
            "{backend}"
        );
        assert_eq!(
            found(store, &text("噪音", false), &all).await,
            vec!["夜间施工噪音扰民"],
            "{backend}"
        );
        assert_eq!(
            found(store, &text("停水", false), &all).await,
            vec!["青石街道停水"],
            "{backend}"
        );
        // 路灯 is in the title of one order and the content of another: the title hit first.
        assert_eq!(
            found(store, &text("路灯", false), &all).await,
            vec!["幸福路路灯不亮", "小区井盖缺失"],
            "{backend}"
        );
        // Every word must occur.
        assert_eq!(
            found(store, &text("路灯 井盖", false), &all).await,
            vec!["小区井盖缺失"],
            "{backend}"
        );
        assert_eq!(
            found(store, &text("公积金 提取", false), &all).await,
            vec!["咨询公积金提取"],
            "{backend}"
        );
        assert!(found(store, &text("燃气", false), &all).await.is_empty());
        // The text combines with the other filters.
        let mut filter = text("路灯", false);
        filter.created_from = Some(at("2026-11-28T01:30:00Z"));
        assert_eq!(
            found(store, &filter, &all).await,
            vec!["小区井盖缺失"],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn numbers_by_prefix_and_caller_names_for_the_centre_only() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let orders = seed(store, &org).await;
        let all = Scope::All;
        assert_eq!(
            found(store, &text(&orders[2].number, false), &all).await,
            vec!["夜间施工噪音扰民"],
            "{backend}: the whole number"
        );
        assert_eq!(
            found(store, &text("2026112800000", false), &all)
                .await
                .len(),
            5,
            "{backend}: a number's beginning"
        );
        assert_eq!(
            found(store, &text("王三", true), &all).await,
            vec!["夜间施工噪音扰民"],
            "{backend}: the centre finds the caller by name"
        );
        assert!(
            found(store, &text("王三", false), &all).await.is_empty(),
            "{backend}: units never search names"
        );
    }
}

#[tokio::test]
async fn search_keeps_to_the_scope() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let orders = seed(store, &org).await;
        // Only the lamp order is dispatched (to the street, with the bureau as co unit).
        store
            .save_transition(1, &dispatch_transition(&orders[0], &org))
            .await
            .unwrap();
        let street = Scope::UnitSubtree {
            path_prefix: org.street.path.clone(),
        };
        assert_eq!(
            found(store, &text("路灯", false), &street).await,
            vec!["幸福路路灯不亮"],
            "{backend}: the street sees its order only"
        );
        let idle = Scope::UnitSubtree {
            path_prefix: org.idle.path.clone(),
        };
        assert!(found(store, &text("路灯", false), &idle).await.is_empty());
    }
}

#[tokio::test]
async fn found_right_after_saving_and_after_a_reply() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let orders = seed(store, &org).await;
        let all = Scope::All;
        // The registering call has returned: the order is found by its words at once.
        let o = register(
            store,
            &draft(&org, "燃气味很重", "楼道里燃气味很重，怀疑漏气。", 9),
            &org,
            day("2026-11-28"),
        )
        .await;
        assert_eq!(
            found(store, &text("燃气", false), &all).await,
            vec!["燃气味很重"],
            "{backend}"
        );
        // A reply's words are found once the reply is saved.
        let dispatched = store
            .save_transition(1, &dispatch_transition(&orders[0], &org))
            .await
            .unwrap();
        store
            .save_transition(
                2,
                &reply_transition(&dispatched, &org, "已更换灯泡和镇流器，路灯恢复照明。"),
            )
            .await
            .unwrap();
        assert_eq!(
            found(store, &text("镇流器", false), &all).await,
            vec!["幸福路路灯不亮"],
            "{backend}"
        );
        assert!(o.id > 0);
    }
}

/// Replies to older orders and registrations of new ones saved at the same time (on SQLite they
/// share commits, their documents written together in one statement, in order of id): every
/// document is found by its own words, and a replied order still by its title.
#[tokio::test]
async fn replies_and_registrations_saved_together_are_all_found() {
    const EACH: usize = 24;
    for db in db::all_backends().await {
        let store: std::sync::Arc<dyn Store> = db.store.clone();
        let backend = db.backend.name();
        let org = std::sync::Arc::new(seed_org(store.as_ref()).await);
        let mut dispatched = Vec::with_capacity(EACH);
        for i in 0..EACH {
            let d = draft(&org, &format!("旧单路灯 ol{i}d"), "路灯不亮。", 1);
            let order = register(store.as_ref(), &d, &org, day("2026-11-28")).await;
            dispatched.push(
                store
                    .save_transition(1, &dispatch_transition(&order, &org))
                    .await
                    .unwrap(),
            );
        }
        let mut tasks = Vec::with_capacity(2 * EACH);
        for (i, aggregate) in dispatched.into_iter().enumerate() {
            let (reply_store, reply_org) =
                (std::sync::Arc::clone(&store), std::sync::Arc::clone(&org));
            tasks.push(tokio::spawn(async move {
                let (store, org) = (reply_store, reply_org);
                let transition =
                    reply_transition(&aggregate, &org, &format!("已更换灯泡，回复 rp{i}y。"));
                store.save_transition(2, &transition).await.map(|_| ())
            }));
            let (new_store, new_org) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&org));
            tasks.push(tokio::spawn(async move {
                let (store, org) = (new_store, new_org);
                let d = draft(&org, &format!("新单井盖 nw{i}x"), "井盖缺失。", 3);
                store
                    .create_order(&d, &[builders::register_event(&d, &org)], day("2026-11-29"))
                    .await
                    .map(|_| ())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let all = Scope::All;
        for i in 0..EACH {
            assert_eq!(
                found(store.as_ref(), &text(&format!("rp{i}y"), false), &all).await,
                vec![format!("旧单路灯 ol{i}d")],
                "{backend}: reply {i}"
            );
            assert_eq!(
                found(store.as_ref(), &text(&format!("ol{i}d"), false), &all).await,
                vec![format!("旧单路灯 ol{i}d")],
                "{backend}: replied order {i} by its title"
            );
            assert_eq!(
                found(store.as_ref(), &text(&format!("nw{i}x"), false), &all).await,
                vec![format!("新单井盖 nw{i}x")],
                "{backend}: registration {i}"
            );
        }
        assert_eq!(
            found(store.as_ref(), &text("灯泡", false), &all)
                .await
                .len(),
            EACH,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn the_index_is_rebuilt_after_it_was_deleted() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        seed(store, &org).await;
        let all = Scope::All;
        assert_eq!(store.search_coverage().await.unwrap(), (5, 5));
        assert_eq!(store.clear_order_search().await.unwrap(), 5);
        assert!(found(store, &text("井盖", false), &all).await.is_empty());
        assert_eq!(store.search_coverage().await.unwrap(), (5, 0));
        // Batches of two, only the missing ones, as `minhu reindex` and start-up do.
        let mut after = 0;
        let mut total = 0;
        loop {
            let progress = store.reindex_orders(after, 2, true).await.unwrap();
            let Some(last) = progress.last_id else { break };
            assert!(progress.indexed <= 2);
            total += progress.indexed;
            after = last;
        }
        assert_eq!(total, 5, "{backend}");
        assert_eq!(store.search_coverage().await.unwrap(), (5, 5));
        assert_eq!(
            found(store, &text("井盖", false), &all).await,
            vec!["小区井盖缺失"],
            "{backend}"
        );
        // A full rebuild replaces every document and still finds the same.
        let progress = store.reindex_orders(0, 100, false).await.unwrap();
        assert_eq!(progress.indexed, 5);
        assert_eq!(
            found(store, &text("路灯", false), &all).await,
            vec!["幸福路路灯不亮", "小区井盖缺失"],
            "{backend}"
        );
    }
}

#[tokio::test]
async fn repeat_candidates_are_open_orders_of_the_street_in_the_window() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        let orders = seed(store, &org).await;
        let mut elsewhere = draft(&org, "别处路灯不亮", "路灯不亮", 8);
        elsewhere.location.street_id = None;
        register(store, &elsewhere, &org, day("2026-11-28")).await;
        let query = RepeatQuery {
            street_id: Some(org.street.id),
            district_id: Some(org.district.id),
            since: at("2026-11-28T02:00:00Z"),
            states: vec![OrderState::Registered],
            exclude_order_id: Some(orders[4].id),
            limit: 10,
        };
        let candidates = store.repeat_candidates(&query).await.unwrap();
        let titles: Vec<&str> = candidates
            .iter()
            .map(|c| c.item.order.title.as_str())
            .collect();
        assert_eq!(
            titles,
            vec!["青石街道停水", "夜间施工噪音扰民", "小区井盖缺失"],
            "{backend}: newest first, in the window, without the order itself or other streets"
        );
        assert!(
            candidates[2]
                .similarity_words
                .split(' ')
                .any(|w| w == "井盖"),
            "{backend}: {}",
            candidates[2].similarity_words
        );
    }
}

/// A word matching more orders than the ranking window (2,000): the first pages rank only the
/// newest 2,000 matches, so an older order that would rank first over all of them (its title
/// holds the word) is not on page one; a page beyond the window ranks them all, and the total
/// counts them all.
#[tokio::test]
async fn the_first_pages_rank_the_newest_two_thousand_matches() {
    for db in db::all_backends().await {
        let store: &dyn Store = db.store.as_ref();
        let backend = db.backend.name();
        let org = seed_org(store).await;
        for i in 0..30 {
            let d = draft(&org, "路灯损坏", &format!("第{i}处路灯灯杆倒了"), 1);
            register(store, &d, &org, day("2026-11-28")).await;
        }
        for i in 0..2_000 {
            let d = draft(&org, &format!("道路问题{i}"), "这里晚上路灯不亮", 2);
            register(store, &d, &org, day("2026-11-28")).await;
        }
        let filter = text("路灯", false);
        let first = store
            .list_orders(&filter, &Scope::All, &page(20, 0))
            .await
            .unwrap();
        assert_eq!(first.total, 2_030, "{backend}");
        assert!(!first.total_capped, "{backend}");
        assert!(
            first
                .orders
                .iter()
                .all(|o| o.order.title.starts_with("道路问题")),
            "{backend}: page one ranks the newest 2,000 only: {:?}",
            first
                .orders
                .iter()
                .map(|o| &o.order.title)
                .collect::<Vec<_>>()
        );
        // The same through the join to the orders (a filter the index cannot apply).
        let registered = OrderFilter {
            states: vec![OrderState::Registered],
            ..filter.clone()
        };
        let joined = store
            .list_orders(&registered, &Scope::All, &page(20, 0))
            .await
            .unwrap();
        assert_eq!(joined.total, 2_030, "{backend}");
        assert_eq!(
            joined.orders.iter().map(|o| o.order.id).collect::<Vec<_>>(),
            first.orders.iter().map(|o| o.order.id).collect::<Vec<_>>(),
            "{backend}"
        );
        let all = store
            .list_orders(&filter, &Scope::All, &page(2_030, 0))
            .await
            .unwrap();
        assert_eq!(all.orders.len(), 2_030, "{backend}");
        assert!(
            all.orders[..30].iter().all(|o| o.order.title == "路灯损坏"),
            "{backend}: over all matches the title hits rank first"
        );
    }
}

/// SQLite's order index merges its segments sixteen a level (migration 0008), and through
/// forty one-order commits (a segment each, merged as they gather) it stays exactly what the
/// search rows hold and finds every order.
#[tokio::test]
async fn sqlite_merges_the_order_index_sixteen_segments_a_level() {
    use sqlx::Connection as _;
    const ORDERS: usize = 40;
    let (_dir, url, store) = db::sqlite_store().await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let automerge: i64 = sqlx::query_scalar("SELECT v FROM order_fts_config WHERE k = 'automerge'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(automerge, 16);

    let store: &dyn Store = store.as_ref();
    let org = seed_org(store).await;
    for i in 0..ORDERS {
        let d = draft(&org, &format!("路灯不亮 sg{i}m"), "幸福路路灯晚上不亮。", 9);
        register(store, &d, &org, day("2026-11-28")).await;
    }
    // FTS5 compares its index with the search rows it was built from and fails on a difference.
    sqlx::query("INSERT INTO order_fts (order_fts, rank) VALUES ('integrity-check', 1)")
        .execute(&mut conn)
        .await
        .unwrap();
    let all = Scope::All;
    assert_eq!(found(store, &text("路灯", false), &all).await.len(), ORDERS);
    for i in [0, ORDERS / 2, ORDERS - 1] {
        assert_eq!(
            found(store, &text(&format!("sg{i}m"), false), &all).await,
            vec![format!("路灯不亮 sg{i}m")]
        );
    }
}
