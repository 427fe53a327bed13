//! The order list through HTTP, on every backend: filters, paging, what a summary holds, data
//! scope in lists, and dispatch suggestions from the catalogue.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{assert_error, start};
use support::db::all_backends;

fn number(order: &Value) -> String {
    order["number"]
        .as_str()
        .expect("an order number")
        .to_owned()
}

#[tokio::test]
async fn list_filters_pages_and_suggestions() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let mut numbers = Vec::new();
        for _ in 0..3 {
            numbers.push(number(&t.register(&agent, f.new_order()).await));
        }
        let mut gas_order = f.new_order();
        gas_order["category_id"] = json!(f.cat_gas_leak.id);
        gas_order["order_type"] = json!("help");
        gas_order["urgency"] = json!("emergency");
        let gas_number = number(&t.register(&agent, gas_order).await);
        t.act_ok(
            &dispatcher,
            &numbers[0],
            "dispatch",
            json!({"lead_unit_id": f.water.id}),
        )
        .await;

        let (status, page) = t.get(&dispatcher, "/api/v1/orders").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 4);
        assert_eq!(page["page"], 1);
        assert_eq!(page["per_page"], 20);
        let first = &page["items"][0];
        for key in [
            "number",
            "state",
            "state_label",
            "order_type",
            "category_id",
            "urgency",
            "title",
            "district_id",
            "citizen",
            "created_at",
            "active_deadline",
            "warning",
            "lead_unit_id",
            "version",
        ] {
            assert!(first.get(key).is_some(), "{key} missing in {first}");
        }
        // Lists mask phones even for the centre.
        assert_eq!(first["citizen"]["phone"], "138****5678");

        let (_, page) = t
            .get(
                &dispatcher,
                "/api/v1/orders?state=registered,dispatched&per_page=2&page=2",
            )
            .await;
        assert_eq!(page["total"], 4);
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
        let (_, page) = t.get(&dispatcher, "/api/v1/orders?state=dispatched").await;
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["number"], numbers[0].as_str());
        assert_eq!(page["items"][0]["lead_unit_id"], f.water.id);
        let (_, page) = t
            .get(
                &dispatcher,
                &format!("/api/v1/orders?unit_id={}", f.water.id),
            )
            .await;
        assert_eq!(page["total"], 1);
        let (_, page) = t
            .get(&dispatcher, "/api/v1/orders?type=help&urgency=emergency")
            .await;
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["number"], gas_number.as_str());
        let (_, page) = t
            .get(
                &dispatcher,
                &format!("/api/v1/orders?category_id={}", f.cat_water.id),
            )
            .await;
        assert_eq!(page["total"], 3);
        let (_, page) = t
            .get(&dispatcher, &format!("/api/v1/orders?number={gas_number}"))
            .await;
        assert_eq!(page["total"], 1);
        let (_, page) = t
            .get(
                &dispatcher,
                "/api/v1/orders?phone=13812345678&channel=phone",
            )
            .await;
        assert_eq!(page["total"], 4);
        let (_, page) = t.get(&dispatcher, "/api/v1/orders?warning=red").await;
        assert_eq!(page["total"], 0);
        let (_, page) = t.get(&dispatcher, "/api/v1/orders?warning=green").await;
        assert_eq!(page["total"], 4);
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let (_, page) = t
            .get(
                &dispatcher,
                &format!("/api/v1/orders?created_from={today}&created_to={today}"),
            )
            .await;
        assert_eq!(page["total"], 4);
        let (_, page) = t
            .get(
                &dispatcher,
                "/api/v1/orders?created_to=2020-01-01T00:00:00Z",
            )
            .await;
        assert_eq!(page["total"], 0);
        let (_, page) = t
            .get(
                &dispatcher,
                &format!("/api/v1/orders?district_id={}", f.district.id),
            )
            .await;
        assert_eq!(page["total"], 4);

        // A unit lists only what is assigned to it.
        let (_, page) = t.get(&water, "/api/v1/orders").await;
        assert_eq!(page["total"], 1);

        // Dispatch suggestions follow the catalogue, inherited from the parent category.
        let (status, units) = t
            .get(
                &dispatcher,
                &format!(
                    "/api/v1/dispatch/suggestions?category_id={}",
                    f.cat_water_cut.id
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{units}");
        assert_eq!(units[0]["id"], f.water.id);
        let answer = t.get(&dispatcher, "/api/v1/dispatch/suggestions").await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("category_id"),
        );
    }
}
