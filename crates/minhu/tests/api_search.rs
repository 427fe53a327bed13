//! Full-text search through the API (`GET /api/v1/orders?q=…`) and the similar-orders probe, on
//! every backend: found as soon as the registering request returned, combined with filters,
//! scoped exactly like lists, names for the centre only, and the words to highlight.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{assert_error, start};
use support::db::all_backends;

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["number"].as_str().expect("number").to_owned())
        .collect()
}

#[tokio::test]
async fn orders_are_searched_by_their_words_within_the_scope() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let gas = t.login("unit_gas1").await;

        // Registered and searched at once: no wait, no refresh.
        let water_cut = t.register(&agent, f.new_order()).await;
        let water_number = water_cut["number"].as_str().unwrap().to_owned();
        let mut lamp = f.new_order();
        lamp["title"] = json!("多福巷路灯不亮");
        lamp["content"] = json!("多福巷口两盏路灯晚上不亮，井盖也松动了。");
        lamp["citizen"]["name"] = json!("李四");
        let lamp = t.register(&agent, lamp).await;
        let lamp_number = lamp["number"].as_str().unwrap().to_owned();

        let (status, page) = t.get(&agent, "/api/v1/orders?q=停水").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {page}");
        assert_eq!(numbers(&page), vec![water_number.clone()], "{backend}");
        assert_eq!(page["query_words"], json!(["停水"]));
        let (_, page) = t.get(&agent, "/api/v1/orders?q=%E4%BA%95%E7%9B%96").await; // 井盖
        assert_eq!(numbers(&page), vec![lamp_number.clone()], "{backend}");
        let (_, page) = t
            .get(&agent, "/api/v1/orders?q=路灯 不亮&state=registered")
            .await;
        assert_eq!(numbers(&page), vec![lamp_number.clone()], "{backend}");
        let (_, page) = t.get(&agent, "/api/v1/orders?q=路灯&state=closed").await;
        assert_eq!(
            page["total"], 0,
            "{backend}: filters combine with the words"
        );
        // The centre finds callers by name; the list still masks them.
        let (_, page) = t.get(&agent, "/api/v1/orders?q=李四").await;
        assert_eq!(numbers(&page), vec![lamp_number.clone()], "{backend}");
        assert_eq!(page["items"][0]["citizen"]["phone"], "138****5678");

        // Units search only what is theirs, and never by name.
        t.act_ok(
            &dispatcher,
            &lamp_number,
            "dispatch",
            json!({"lead_unit_id": f.water.id}),
        )
        .await;
        let (_, page) = t.get(&water, "/api/v1/orders?q=路灯").await;
        assert_eq!(numbers(&page), vec![lamp_number.clone()], "{backend}");
        let (_, page) = t.get(&water, "/api/v1/orders?q=停水").await;
        assert_eq!(page["total"], 0, "{backend}: not dispatched to the unit");
        let (_, page) = t.get(&water, "/api/v1/orders?q=李四").await;
        assert_eq!(page["total"], 0, "{backend}: units never search names");
        let (_, page) = t.get(&gas, "/api/v1/orders?q=路灯").await;
        assert_eq!(page["total"], 0, "{backend}");

        // Nothing searchable is a clear error on the field.
        let answer = t.get(&agent, "/api/v1/orders?q=%E7%9A%84%EF%BC%8C").await; // 的，
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_query", Some("q"));
    }
}

#[tokio::test]
async fn a_reply_makes_the_order_findable_by_its_words() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let order = t.register(&agent, f.new_order()).await;
        let number = order["number"].as_str().unwrap().to_owned();
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": f.water.id}),
        )
        .await;
        t.act_ok(&water, &number, "sign", json!({})).await;
        let (_, page) = t.get(&agent, "/api/v1/orders?q=阀门").await;
        assert_eq!(page["total"], 0, "{backend}");
        t.act_ok(
            &water,
            &number,
            "reply",
            json!({"text": "经查为小区总阀门损坏，已更换阀门并恢复供水。"}),
        )
        .await;
        let (_, page) = t.get(&agent, "/api/v1/orders?q=阀门").await;
        assert_eq!(numbers(&page), vec![number.clone()], "{backend}");
    }
}

#[tokio::test]
async fn similar_open_orders_come_with_a_score_and_reasons() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let water = t.login("unit_water1").await;
        let first = t.register(&agent, f.new_order()).await;
        let first_number = first["number"].as_str().unwrap().to_owned();
        let mut gas = f.new_order();
        gas["category_id"] = json!(f.cat_gas_leak.id);
        gas["title"] = json!("楼道燃气味很重");
        gas["content"] = json!("多福巷12号楼楼道燃气味很重，怀疑漏气。");
        t.register(&agent, gas).await;

        // Another caller tells the same water cut in other words.
        let path = format!(
            "/api/v1/orders/similar?title=多福巷断水&content=多福巷12号楼一直没有自来水，断水好几天了\
             &category_id={}&district_id={}&street_id={}&community_id={}&phone=13900001111",
            f.cat_water_cut.id, f.district.id, f.street.id, f.community.id
        );
        let (status, answer) = t.get(&agent, &path).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
        let items = answer["items"].as_array().expect("items");
        assert_eq!(
            items[0]["order"]["number"],
            json!(first_number),
            "{backend}: {answer}"
        );
        assert_eq!(
            items[0]["likely_repeat"],
            json!(true),
            "{backend}: {answer}"
        );
        let reasons: Vec<&str> = items[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(reasons.contains(&"同一社区"), "{backend}: {reasons:?}");
        assert!(reasons.contains(&"同一类别"), "{backend}: {reasons:?}");
        assert!(
            reasons[0].contains("停水"),
            "{backend}: the shared words: {reasons:?}"
        );
        // The gas smell in the same building is not the same matter.
        assert!(
            items
                .iter()
                .all(|i| i["order"]["title"] != "楼道燃气味很重" || i["likely_repeat"] == false),
            "{backend}: {answer}"
        );
        // An order is never its own repeat; units do not register and get nothing.
        let (_, answer) = t
            .get(&agent, &format!("{path}&exclude={first_number}"))
            .await;
        assert!(
            answer["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["order"]["number"] != json!(first_number)),
            "{backend}: {answer}"
        );
        let (_, answer) = t.get(&water, &path).await;
        assert_eq!(answer["items"], json!([]), "{backend}");
    }
}
