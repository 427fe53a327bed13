//! The sign-in check on SQLite is read in the calling task, on connections of its own
//! (`storage/sqlite/direct_read.rs`), not through the read pool. These tests show that it is
//! really read that way, that it gives what the read pool gives, and that a connection reused
//! from an earlier read sees every write committed since (a sign-out, a deactivated account, a
//! changed unit, new reference data), also with many requests at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use minhu::storage::{NewToken, SqliteStore, Store, UnitPatch, UserPatch};

use crate::support::builders::{at, category, seed_org};
use crate::support::db;

/// Stores a token for `user_id`, valid from `now` for an hour.
async fn token_for(store: &SqliteStore, user_id: i64, hash: &str, now: DateTime<Utc>) {
    store
        .create_token(&NewToken {
            token_hash: hash.to_owned(),
            user_id,
            created_at: now,
            expires_at: now + Duration::hours(1),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sign_in_check_is_read_directly_and_sees_every_later_write() {
    let (_dir, _url, store) = db::sqlite_store().await;
    let org = seed_org(store.as_ref()).await;
    let now = at("2026-12-06T10:00:00Z");
    token_for(&store, org.handler.id, "hash-handler", now).await;
    let before = store.direct_read_stats();

    let holder = store
        .find_token_holder("hash-handler", now)
        .await
        .unwrap()
        .expect("a valid token has a holder");
    assert_eq!(holder.user, org.handler);
    assert_eq!(holder.unit, org.street);
    let first_generation = holder.reference_generation;

    // Unknown and expired tokens have none.
    assert!(
        store
            .find_token_holder("no-such-hash", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_token_holder("hash-handler", now + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );

    // Writes made after the first read: the reused connection sees each of them.
    store
        .update_unit(
            org.street.id,
            &UnitPatch {
                name: Some("新华街道（改名）".to_owned()),
                ..UnitPatch::default()
            },
        )
        .await
        .unwrap();
    let renamed = store
        .find_token_holder("hash-handler", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.unit.name, "新华街道（改名）");
    assert!(
        renamed.reference_generation > first_generation,
        "a changed unit raises the reference generation the check reads"
    );
    store
        .create_category(&category("direct-read-new", Some(org.city.id)))
        .await
        .unwrap();
    let after_category = store
        .find_token_holder("hash-handler", now)
        .await
        .unwrap()
        .unwrap();
    assert!(after_category.reference_generation > renamed.reference_generation);

    store
        .update_user(
            org.handler.id,
            &UserPatch {
                active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let deactivated = store
        .find_token_holder("hash-handler", now)
        .await
        .unwrap()
        .unwrap();
    assert!(!deactivated.user.active, "the deactivation is seen at once");

    store.delete_token("hash-handler").await.unwrap();
    assert!(
        store
            .find_token_holder("hash-handler", now)
            .await
            .unwrap()
            .is_none(),
        "a signed-out token is gone at once"
    );

    let stats = store.direct_read_stats();
    assert_eq!(
        stats.direct - before.direct,
        7,
        "every check was read directly"
    );
    assert_eq!(
        stats.through_pool, before.through_pool,
        "none through the pool"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_checks_at_once_each_get_their_own_holder() {
    let (_dir, _url, store) = db::sqlite_store().await;
    let org = seed_org(store.as_ref()).await;
    let now = at("2026-12-06T10:00:00Z");
    token_for(&store, org.handler.id, "hash-handler", now).await;
    token_for(&store, org.admin.id, "hash-admin", now).await;

    let mut checks = Vec::new();
    for i in 0..200 {
        let store = Arc::clone(&store);
        checks.push(tokio::spawn(async move {
            let hash = if i % 2 == 0 {
                "hash-handler"
            } else {
                "hash-admin"
            };
            let holder = store.find_token_holder(hash, now).await.unwrap().unwrap();
            (i, holder.user.id)
        }));
    }
    for check in checks {
        let (i, user_id) = check.await.unwrap();
        let expected = if i % 2 == 0 {
            org.handler.id
        } else {
            org.admin.id
        };
        assert_eq!(user_id, expected, "check {i} read its own token's holder");
    }
    let stats = store.direct_read_stats();
    assert_eq!(stats.direct, 200);
    assert_eq!(stats.through_pool, 0);
}
