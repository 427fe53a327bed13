//! Merging a repeat (并单) through the API, on every backend: the child ends merged with its
//! caller kept, the parent counts its repeats in lists, and each names the other.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::{assert_error, start};
use support::db::all_backends;

#[tokio::test]
async fn a_repeat_is_merged_counted_and_linked_both_ways() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let parent = t.register(&agent, f.new_order()).await;
        let parent_number = parent["number"].as_str().unwrap().to_owned();
        let mut repeat = f.new_order();
        repeat["citizen"]["phone"] = json!("13900002222");
        repeat["citizen"]["name"] = json!("赵六");
        repeat["title"] = json!("多福巷断水");
        let child = t.register(&agent, repeat).await;
        let child_number = child["number"].as_str().unwrap().to_owned();

        // The parent is dispatched; the repeat is merged into it (an open order).
        t.act_ok(
            &dispatcher,
            &parent_number,
            "dispatch",
            json!({"lead_unit_id": f.water.id}),
        )
        .await;
        let merged = t
            .act_ok(
                &agent,
                &child_number,
                "merge",
                json!({"parent_number": parent_number, "note": "同一停水事件"}),
            )
            .await;
        assert_eq!(merged["state"], "merged", "{backend}: {merged}");

        let child = t.order(&agent, &child_number).await;
        assert_eq!(child["merged_into"], json!(parent_number), "{backend}");
        assert_eq!(
            child["citizen"]["phone"], "13900002222",
            "{backend}: the caller is kept"
        );
        let parent = t.order(&agent, &parent_number).await;
        assert_eq!(parent["repeat_numbers"], json!([child_number]), "{backend}");

        let (status, page) = t
            .get(&agent, &format!("/api/v1/orders?number={parent_number}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"][0]["repeat_count"], 1, "{backend}: {page}");

        // A merged order cannot be merged again, nor into itself.
        let again = t
            .act(
                &agent,
                &child_number,
                "merge",
                json!({"parent_number": parent_number}),
            )
            .await;
        assert_eq!(again.0, StatusCode::CONFLICT, "{backend}: {}", again.1);
        let third = t.register(&agent, f.new_order()).await;
        let third_number = third["number"].as_str().unwrap().to_owned();
        let itself = t
            .act(
                &agent,
                &third_number,
                "merge",
                json!({"parent_number": third_number}),
            )
            .await;
        assert_error(
            &itself,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("parent_number"),
        );
    }
}
