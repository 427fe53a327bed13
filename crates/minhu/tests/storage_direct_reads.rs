//! The sign-in check and the reads of one order on SQLite are made in the calling task, on
//! connections of their own (`storage/sqlite/direct_read.rs`), not through the read pool. These
//! tests show that they are really read that way, that they give what was written (every column
//! of an order, its assignments, history lines and files, as the write connection's own
//! mapping read them back), and that a connection reused from an earlier read sees every write
//! committed since (a sign-out, a deactivated account, a changed unit, new reference data, an
//! order's next step), also with many requests at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use minhu::storage::{NewAttachment, NewToken, SqliteStore, Store, UnitPatch, UserPatch};

use crate::support::builders::{
    at, category, day, dispatch_transition, lamp_order, register, reply_transition, seed_org,
    sign_transition,
};
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

#[tokio::test]
async fn an_order_and_what_belongs_to_it_are_read_directly_as_written() {
    let (_dir, _url, store) = db::sqlite_store().await;
    let org = seed_org(store.as_ref()).await;
    let registered = register(store.as_ref(), &lamp_order(&org), &org, day("2026-11-28")).await;
    let before = store.direct_read_stats();

    // Each step's answer comes from the write connection (sqlx's mapping of the rows it
    // wrote); the direct read of the order after it must give the same order and assignments.
    let dispatched = store
        .save_transition(1, &dispatch_transition(&registered, &org))
        .await
        .unwrap();
    let read = store
        .find_order_by_number(&registered.number)
        .await
        .unwrap()
        .expect("the order is there");
    assert_eq!(read, dispatched, "the dispatched order as written");
    // The sign asks for an extension: every column of an assignment holds a value.
    let signed = store
        .save_transition(2, &sign_transition(&dispatched, &org))
        .await
        .unwrap();
    assert_eq!(
        store.find_order(registered.id).await.unwrap(),
        Some(signed.clone()),
        "the reused connection sees the next step"
    );
    assert!(signed.assignments[0].extension_request.is_some());

    // A reply with a file: the reply goes into the search document (read back as the order's
    // replies), the file is listed with its history line's action.
    let reply = reply_transition(&signed, &org, "已更换灯泡，路灯恢复照明。");
    let file = NewAttachment {
        uploaded_by: org.handler.id,
        unit_id: org.street.id,
        file_name: "现场照片.png".to_owned(),
        content_type: "image/png".to_owned(),
        sha256: "0".repeat(64),
        content: Bytes::from_static(b"\x89PNG\r\n\x1a\n"),
        created_at: reply.order.updated_at,
    };
    let answered = store
        .save_transition_with_attachments(3, &reply, std::slice::from_ref(&file))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_order_by_number(&registered.number)
            .await
            .unwrap(),
        Some(answered)
    );

    let history = store.order_history(registered.id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.event.action.as_str()).collect();
    assert_eq!(actions, ["register", "dispatch", "sign", "reply"]);
    assert_eq!(history[1].event.details["lead"], org.street.id);
    assert_eq!(history[1].event.text.as_deref(), Some("请尽快处理"));
    assert!(history.iter().all(|h| h.order_id == registered.id));
    let files = store.order_attachments(registered.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name, "现场照片.png");
    assert_eq!(files[0].action, "reply");
    assert_eq!(files[0].history_id, history[3].id);
    assert_eq!(files[0].size, 8);
    assert_eq!(files[0].created_at, at("2026-11-29T02:00:00Z"));
    assert!(
        store
            .find_order_by_number("no-such-number")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.order_history(987_654).await.unwrap().is_empty());

    // All direct: four reads of an order (one of a number that is none), two of a history, one
    // file list, and the replies, which of the three steps only the reply (it changes the
    // search document's text) reads before it writes.
    let stats = store.direct_read_stats();
    assert_eq!(
        stats.through_pool, before.through_pool,
        "none through the pool"
    );
    assert_eq!(stats.direct - before.direct, 4 + 2 + 1 + 1);
}
