//! Registrations under load: many concurrent `create_order` calls, some of them invalid. Each
//! keeps its own all-or-nothing result, the day's numbers stay unique and without gaps, and on
//! SQLite the valid ones share commits (group commit) instead of one commit each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use minhu::storage::{HistoryEntry, RegisteredOrder, Store, StoreError};
use minhu_domain::{HistoryEvent, Order};

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
        // Every third one has a second line, so that each answer must hold its own lines.
        let mut events = vec![register_event(&draft, &org)];
        if i % 3 == 0 {
            let mut noted = register_event(&draft, &org);
            noted.text = Some(format!("补充说明 第{i}号"));
            events.push(noted);
        }
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let result = store.create_order_with_history(&draft, &events, date).await;
            (i, valid, draft, events, result)
        }));
    }

    let mut stored: Vec<(usize, Order, Vec<HistoryEntry>)> = Vec::new();
    for task in tasks {
        let (i, valid, draft, events, result) = task.await.unwrap();
        if valid {
            let RegisteredOrder { order, history } =
                result.unwrap_or_else(|err| panic!("{backend}: create {i} failed: {err}"));
            let answered: Vec<&HistoryEvent> = history.iter().map(|line| &line.event).collect();
            assert_eq!(
                answered,
                events.iter().collect::<Vec<_>>(),
                "{backend}: create {i} answers with its own history lines, in order"
            );
            assert_eq!(
                order,
                Order {
                    id: order.id,
                    number: order.number.clone(),
                    ..draft
                },
                "{backend}: create {i} stored every field"
            );
            stored.push((i, order, history));
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
    let mut numbers: Vec<String> = stored.iter().map(|(_, o, _)| o.number.clone()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=valid).map(|n| format!("20261128{n:06}")).collect();
    assert_eq!(
        numbers, expected,
        "{backend}: the day's numbers are 1..={valid}"
    );

    // Each valid one is there with its history and its search document; the invalid ones left
    // nothing (the orders and the documents count exactly the valid ones).
    for (i, order, answered) in &stored {
        let found = store.find_order(order.id).await.unwrap().unwrap();
        assert_eq!(&found.order, order, "{backend}: create {i} reads back");
        let history = store.order_history(order.id).await.unwrap();
        assert_eq!(
            &history, answered,
            "{backend}: create {i}'s history lines read back as its answer gave them (ids too)"
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
    let (_dir, _, store) = db::sqlite_store().await;
    let before = store.group_commit_stats();
    assert_eq!(before.commits, 0);

    let valid = fire_and_check(Arc::clone(&store) as Arc<dyn Store>, "sqlite").await;

    let stats = store.group_commit_stats();
    // The valid ones and the probe after them; the failed ones are not counted.
    assert_eq!(stats.creates, u64::try_from(valid + 1).unwrap());
    assert!(
        stats.rewritten_alone >= 1,
        "a batch with an invalid registration is written again one at a time"
    );
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

/// The write connection leaves checkpoints to a connection of its own: committed pages reach the
/// database file (not only the write-ahead log) without anyone committing more, long before
/// the write connection's own threshold of 60,000 log pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn committed_pages_are_checkpointed_in_the_background_on_sqlite() {
    let (dir, _, store) = db::sqlite_store().await;
    let file = dir.path().join("minhu.db");
    let wal = dir.path().join("minhu.db-wal");
    let migrated = std::fs::metadata(&file).unwrap().len();

    fire_and_check(Arc::clone(&store) as Arc<dyn Store>, "sqlite").await;
    let logged = std::fs::metadata(&wal).unwrap().len();
    assert!(logged > 0, "the registrations were written to the log");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let size = std::fs::metadata(&file).unwrap().len();
        if size > migrated {
            eprintln!("database file {migrated} → {size} bytes; log {logged} bytes");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint copied the log ({logged} bytes) into the database file ({size} bytes)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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
    let (_dir, _, store) = db::sqlite_store().await;
    let org = seed_org(store.as_ref()).await;
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
            creates: 1,
            transitions: 0,
            audit_lines: 0,
            rewritten_alone: 0,
            idle_merges: 0
        }
    );
    // No batching timer: one fsync, not a wait for company.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// Fires [`CREATES`] concurrent valid registrations at `store`, the `i`th for the day `date_of(i)`.
fn fire_valid(
    store: &Arc<dyn Store>,
    org: &crate::support::builders::Org,
    date_of: impl Fn(usize) -> chrono::NaiveDate,
) -> Vec<tokio::task::JoinHandle<Result<Order, StoreError>>> {
    (0..CREATES)
        .map(|i| {
            let mut draft = lamp_order(org);
            draft.title = format!("路灯不亮 第{i}号");
            let events = vec![register_event(&draft, org)];
            let store = Arc::clone(store);
            let date = date_of(i);
            tokio::spawn(async move { store.create_order(&draft, &events, date).await })
        })
        .collect()
}

/// Valid registrations on two local days at once: batches hold both days, each day's numbers
/// are drawn from its own counter, unique and without gaps; on SQLite no batch needed writing
/// again one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_on_two_days_number_each_day_without_gaps_on_every_backend() {
    for db in db::all_backends().await {
        let backend = db.backend.name();
        let store = Arc::clone(&db.store);
        let org = seed_org(store.as_ref()).await;
        let tasks = fire_valid(&store, &org, |i| {
            if i % 2 == 0 {
                day("2026-11-28")
            } else {
                day("2026-11-29")
            }
        });
        let mut numbers = Vec::with_capacity(CREATES);
        for task in tasks {
            numbers.push(task.await.unwrap().unwrap().number);
        }
        numbers.sort();
        let half = CREATES / 2;
        let expected: Vec<String> = (1..=half)
            .map(|n| format!("20261128{n:06}"))
            .chain((1..=half).map(|n| format!("20261129{n:06}")))
            .collect();
        assert_eq!(
            numbers, expected,
            "{backend}: each day's numbers are 1..={half}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn valid_registrations_are_written_together_on_sqlite() {
    let (_dir, _, store) = db::sqlite_store().await;
    let org = seed_org(store.as_ref()).await;
    let store_dyn: Arc<dyn Store> = Arc::clone(&store) as Arc<dyn Store>;
    let tasks = fire_valid(&store_dyn, &org, |_| day("2026-11-28"));
    for task in tasks {
        let order = task.await.unwrap().unwrap();
        let history = store.order_history(order.id).await.unwrap();
        assert_eq!(history.len(), 1, "{} has its history line", order.number);
    }
    let stats = store.group_commit_stats();
    assert_eq!(stats.creates, u64::try_from(CREATES).unwrap());
    assert_eq!(stats.rewritten_alone, 0, "no batch failed together");
    assert!(stats.commits < stats.creates, "{stats:?}");
}

/// Audit lines written while registrations come in share their commits; every line is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_lines_share_commits_with_registrations_on_sqlite() {
    let (_dir, _, store) = db::sqlite_store().await;
    let org = Arc::new(seed_org(store.as_ref()).await);
    let date = day("2026-11-28");
    let mut tasks = Vec::with_capacity(CREATES);
    for i in 0..CREATES {
        let store = Arc::clone(&store);
        let org = Arc::clone(&org);
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let draft = lamp_order(&org);
                let events = vec![register_event(&draft, &org)];
                store.create_order(&draft, &events, date).await.map(|_| ())
            } else {
                store
                    .write_audit(&minhu::storage::NewAuditEntry {
                        at: chrono::Utc::now(),
                        user_id: Some(org.admin.id),
                        action: "view_personal_data".to_owned(),
                        target: format!("audit-{i}"),
                        detail: None,
                        address: Some("127.0.0.1".to_owned()),
                    })
                    .await
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let stats = store.group_commit_stats();
    assert_eq!(stats.creates, u64::try_from(CREATES / 2).unwrap());
    assert_eq!(stats.audit_lines, u64::try_from(CREATES / 2).unwrap());
    assert!(
        stats.commits < stats.creates + stats.audit_lines,
        "{stats:?}"
    );
    let mut targets: Vec<String> = store
        .list_audit(1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.target)
        .filter(|target| target.starts_with("audit-"))
        .collect();
    targets.sort();
    let mut expected: Vec<String> = (0..CREATES)
        .filter(|i| i % 2 == 1)
        .map(|i| format!("audit-{i}"))
        .collect();
    expected.sort();
    assert_eq!(targets, expected);
}
