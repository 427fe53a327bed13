//! The order lifecycle through HTTP, on every backend: registration, dispatch, signing, replies,
//! reviews, visits, redo, appeal; returns and arbitration; extensions; a sub-centre's
//! re-dispatch and review; the intake endings; oversight.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, assert_error, history_actions, start};
use support::db::all_backends;

fn number(order: &Value) -> String {
    order["number"]
        .as_str()
        .expect("an order number")
        .to_owned()
}

fn assignment(order: &Value, unit_id: i64) -> &Value {
    order["assignments"]
        .as_array()
        .and_then(|a| a.iter().rev().find(|x| x["unit_id"] == unit_id))
        .unwrap_or_else(|| panic!("no assignment of unit {unit_id} in {order}"))
}

/// Registers the standard order and dispatches it (lead, co units) as dispatcher1.
async fn dispatched(t: &TestApp, lead: i64, co: &[i64]) -> (String, Value) {
    let agent = t.login("agent1").await;
    let dispatcher = t.login("dispatcher1").await;
    let order = t.register(&agent, t.fixture.new_order()).await;
    let n = number(&order);
    let order = t
        .act_ok(
            &dispatcher,
            &n,
            "dispatch",
            json!({"lead_unit_id": lead, "co_unit_ids": co, "version": order["version"]}),
        )
        .await;
    (n, order)
}

#[tokio::test]
async fn full_lifecycle_through_http() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let supervisor = t.login("supervisor1").await;
        let visitor = t.login("visitor1").await;
        let water = t.login("unit_water1").await;
        let gas = t.login("unit_gas1").await;

        // Register.
        let order = t.register(&agent, f.new_order()).await;
        let n = number(&order);
        assert_eq!(n.len(), 14, "number {n}");
        assert_eq!(order["state"], "registered");
        assert_eq!(order["state_label"], "待交办");
        assert_eq!(order["version"], 1);
        // The answer to a registration reveals nothing (and so audits nothing); the detail view
        // shows the centre everything.
        assert_eq!(order["citizen"]["phone"], "138****5678");
        assert_eq!(order["citizen_visibility"], "masked");
        assert!(order["dispatch_deadline_at"].is_string());
        assert!(order["active_deadline"]["deadline_at"].is_string());
        assert_eq!(order["warning"], "green");
        assert_eq!(history_actions(&order), ["register"]);
        let (status, agent_view) = t.get(&dispatcher, &format!("/api/v1/orders/{n}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(agent_view["citizen"]["phone"], "13812345678");
        assert_eq!(agent_view["citizen_visibility"], "full");
        let actions = agent_view["available_actions"].as_array().expect("actions");
        assert!(actions.contains(&json!("dispatch")), "{actions:?}");

        // Dispatch: water leads, gas helps.
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "dispatch",
                json!({"lead_unit_id": f.water.id, "co_unit_ids": [f.gas.id], "note": "请尽快处理", "version": 1}),
            )
            .await;
        assert_eq!(order["state"], "dispatched");
        assert_eq!(order["version"], 2);
        let lead = assignment(&order, f.water.id);
        assert_eq!(lead["role"], "lead");
        assert_eq!(lead["state"], "dispatched");
        assert_eq!(lead["unit_name"], "市自来水集团");
        for key in [
            "sign_deadline_at",
            "return_deadline_at",
            "handle_deadline_at",
        ] {
            assert!(lead[key].is_string(), "{key} in {lead}");
        }
        assert_eq!(lead["warning"], "green");
        assert_eq!(assignment(&order, f.gas.id)["role"], "co");

        // The units sign; the water company replies.
        let order = t.act_ok(&water, &n, "sign", json!({})).await;
        assert_eq!(order["state"], "in_progress");
        assert_eq!(order["citizen"]["phone"], "138****5678");
        let order = t.act_ok(&gas, &n, "sign", json!({})).await;
        assert_eq!(assignment(&order, f.gas.id)["state"], "in_progress");
        t.act_ok(
            &gas,
            &n,
            "reply",
            json!({"text": "已配合检查燃气管线，无异常。"}),
        )
        .await;
        let order = t
            .act_ok(
                &water,
                &n,
                "reply",
                json!({"text": "已抢修管道，今日18时恢复供水。"}),
            )
            .await;
        assert_eq!(order["state"], "replied");

        // Review fails, then passes.
        let order = t
            .act_ok(
                &supervisor,
                &n,
                "review",
                json!({"pass": false, "note": "未说明停水原因"}),
            )
            .await;
        assert_eq!(order["state"], "in_progress");
        t.act_ok(
            &water,
            &n,
            "reply",
            json!({"text": "停水系主管道爆裂，已抢修完毕并恢复供水。"}),
        )
        .await;
        let order = t
            .act_ok(&supervisor, &n, "review", json!({"pass": true}))
            .await;
        assert_eq!(order["state"], "pending_visit");
        assert!(order["visit_deadline_at"].is_string());
        assert!(
            order["reply"]
                .as_str()
                .is_some_and(|r| r.contains("主管道"))
        );

        // Visit: unsatisfied and reasonable → redo.
        let order = t
            .act_ok(
                &visitor,
                &n,
                "visit",
                json!({"solved": "unsolved", "satisfaction": "unsatisfied", "redo": true, "note": "水压仍不足"}),
            )
            .await;
        assert_eq!(order["state"], "in_progress");
        assert_eq!(order["redo_count"], 1);
        assert!(order["active_deadline"]["deadline_at"].is_string());
        t.act_ok(
            &water,
            &n,
            "reply",
            json!({"text": "已调整加压泵，水压恢复正常。"}),
        )
        .await;
        t.act_ok(&supervisor, &n, "review", json!({"pass": true}))
            .await;

        // Visit: satisfied → closed.
        let order = t
            .act_ok(
                &visitor,
                &n,
                "visit",
                json!({"solved": "solved", "satisfaction": "satisfied"}),
            )
            .await;
        assert_eq!(order["state"], "closed");
        assert_eq!(order["solved"], "solved");
        assert_eq!(order["satisfaction"], "satisfied");
        assert!(order["closed_at"].is_string());
        assert!(order["active_deadline"].is_null());

        // Appeal and its review.
        let order = t
            .act_ok(
                &water,
                &n,
                "appeal",
                json!({"reason": "停水系市政施工挖断管道，非我单位责任"}),
            )
            .await;
        assert_eq!(order["appeal"], "requested");
        let order = t
            .act_ok(
                &supervisor,
                &n,
                "review_appeal",
                json!({"uphold": true, "note": "情况属实"}),
            )
            .await;
        assert_eq!(order["appeal"], "upheld");
        assert_eq!(order["evaluation_excluded"], true);

        // The history tells the whole story, with who and what.
        let (status, history) = t
            .get(&dispatcher, &format!("/api/v1/orders/{n}/history"))
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let actions: Vec<&str> = history
            .as_array()
            .expect("history lines")
            .iter()
            .filter_map(|h| h["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "register",
                "dispatch",
                "sign",
                "sign",
                "reply",
                "reply",
                "review",
                "reply",
                "review",
                "visit",
                "reply",
                "review",
                "visit",
                "appeal",
                "review_appeal"
            ],
            "on {}",
            t.backend()
        );
        let lines = history.as_array().expect("history lines");
        let dispatch = &lines[1];
        assert_eq!(dispatch["actor_id"], f.user("dispatcher1"));
        assert_eq!(dispatch["text"], "请尽快处理");
        assert_eq!(dispatch["from_state"], "registered");
        assert_eq!(dispatch["to_state"], "dispatched");
        assert!(lines.iter().all(|h| h["at"].is_string()));
        assert_eq!(order["history"].as_array().map(Vec::len), Some(lines.len()));
    }
}

#[tokio::test]
async fn return_with_arbitration_agree_and_refuse() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let dispatcher = t.login("dispatcher1").await;
        let gas = t.login("unit_gas1").await;
        let water = t.login("unit_water1").await;
        // Dispatched to the wrong company.
        let (n, _) = dispatched(&t, f.gas.id, &[]).await;
        let order = t
            .act_ok(
                &gas,
                &n,
                "request_return",
                json!({"reason": "停水不属于燃气集团职责"}),
            )
            .await;
        assert_eq!(order["state"], "return_requested");
        assert_eq!(
            assignment(&order, f.gas.id)["return_reason"],
            "停水不属于燃气集团职责"
        );
        // Agree and re-dispatch to the water company.
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "review_return",
                json!({"unit_id": f.gas.id, "agree": true, "new_unit_id": f.water.id}),
            )
            .await;
        assert_eq!(order["state"], "dispatched");
        assert_eq!(assignment(&order, f.gas.id)["state"], "returned");
        assert_eq!(assignment(&order, f.water.id)["state"], "dispatched");
        assert_eq!(order["assignments"][1]["role"], "lead");
        // The gas company still sees the order it handled, the water company now too.
        t.order(&gas, &n).await;
        // The water company asks to return it as well; refused → back to be signed.
        t.act_ok(
            &water,
            &n,
            "request_return",
            json!({"reason": "管道属小区物业"}),
        )
        .await;
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "review_return",
                json!({"unit_id": f.water.id, "agree": false, "note": "小区外管网属你单位"}),
            )
            .await;
        assert_eq!(order["state"], "dispatched");
        assert_eq!(assignment(&order, f.water.id)["state"], "dispatched");
        let order = t.act_ok(&water, &n, "sign", json!({})).await;
        assert_eq!(order["state"], "in_progress");
        let actions = history_actions(&order);
        assert_eq!(
            actions,
            [
                "register",
                "dispatch",
                "request_return",
                "review_return",
                "request_return",
                "review_return",
                "sign"
            ]
        );
    }
}

#[tokio::test]
async fn extension_request_and_review_move_the_deadline() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let (n, _) = dispatched(&t, f.water.id, &[]).await;
        let order = t.act_ok(&water, &n, "sign", json!({})).await;
        let before = assignment(&order, f.water.id)["handle_deadline_at"]
            .as_str()
            .expect("a handling deadline")
            .to_owned();
        let order = t
            .act_ok(
                &water,
                &n,
                "request_extension",
                json!({"days": 3, "reason": "需更换主管道"}),
            )
            .await;
        let request = &assignment(&order, f.water.id)["extension_request"];
        assert_eq!(request["days"], 3);
        assert!(request["proposed_deadline_at"].is_string());
        // A second request while one is pending is refused.
        let answer = t
            .act(
                &water,
                &n,
                "request_extension",
                json!({"days": 2, "reason": "再延"}),
            )
            .await;
        assert_error(&answer, StatusCode::CONFLICT, "invalid_state", None);
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "review_extension",
                json!({"unit_id": f.water.id, "approve": true}),
            )
            .await;
        let a = assignment(&order, f.water.id);
        assert_eq!(a["extension_count"], 1);
        assert!(a["extension_request"].is_null());
        let after = a["handle_deadline_at"]
            .as_str()
            .expect("a handling deadline");
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).expect("RFC 3339");
        assert!(parse(after) > parse(&before), "{after} after {before}");
        assert_eq!(
            order["active_deadline"]["deadline_at"].as_str().map(parse),
            Some(parse(after))
        );
        // More than the longest extension (10 working days) is refused.
        let answer = t
            .act(
                &water,
                &n,
                "request_extension",
                json!({"days": 11, "reason": "太多"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("days"),
        );
        let actions = history_actions(&t.order(&dispatcher, &n).await);
        assert_eq!(
            actions,
            [
                "register",
                "dispatch",
                "sign",
                "request_extension",
                "review_extension"
            ]
        );
    }
}

#[tokio::test]
async fn sub_centre_redispatches_and_reviews_what_comes_back() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let supervisor = t.login("supervisor1").await;
        let district = t.login("district1").await;
        let street = t.login("street1").await;
        let water = t.login("unit_water1").await;
        let (n, _) = dispatched(&t, f.district.id, &[]).await;
        // The street cannot see it before the sub-centre passes it down.
        let answer = t.get(&street, &format!("/api/v1/orders/{n}")).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);

        t.act_ok(&district, &n, "sign", json!({})).await;
        let order = t
            .act_ok(
                &district,
                &n,
                "redispatch",
                json!({"to_unit_id": f.street.id, "note": "请街道核实"}),
            )
            .await;
        assert_eq!(assignment(&order, f.district.id)["state"], "delegated");
        let child = assignment(&order, f.street.id);
        assert_eq!(child["state"], "dispatched");
        assert_eq!(
            child["parent_assignment_id"],
            assignment(&order, f.district.id)["id"]
        );
        // Only down its own subtree.
        let answer = t
            .act(
                &district,
                &n,
                "redispatch",
                json!({"to_unit_id": f.water.id}),
            )
            .await;
        assert_eq!(answer.0.as_u16() / 100, 4, "{}", answer.1);

        t.act_ok(&street, &n, "sign", json!({})).await;
        t.act_ok(
            &street,
            &n,
            "reply",
            json!({"text": "已协调物业恢复供水。"}),
        )
        .await;
        // The sub-centre sends it back once, then passes it up.
        let order = t
            .act_ok(
                &district,
                &n,
                "review",
                json!({"pass": false, "note": "请附现场照片说明", "unit_id": f.street.id}),
            )
            .await;
        assert_eq!(assignment(&order, f.street.id)["state"], "in_progress");
        t.act_ok(
            &street,
            &n,
            "reply",
            json!({"text": "已恢复供水，现场照片已上传。"}),
        )
        .await;
        let order = t
            .act_ok(
                &district,
                &n,
                "review",
                json!({"pass": true, "unit_id": f.street.id}),
            )
            .await;
        assert_eq!(assignment(&order, f.street.id)["state"], "done");
        assert_eq!(order["state"], "replied");
        // The centre reviews the sub-centre's reply.
        let order = t
            .act_ok(&supervisor, &n, "review", json!({"pass": true}))
            .await;
        assert_eq!(order["state"], "pending_visit");
        // The water company never saw any of it.
        let answer = t.get(&water, &format!("/api/v1/orders/{n}")).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(
            history_actions(&order),
            [
                "register",
                "dispatch",
                "sign",
                "redispatch",
                "sign",
                "reply",
                "review",
                "reply",
                "review",
                "review"
            ]
        );
    }
}

#[tokio::test]
async fn intake_endings_close_direct_reject_transfer_merge() {
    for db in all_backends().await {
        let t = start(db).await;
        let agent = t.login("agent1").await;
        let visitor = t.login("visitor1").await;
        let body = t.fixture.new_order();

        // Registration answers 201 with the order and its Location.
        let response = t
            .client
            .post(format!("{}/api/v1/orders", t.base))
            .bearer_auth(&agent)
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response.headers()["location"]
            .to_str()
            .expect("a location")
            .to_owned();
        let parent: Value = response.json().await.expect("JSON");
        let parent_number = number(&parent);
        assert_eq!(location, format!("/api/v1/orders/{parent_number}"));

        let order = t.register(&agent, body.clone()).await;
        let n = number(&order);
        let order = t
            .act_ok(
                &agent,
                &n,
                "close_direct",
                json!({"answer": "停水通知已在官网公布，预计今晚恢复。"}),
            )
            .await;
        assert_eq!(order["state"], "closed_direct");
        assert!(order["reply"].as_str().is_some_and(|r| r.contains("官网")));
        // A direct closure may still be visited.
        let order = t
            .act_ok(
                &visitor,
                &n,
                "visit",
                json!({"solved": "solved", "satisfaction": "satisfied"}),
            )
            .await;
        assert_eq!(order["satisfaction"], "satisfied");
        assert_eq!(order["state"], "closed_direct");

        let order = t.register(&agent, body.clone()).await;
        let n = number(&order);
        let order = t
            .act_ok(
                &agent,
                &n,
                "reject",
                json!({"legal_channel": "litigation", "explanation": "属民事纠纷，请通过诉讼解决"}),
            )
            .await;
        assert_eq!(order["state"], "rejected");
        assert_eq!(order["legal_channel"], "litigation");

        let order = t.register(&agent, body.clone()).await;
        let n = number(&order);
        let order = t
            .act_ok(
                &agent,
                &n,
                "transfer",
                json!({"line": "119", "note": "有燃气味"}),
            )
            .await;
        assert_eq!(order["state"], "transferred");
        assert_eq!(order["transfer_line"], "119");

        let order = t.register(&agent, body).await;
        let n = number(&order);
        let order = t
            .act_ok(&agent, &n, "merge", json!({"parent_number": parent_number}))
            .await;
        assert_eq!(order["state"], "merged");
        assert_eq!(order["parent_order_id"], parent["id"]);
        // Terminal orders take no more intake actions.
        let answer = t
            .act(&agent, &n, "close_direct", json!({"answer": "再次办结"}))
            .await;
        assert_error(&answer, StatusCode::CONFLICT, "invalid_state", None);
        let answer = t
            .act(
                &agent,
                &n,
                "merge",
                json!({"parent_number": "20990101000001"}),
            )
            .await;
        assert_eq!(answer.0.as_u16() / 100, 4, "{}", answer.1);
    }
}

#[tokio::test]
async fn oversight_urge_supervise_escalate_instruct() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let supervisor = t.login("supervisor1").await;
        let dispatcher = t.login("dispatcher1").await;
        let leader = t.login("leader1").await;
        let water = t.login("unit_water1").await;
        let (n, _) = dispatched(&t, f.water.id, &[]).await;
        let order = t
            .act_ok(&supervisor, &n, "urge", json!({"note": "请今日内签收"}))
            .await;
        assert_eq!(order["urge_count"], 1);
        let order = t
            .act_ok(
                &supervisor,
                &n,
                "supervise",
                json!({"note": "已超期，发督办单"}),
            )
            .await;
        assert_eq!(order["supervision_count"], 1);
        // Only a leader instructs, and only what was escalated.
        let answer = t
            .act(&leader, &n, "instruct", json!({"instruction": "尽快解决"}))
            .await;
        assert_error(&answer, StatusCode::CONFLICT, "invalid_state", None);
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "escalate",
                json!({"note": "涉及多户居民，呈报领导"}),
            )
            .await;
        assert_eq!(order["escalation"], "pending");
        let answer = t
            .act(&water, &n, "instruct", json!({"instruction": "自己批示"}))
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let order = t
            .act_ok(
                &leader,
                &n,
                "instruct",
                json!({"instruction": "请水务集团今日恢复供水"}),
            )
            .await;
        assert_eq!(order["escalation"], "instructed");
        assert_eq!(order["leader_instruction"], "请水务集团今日恢复供水");
        assert_eq!(
            history_actions(&order),
            [
                "register",
                "dispatch",
                "urge",
                "supervise",
                "escalate",
                "instruct"
            ]
        );
        // The unit sees the instruction's history line.
        let unit_view = t.order(&water, &n).await;
        assert_eq!(
            history_actions(&unit_view).last().map(String::as_str),
            Some("instruct")
        );
    }
}
