//! The indexes a bulk load defers (`storage/shared/bulk_indexes.rs`), on every backend: the
//! order tables keep only their unique indexes while a load runs, orders can still be written,
//! and a load that stopped half-way gets its indexes back at the next start of the store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::Connection as _;

use crate::support::builders::{day, lamp_order, register_event, seed_org};
use crate::support::db::{self, Backend};

/// `(name, definition)` of every index of the order tables, by name.
pub async fn order_table_indexes(backend: Backend, url: &str) -> Vec<(String, String)> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('orders', 'assignments', 'order_history', 'order_search') \
             ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() \
             AND tablename IN ('orders', 'assignments', 'order_history', 'order_search') \
             ORDER BY indexname"
        }
    };
    match backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(sql)
                .fetch_all(&mut connection)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(sql)
                .fetch_all(&mut connection)
                .await
                .unwrap()
        }
    }
}

fn is_unique(definition: &str) -> bool {
    definition.starts_with("CREATE UNIQUE")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_stopped_half_way_gets_its_indexes_back_at_the_next_start() {
    for db in db::all_backends().await {
        let backend = db.backend.name();
        let store = db.store.clone();
        let org = seed_org(store.as_ref()).await;
        let before = order_table_indexes(db.backend, &db.url).await;
        let secondary = before.iter().filter(|(_, d)| !is_unique(d)).count();
        assert!(secondary >= 10, "{backend}: {before:?}");
        assert!(
            before.iter().any(|(n, _)| n == "orders_number"),
            "{backend}"
        );

        let deferred = store.defer_order_indexes().await.unwrap();
        assert_eq!(deferred, u64::try_from(secondary).unwrap(), "{backend}");
        let during = order_table_indexes(db.backend, &db.url).await;
        assert!(
            during.iter().all(|(_, d)| is_unique(d)),
            "{backend}: {during:?}"
        );
        assert!(
            during.iter().any(|(n, _)| n == "orders_number"),
            "{backend}"
        );

        // Orders are still written while the indexes are away.
        let draft = lamp_order(&org);
        let saved = store
            .create_order(&draft, &[register_event(&draft, &org)], day("2026-11-28"))
            .await
            .unwrap();
        drop(store);

        // The load stops here. The next start of the store builds what it left out.
        let reopened = minhu::storage::connect(&db.url).await.unwrap();
        reopened.migrate().await.unwrap();
        let after = order_table_indexes(db.backend, &db.url).await;
        assert_eq!(after, before, "{backend}");
        assert_eq!(
            reopened.restore_deferred_indexes().await.unwrap(),
            0,
            "{backend}"
        );
        let found = reopened
            .find_order_by_number(&saved.number)
            .await
            .unwrap()
            .expect("the order written during the load");
        assert_eq!(found.order.id, saved.id, "{backend}");
    }
}
