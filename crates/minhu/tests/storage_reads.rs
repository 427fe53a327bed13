//! Reads under load: many more concurrent reads than the store has read connections, some of
//! them given up half-way (a client that went away), and every read after them still gets its
//! own, right answer. On SQLite the reads run on a fixed set of connections that are handed back
//! without a test (`storage/sqlite/read_pool.rs`): this is what shows a cancelled read leaves
//! nothing behind for the next one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use minhu::storage::Store;

use crate::support::builders::{day, lamp_order, register_event, seed_org};
use crate::support::db::all_backends;

/// Orders stored before the reads.
const ORDERS: usize = 12;

/// Concurrent readers, each reading every order in turn.
const READERS: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_given_up_half_way_leave_the_next_reads_right() {
    for db in all_backends().await {
        let backend = db.backend.name();
        let store: Arc<dyn Store> = Arc::clone(&db.store);
        let org = seed_org(store.as_ref()).await;
        let mut stored = Vec::new();
        for i in 0..ORDERS {
            let mut draft = lamp_order(&org);
            draft.title = format!("路灯不亮 第{i}号");
            let events = vec![register_event(&draft, &org)];
            let order = store
                .create_order(&draft, &events, day("2026-11-28"))
                .await
                .unwrap();
            stored.push(order);
        }
        let stored = Arc::new(stored);

        let mut readers = Vec::new();
        for reader in 0..READERS {
            let store = Arc::clone(&store);
            let stored = Arc::clone(&stored);
            readers.push(tokio::spawn(async move {
                let mut answered = 0;
                for round in 0..ORDERS {
                    let order = &stored[(reader + round) % ORDERS];
                    if (reader + round) % 3 == 0 {
                        // Given up at once: the read is dropped wherever it is.
                        let _ = tokio::time::timeout(
                            Duration::ZERO,
                            store.find_order_by_number(&order.number),
                        )
                        .await;
                        continue;
                    }
                    let found = store
                        .find_order_by_number(&order.number)
                        .await
                        .unwrap()
                        .unwrap_or_else(|| panic!("order {} not found", order.number));
                    assert_eq!(&found.order, order, "reader {reader} read {}", order.number);
                    let history = store.order_history(order.id).await.unwrap();
                    assert_eq!(history.len(), 1, "reader {reader}: {}", order.number);
                    assert!(history.iter().all(|line| line.order_id == order.id));
                    answered += 1;
                }
                answered
            }));
        }
        let mut answered = 0;
        for reader in readers {
            answered += reader.await.unwrap();
        }
        assert!(
            answered > READERS * ORDERS / 2,
            "{backend}: {answered} reads answered"
        );

        // Afterwards every connection still answers: more reads at once than there are
        // connections, each its own order.
        let mut last = Vec::new();
        for order in stored.iter() {
            let store = Arc::clone(&store);
            let number = order.number.clone();
            last.push(tokio::spawn(async move {
                store.find_order_by_number(&number).await.unwrap().unwrap()
            }));
        }
        for (order, task) in stored.iter().zip(last) {
            assert_eq!(&task.await.unwrap().order, order, "{backend}");
        }
    }
}
