//! Lifecycle transitions under load: many concurrent `save_transition` calls, two racing on
//! each order and some failing half-way. Each keeps its own all-or-nothing result: of two actions
//! at the same version exactly one is stored, one that fails after it began writing leaves
//! nothing, and on SQLite the stored ones share commits (group commit) instead of one each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use minhu::storage::{Store, StoreError};
use minhu_domain::{AssignmentRole, Transition};

use crate::support::builders::{
    at, day, dispatch_transition, lamp_order, new_assignment, register, seed_org,
};
use crate::support::db;

/// Orders dispatched at once; each gets two racing dispatches.
const ORDERS: usize = 40;

/// Every `BROKEN_EVERY`th order's first dispatch names a unit that does not exist: its order is
/// updated first, then the assignment's insert fails.
const BROKEN_EVERY: usize = 9;

/// Dispatches [`ORDERS`] orders concurrently, twice each, and checks what each call answered and
/// what the store kept.
async fn race_and_check(store: Arc<dyn Store>, backend: &str) {
    let org = Arc::new(seed_org(store.as_ref()).await);
    let mut registered = Vec::with_capacity(ORDERS);
    for _ in 0..ORDERS {
        registered.push(register(store.as_ref(), &lamp_order(&org), &org, day("2026-11-28")).await);
    }

    let mut tasks = Vec::with_capacity(2 * ORDERS);
    for (i, order) in registered.iter().enumerate() {
        for attempt in 0..2 {
            let mut transition: Transition = dispatch_transition(order, &org);
            let broken = i % BROKEN_EVERY == 4 && attempt == 0;
            if broken {
                transition.assignments.push(new_assignment(
                    9_999_999,
                    AssignmentRole::Co,
                    at("2026-11-28T02:30:00Z"),
                    org.admin.id,
                ));
            }
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let result = store.save_transition(1, &transition).await;
                (i, broken, result)
            }));
        }
    }

    let mut stored = vec![0; ORDERS];
    for task in tasks {
        let (i, broken, result) = task.await.unwrap();
        match result {
            Ok(aggregate) => {
                assert!(
                    !broken,
                    "{backend}: order {i}: the broken dispatch was stored"
                );
                assert_eq!(aggregate.order.version, 2, "{backend}: order {i}");
                assert_eq!(aggregate.assignments.len(), 2, "{backend}: order {i}");
                stored[i] += 1;
            }
            // The other dispatch of the order won first (for the broken one as well: its
            // version check comes before its writes).
            Err(StoreError::Conflict) => {}
            Err(StoreError::InvalidReference { field }) => {
                assert!(
                    broken,
                    "{backend}: order {i}: only the broken one fails on a unit"
                );
                assert_eq!(field, "unit_id");
            }
            Err(other) => panic!("{backend}: order {i}: {other}"),
        }
    }
    assert!(
        stored.iter().all(|n| *n == 1),
        "{backend}: exactly one dispatch of each order was stored: {stored:?}"
    );
    for order in &registered {
        let aggregate = store.find_order(order.id).await.unwrap().unwrap();
        assert_eq!(aggregate.order.version, 2, "{backend}: {}", order.number);
        assert_eq!(
            aggregate.assignments.len(),
            2,
            "{backend}: {} has the two assignments of one dispatch, none of the other",
            order.number
        );
        assert!(aggregate.assignments.iter().all(|a| a.unit_id != 9_999_999));
        let history = store.order_history(order.id).await.unwrap();
        let dispatches = history
            .iter()
            .filter(|line| line.event.action == "dispatch")
            .count();
        assert_eq!(
            dispatches, 1,
            "{backend}: {}: one dispatch line",
            order.number
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_and_failing_transitions_keep_their_own_results() {
    for db in db::all_backends().await {
        race_and_check(Arc::clone(&db.store), db.backend.name()).await;
    }
}

/// On SQLite the stored transitions share commits, and a failure half-way sent its batch through
/// the savepoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transitions_share_commits_on_sqlite() {
    let (_dir, _, store) = db::sqlite_store().await;
    let before = store.group_commit_stats();
    race_and_check(Arc::clone(&store) as Arc<dyn Store>, "sqlite").await;
    let stats = store.group_commit_stats();
    let transitions = stats.transitions - before.transitions;
    assert_eq!(transitions, u64::try_from(ORDERS).unwrap(), "{stats:?}");
    let commits = stats.commits - before.commits - u64::try_from(ORDERS).unwrap();
    assert!(commits < transitions, "{stats:?}");
}
