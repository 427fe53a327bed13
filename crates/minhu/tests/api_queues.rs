//! A handling unit's work queues through the API: the same queues as the web inbox, counted and
//! paged, each row an order with the unit's assignment; queues a caller does not have are
//! not found.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, assert_error, start};
use support::db::all_backends;

/// Registers the standard order and dispatches it to the water company (lead) and the gas
/// company (co); returns its number.
async fn dispatched(t: &TestApp) -> String {
    let agent = t.login("agent1").await;
    let dispatcher = t.login("dispatcher1").await;
    let order = t.register(&agent, t.fixture.new_order()).await;
    let number = order["number"].as_str().unwrap().to_owned();
    t.act_ok(
        &dispatcher,
        &number,
        "dispatch",
        json!({"lead_unit_id": t.fixture.water.id, "co_unit_ids": [t.fixture.gas.id],
               "version": order["version"]}),
    )
    .await;
    number
}

/// The count of `queue` in the caller's list.
fn count(queues: &Value, queue: &str) -> i64 {
    queues
        .as_array()
        .and_then(|all| all.iter().find(|q| q["queue"] == queue))
        .and_then(|q| q["total"].as_i64())
        .unwrap_or_else(|| panic!("no queue {queue} in {queues}"))
}

/// The order numbers on a queue page.
fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["order"]["number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_unit_works_its_queues_through_the_api() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let water = t.login("unit_water1").await;
        let gas = t.login("unit_gas1").await;
        let number = dispatched(&t).await;

        // The lead unit: the order waits to be signed for, with the unit's own assignment.
        let (status, queues) = t.get(&water, "/api/v1/queues").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {queues}");
        assert_eq!(count(&queues, "sign"), 1, "{backend}: {queues}");
        assert_eq!(count(&queues, "handling"), 0, "{backend}");
        assert_eq!(queues[0]["label"], "待签收");
        let (status, page) = t.get(&water, "/api/v1/queues/sign").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {page}");
        assert_eq!(numbers(&page), vec![number.clone()], "{backend}");
        let item = &page["items"][0];
        assert_eq!(item["assignment"]["unit_id"], t.fixture.water.id);
        assert_eq!(item["assignment"]["role"], "lead");
        assert_eq!(item["assignment"]["state"], "dispatched");
        assert_eq!(item["assignment"]["unit_name"], "市自来水集团");
        assert_eq!(
            item["order"]["citizen"]["phone"], "138****5678",
            "{backend}: masked for a unit"
        );
        assert_eq!(
            (page["total"].clone(), page["pages"].clone()),
            (json!(1), json!(1))
        );
        assert_eq!(page["per_page"], 50);

        // The co-handling unit sees it in its own sign queue, with its own assignment.
        let (_, page) = t.get(&gas, "/api/v1/queues/sign").await;
        assert_eq!(page["items"][0]["assignment"]["role"], "co", "{backend}");

        // Signed for: it moves from 待签收 to 办理中.
        t.act_ok(&water, &number, "sign", json!({})).await;
        let (_, queues) = t.get(&water, "/api/v1/queues").await;
        assert_eq!(
            (count(&queues, "sign"), count(&queues, "handling")),
            (0, 1),
            "{backend}: {queues}"
        );
        let (_, page) = t.get(&water, "/api/v1/queues/handling?page=9").await;
        assert_eq!(
            numbers(&page),
            vec![number.clone()],
            "{backend}: past the end shows the last page"
        );
        assert_eq!(page["page"], 1);
        let (_, page) = t.get(&water, "/api/v1/queues/sign").await;
        assert!(numbers(&page).is_empty(), "{backend}");

        // Bad requests.
        let answer = t.get(&water, "/api/v1/queues/lunch").await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        let answer = t.get(&water, "/api/v1/queues/sign?page=0").await;
        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("page"),
        );
        // 待转派 is a sub-centre's: a company has no such queue.
        let answer = t.get(&water, "/api/v1/queues/redispatch").await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        // Centre staff have no unit queues.
        let agent = t.login("agent1").await;
        let (status, queues) = t.get(&agent, "/api/v1/queues").await;
        assert_eq!((status, queues), (StatusCode::OK, json!([])), "{backend}");
        let answer = t.get(&agent, "/api/v1/queues/sign").await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        // Without a token.
        let answer = t.get("", "/api/v1/queues").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
    }
}

#[tokio::test]
async fn a_long_queue_pages_newest_registered_first_with_each_order_once() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let water = t.login("unit_water1").await;
        // 53 orders: a full page of 50 and 3 on the second, registered one after another.
        let mut registered = Vec::new();
        for _ in 0..53 {
            registered.push(dispatched(&t).await);
        }
        let newest_first: Vec<String> = registered.iter().rev().cloned().collect();

        let (status, first) = t.get(&water, "/api/v1/queues/sign").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {first}");
        assert_eq!(
            (first["total"].clone(), first["pages"].clone()),
            (json!(53), json!(2))
        );
        let (_, second) = t.get(&water, "/api/v1/queues/sign?page=2").await;
        let mut shown = numbers(&first);
        assert_eq!(shown.len(), 50, "{backend}");
        shown.extend(numbers(&second));
        assert_eq!(shown, newest_first, "{backend}: both pages, newest first");

        // Signed for, the orders move to 办理中 in the same order; the co-handling gas company
        // has each of them once in its 协办 queue (its assignment's state is not part of the
        // order of the rows).
        for number in &registered[..3] {
            t.act_ok(&water, number, "sign", json!({})).await;
        }
        let (_, handling) = t.get(&water, "/api/v1/queues/handling").await;
        let oldest_three: Vec<String> = registered[..3].iter().rev().cloned().collect();
        assert_eq!(numbers(&handling), oldest_three, "{backend}");
        let (_, sign) = t.get(&water, "/api/v1/queues/sign").await;
        assert_eq!(sign["total"], 50, "{backend}");
        assert_eq!(numbers(&sign), newest_first[..50].to_vec(), "{backend}");
        let gas = t.login("unit_gas1").await;
        let (_, co) = t.get(&gas, "/api/v1/queues/co?page=2").await;
        assert_eq!(numbers(&co), newest_first[50..].to_vec(), "{backend}");

        // Signed for by the gas company here and there, its 协办 orders are in two states:
        // the pages still list them all once, newest first.
        for index in [0, 10, 11, 52] {
            t.act_ok(&gas, &registered[index], "sign", json!({})).await;
        }
        let (_, first) = t.get(&gas, "/api/v1/queues/co").await;
        let (_, second) = t.get(&gas, "/api/v1/queues/co?page=2").await;
        assert_eq!(first["total"], 53, "{backend}");
        let mut shown = numbers(&first);
        shown.extend(numbers(&second));
        assert_eq!(shown, newest_first, "{backend}: across two states");
    }
}
