//! The schema parity of the two backends, and the concurrency guarantees on every backend:
//! gap-free order numbers under concurrent registration (also from two app nodes on one
//! PostgreSQL) and optimistic locking of racing transitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

#[allow(dead_code)]
use crate::support::builders;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;
use minhu::storage::{OrderFilter, PgStore, Scope, Store, StoreError};
use minhu_domain::{AssignmentRole, OrderState, Transition, UnitKind};
use sqlx::{Connection as _, Row as _};

use builders::{at, category, day, event, new_assignment, new_order, page, unit};
use db::Backend;

// ---- schema parity ----

const TABLES: &[&str] = &[
    "announcements",
    "api_tokens",
    "assignments",
    "audit_log",
    "calendar_days",
    "categories",
    "deferred_indexes",
    "dispatch_catalogue",
    "knowledge_entries",
    "knowledge_events",
    "knowledge_search",
    "knowledge_versions",
    "login_failures",
    "order_attachments",
    "order_history",
    "order_number_sequences",
    "order_search",
    "orders",
    "policy_rules",
    "reference_generation",
    "units",
    "users",
];

/// The search index's own structures, which differ by design: SQLite's FTS5 table (and its
/// shadow tables) and PostgreSQL's generated `tsvector` columns. Both follow `order_search`.
fn is_backend_index(table: &str, column: &str) -> bool {
    table.starts_with("order_fts") || table.starts_with("knowledge_fts") || column.ends_with("_tsv")
}

async fn sqlite_columns(url: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT m.name AS table_name, p.name AS column_name \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let (table, column) = (
            row.get::<String, _>("table_name"),
            row.get::<String, _>("column_name"),
        );
        if !is_backend_index(&table, &column) {
            tables.entry(table).or_default().insert(column);
        }
    }
    tables
}

async fn postgres_columns(url: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let (table, column) = (
            row.get::<String, _>("table_name"),
            row.get::<String, _>("column_name"),
        );
        if !is_backend_index(&table, &column) {
            tables.entry(table).or_default().insert(column);
        }
    }
    tables
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let sqlite = db::sqlite().await;
    let lite = sqlite_columns(&sqlite.url).await;
    assert_eq!(
        lite.keys().map(String::as_str).collect::<Vec<_>>(),
        TABLES.to_vec()
    );
    if db::postgres_skipped() {
        return;
    }
    let postgres = db::postgres().await;
    let pg = postgres_columns(&postgres.url).await;
    for table in TABLES {
        assert_eq!(
            lite.get(*table),
            pg.get(*table),
            "columns of `{table}` differ between SQLite and PostgreSQL"
        );
    }
    assert_eq!(lite, pg);
}

// ---- concurrency ----

/// A category and a user to register orders with.
async fn seed(store: &dyn Store) -> (i64, i64, i64) {
    let centre = store
        .create_unit(&unit("C", UnitKind::CityCentre, None))
        .await
        .unwrap();
    let street = store
        .create_unit(&unit("S", UnitKind::Street, Some(centre.id)))
        .await
        .unwrap();
    let category = store.create_category(&category("01", None)).await.unwrap();
    (category.id, centre.id, street.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_get_unique_gap_free_numbers() {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    for db in db::all_backends().await {
        let (category_id, centre_id, _) = seed(db.store.as_ref()).await;
        // On PostgreSQL a second pool on the same database plays a second app node.
        let mut stores: Vec<Arc<dyn Store>> = vec![db.store.clone()];
        if db.backend == Backend::Postgres {
            stores.push(Arc::new(PgStore::connect(&db.url).await.unwrap()));
        }
        let local_date = day("2026-11-28");
        let mut tasks = Vec::new();
        for store in &stores {
            for task in 0..TASKS {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let mut numbers = Vec::new();
                    for i in 0..EACH {
                        let created = at("2026-11-28T02:00:00Z")
                            + Duration::seconds((task * EACH + i) as i64);
                        let draft = new_order(category_id, 1, created, "13800000000");
                        let register = event(
                            "register",
                            created,
                            None,
                            OrderState::Registered,
                            1,
                            centre_id,
                        );
                        let order = store
                            .create_order(&draft, &[register], local_date)
                            .await
                            .unwrap();
                        numbers.push(order.number);
                    }
                    numbers
                }));
            }
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.extend(task.await.unwrap());
        }
        let total = stores.len() * TASKS * EACH;
        numbers.sort();
        let expected: Vec<String> = (1..=total).map(|i| format!("20261128{i:06}")).collect();
        assert_eq!(
            numbers,
            expected,
            "{}: unique and without gaps",
            db.backend.name()
        );
        let page = db
            .store
            .list_orders(&OrderFilter::default(), &Scope::All, &page(1, 0))
            .await
            .unwrap();
        assert_eq!(page.total, total as i64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_transitions_one_wins_one_conflicts() {
    for db in db::all_backends().await {
        let (category_id, centre_id, street_id) = seed(db.store.as_ref()).await;
        let other: Arc<dyn Store> = match db.backend {
            Backend::Postgres => Arc::new(PgStore::connect(&db.url).await.unwrap()),
            Backend::Sqlite => db.store.clone(),
        };
        let created = at("2026-11-28T02:00:00Z");
        let order = db
            .store
            .create_order(
                &new_order(category_id, 1, created, "13800000000"),
                &[],
                day("2026-11-28"),
            )
            .await
            .unwrap();
        for round in 0..5_i64 {
            let version = 1 + round;
            let now = created + Duration::minutes(round + 1);
            let transition = |title: &str| {
                let mut changed = order.clone();
                changed.title = title.to_owned();
                changed.updated_at = now;
                let mut urge = event(
                    "urge",
                    now,
                    Some(OrderState::Registered),
                    OrderState::Registered,
                    1,
                    centre_id,
                );
                urge.text = Some(title.to_owned());
                Transition {
                    order: changed,
                    assignments: vec![new_assignment(street_id, AssignmentRole::Co, now, 1)],
                    events: vec![urge],
                }
            };
            let (a, b) = (transition("A"), transition("B"));
            let (first, second) = tokio::join!(
                db.store.save_transition(version, &a),
                other.save_transition(version, &b)
            );
            let (winner, title) = match (first, second) {
                (Ok(agg), Err(StoreError::Conflict)) => (agg, "A"),
                (Err(StoreError::Conflict), Ok(agg)) => (agg, "B"),
                (x, y) => panic!(
                    "{}: expected one winner, got {x:?} and {y:?}",
                    db.backend.name()
                ),
            };
            assert_eq!(winner.order.version, version + 1);
            assert_eq!(winner.order.title, title);
            let stored = db.store.find_order(order.id).await.unwrap().unwrap();
            assert_eq!(stored, winner);
            assert_eq!(
                stored.assignments.len() as i64,
                round + 1,
                "only the winner's assignment"
            );
            let history = db.store.order_history(order.id).await.unwrap();
            assert_eq!(
                history.len() as i64,
                round + 1,
                "only the winner's history line"
            );
            assert_eq!(
                history.last().and_then(|h| h.event.text.clone()).as_deref(),
                Some(title)
            );
        }
    }
}
