//! Data scope and personal data through the API: a water-company user cannot list, read or act on
//! a gas-company order; phones are masked for units and shown (and audited) to the centre;
//! confidential orders hide the citizen from units.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, assert_error, start};
use support::db::all_backends;

async fn register_and_dispatch(t: &TestApp, body: Value, lead: i64) -> String {
    let agent = t.login("agent1").await;
    let dispatcher = t.login("dispatcher1").await;
    let order = t.register(&agent, body).await;
    let n = order["number"].as_str().expect("a number").to_owned();
    t.act_ok(&dispatcher, &n, "dispatch", json!({"lead_unit_id": lead}))
        .await;
    n
}

#[tokio::test]
async fn water_user_cannot_list_read_or_act_on_a_gas_order() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let mut body = f.new_order();
        body["category_id"] = json!(f.cat_gas_leak.id);
        body["title"] = json!("楼道有燃气味");
        let n = register_and_dispatch(&t, body, f.gas.id).await;
        let water = t.login("unit_water1").await;
        let gas = t.login("unit_gas1").await;

        let (status, page) = t.get(&water, "/api/v1/orders").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 0, "{page}");
        let (_, page) = t.get(&water, &format!("/api/v1/orders?number={n}")).await;
        assert_eq!(page["total"], 0, "{page}");

        let answer = t.get(&water, &format!("/api/v1/orders/{n}")).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        let answer = t.get(&water, &format!("/api/v1/orders/{n}/history")).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        // Acting is refused the same way as a number that does not exist.
        for (action, body) in [
            ("sign", json!({})),
            ("request_return", json!({"reason": "不是我们的"})),
            ("reply", json!({"text": "已处理"})),
            ("sign", json!({"unit_id": f.gas.id})),
        ] {
            let answer = t.act(&water, &n, action, body).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        }
        let missing = t.act(&water, "20990101999999", "sign", json!({})).await;
        assert_error(&missing, StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(
            missing.1["error"]["message"],
            t.act(&water, &n, "sign", json!({})).await.1["error"]["message"]
        );

        // The gas company sees and acts on it; nothing the water user tried changed it.
        let order = t.order(&gas, &n).await;
        assert_eq!(order["version"], 2);
        assert_eq!(order["history"].as_array().map(Vec::len), Some(2));
        let (_, page) = t.get(&gas, "/api/v1/orders").await;
        assert_eq!(page["total"], 1);
        t.act_ok(&gas, &n, "sign", json!({})).await;
    }
}

#[tokio::test]
async fn phones_are_masked_for_units_and_full_and_audited_for_the_centre() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let n = register_and_dispatch(&t, f.new_order(), f.water.id).await;
        let water = t.login("unit_water1").await;
        let dispatcher = t.login("dispatcher1").await;
        let admin = t.login("admin").await;

        let (_, before) = t.get(&admin, "/api/v1/admin/audit?limit=1000").await;
        let views = |audit: &Value, user: i64| {
            audit
                .as_array()
                .expect("audit lines")
                .iter()
                .filter(|a| {
                    a["action"] == "view_personal_data"
                        && a["target"] == n.as_str()
                        && a["user_id"] == user
                })
                .count()
        };
        let unit_order = t.order(&water, &n).await;
        assert_eq!(unit_order["citizen"]["phone"], "138****5678");
        assert_eq!(unit_order["citizen"]["name"], "张*");
        assert_eq!(unit_order["citizen_visibility"], "masked");
        let centre_order = t.order(&dispatcher, &n).await;
        assert_eq!(centre_order["citizen"]["phone"], "13812345678");
        assert_eq!(centre_order["citizen"]["name"], "张三");
        assert_eq!(centre_order["citizen_visibility"], "full");

        let (_, after) = t.get(&admin, "/api/v1/admin/audit?limit=1000").await;
        assert_eq!(
            views(&after, f.user("dispatcher1")),
            views(&before, f.user("dispatcher1")) + 1,
            "one audit line for the centre's unmasked view"
        );
        assert_eq!(
            views(&after, f.user("unit_water1")),
            0,
            "masked views are not audited"
        );
        let line = after
            .as_array()
            .and_then(|a| {
                a.iter().find(|l| {
                    l["action"] == "view_personal_data" && l["user_id"] == f.user("dispatcher1")
                })
            })
            .expect("the audit line");
        assert_eq!(line["address"], "127.0.0.1");

        // Lists are masked for units too.
        let (_, page) = t.get(&water, "/api/v1/orders").await;
        assert_eq!(page["items"][0]["citizen"]["phone"], "138****5678");
    }
}

#[tokio::test]
async fn confidential_order_hides_the_citizen_from_units() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let mut body = f.new_order();
        body["citizen"]["confidential"] = json!(true);
        body["citizen"]["contact_phone"] = json!("010-66668888");
        let n = register_and_dispatch(&t, body, f.water.id).await;
        let water = t.login("unit_water1").await;
        let dispatcher = t.login("dispatcher1").await;

        let order = t.order(&water, &n).await;
        let citizen = &order["citizen"];
        assert_eq!(order["citizen_visibility"], "hidden");
        for key in [
            "name",
            "phone",
            "contact_phone",
            "gender",
            "enterprise_name",
        ] {
            assert!(citizen[key].is_null(), "{key} visible: {citizen}");
        }
        assert_eq!(citizen["confidential"], true);
        let text = order.to_string();
        assert!(
            !text.contains("1381234") && !text.contains("****"),
            "the phone leaks: {text}"
        );
        assert!(!order.to_string().contains("张"), "the name leaks: {order}");
        let (_, page) = t.get(&water, "/api/v1/orders").await;
        assert!(page["items"][0]["citizen"]["phone"].is_null(), "{page}");
        assert!(!page.to_string().contains("****"), "{page}");

        // The centre still sees the citizen.
        let order = t.order(&dispatcher, &n).await;
        assert_eq!(order["citizen"]["phone"], "13812345678");
        assert_eq!(order["citizen"]["contact_phone"], "010-66668888");
    }
}
