//! Registrations under load: many concurrent `create_order` calls, some of them invalid. Each
//! keeps its own all-or-nothing result, the day's numbers stay unique and without gaps, and on
//! SQLite the valid ones share commits (group commit) instead of one commit each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use minhu::storage::{SqliteStore, Store, StoreError};
use minhu_domain::Order;

use crate::support::builders::{day, lamp_order, register_event, seed_org};
use crate::support::db;

/// How many registrations are fired at once.
const CREATES: usize = 200;

/// Every `INVALID_EVERY`th registration names a category that does not exist.
const INVALID_EVERY: usize = 7;

/// Fires [`CREATES`] concurrent registrations for 2026-11-28 at `store` (every
/// [`INVALID_EVERY`]th invalid) and checks each result and what the store kept. Returns how many
/// were valid.
async fn fire_and_check(store: Arc<dyn Store>, backend: &str) -> usize {
    let org = seed_org(store.as_ref()).await;
    let date = day("2026-11-28");
    let mut tasks = Vec::with_capacity(CREATES);
    for i in 0..CREATES {
        let mut draft = lamp_order(&org);
        draft.title = format!("路灯不亮 第{i}号");
        let valid = i % INVALID_EVERY != 3; // 29 of the 200 are invalid
        if !valid {
            draft.category_id = 9_999_999;
        }
        let events = vec![register_event(&draft, &org)];
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let result = store.create_order(&draft, &events, date).await;
            (i, valid, draft, result)
        }));
    }

    let mut stored: Vec<(usize, Order)> = Vec::new();
    for task in tasks {
        let (i, valid, draft, result) = task.await.unwrap();
        if valid {
            let order = result.unwrap_or_else(|err| panic!("{backend}: create {i} failed: {err}"));
            assert_eq!(
                order,
                Order {
                    id: order.id,
                    number: order.number.clone(),
                    ..draft
                },
                "{backend}: create {i} stored every field"
            );
            stored.push((i, order));
        } else {
            assert!(
                matches!(&result, Err(StoreError::InvalidReference { field }) if field == "category_id"),
                "{backend}: create {i} must fail on its category: {result:?}"
            );
        }
    }
    let valid = stored.len();
    let invalid = (0..CREATES).filter(|i| i % INVALID_EVERY == 3).count();
    assert_eq!(valid, CREATES - invalid);

    // Unique and without gaps: exactly 1..=valid for the day, whatever failed in between.
    let mut numbers: Vec<String> = stored.iter().map(|(_, o)| o.number.clone()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=valid).map(|n| format!("20261128{n:06}")).collect();
    assert_eq!(
        numbers, expected,
        "{backend}: the day's numbers are 1..={valid}"
    );

    // Each valid one is there with its history and its search document; the invalid ones left
    // nothing (the orders and the documents count exactly the valid ones).
    for (i, order) in &stored {
        let found = store.find_order(order.id).await.unwrap().unwrap();
        assert_eq!(&found.order, order, "{backend}: create {i} reads back");
        let history = store.order_history(order.id).await.unwrap();
        assert_eq!(
            history.len(),
            1,
            "{backend}: create {i} has its history line"
        );
    }
    let valid_count = i64::try_from(valid).unwrap();
    assert_eq!(
        store.search_coverage().await.unwrap(),
        (valid_count, valid_count),
        "{backend}: only the valid orders and each one's search document were stored"
    );
    // The next registration of the day takes the next number: no failed one used it up.
    let next = store
        .create_order(&lamp_order(&org), &[], date)
        .await
        .unwrap();
    assert_eq!(next.number, format!("20261128{:06}", valid + 1));
    valid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_share_commits_and_keep_their_own_results_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
    store.migrate().await.unwrap();
    let before = store.group_commit_stats();
    assert_eq!(before.commits, 0);

    let valid = fire_and_check(Arc::clone(&store) as Arc<dyn Store>, "sqlite").await;

    let stats = store.group_commit_stats();
    // The valid ones and the probe after them; the failed ones are not counted.
    assert_eq!(stats.creates, u64::try_from(valid + 1).unwrap());
    assert!(
        stats.commits < stats.creates,
        "registrations shared commits: {} commits for {} registrations",
        stats.commits,
        stats.creates
    );
    eprintln!(
        "group commit: {} registrations in {} commits",
        stats.creates, stats.commits
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_keep_their_own_results_on_every_backend() {
    for db in db::all_backends().await {
        let backend = db.backend.name();
        fire_and_check(Arc::clone(&db.store), backend).await;
    }
}

#[tokio::test]
async fn a_lone_registration_commits_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let org = seed_org(&store).await;
    let draft = lamp_order(&org);
    let started = std::time::Instant::now();
    let order = store
        .create_order(&draft, &[register_event(&draft, &org)], day("2026-11-28"))
        .await
        .unwrap();
    assert_eq!(order.number, "20261128000001");
    assert_eq!(
        store.group_commit_stats(),
        minhu::storage::GroupCommitStats {
            commits: 1,
            creates: 1
        }
    );
    // No batching timer: one fsync, not a wait for company.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
