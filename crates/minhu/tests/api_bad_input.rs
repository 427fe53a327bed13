//! Bad input of every kind answers the error envelope with the right status, code and field, and
//! changes nothing: missing fields, wrong types, oversize text, unknown enum values, unknown
//! fields, bad JSON, wrong content type, wrong state, stale version, unknown action, wrong role,
//! no token, bad query and path parameters, unknown routes and methods.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{Answer, TestApp, assert_error, start};
use support::db::all_backends;

/// A bad action: who, which action, the body, and the status, code and field expected.
type ActionCase = (
    &'static str,
    &'static str,
    Value,
    StatusCode,
    &'static str,
    Option<&'static str>,
);

/// What must not change: version, state, history length, assignments.
async fn fingerprint(t: &TestApp, number: &str) -> (Value, Value, usize, Value) {
    let token = t.login("dispatcher1").await;
    let order = t.order(&token, number).await;
    (
        order["version"].clone(),
        order["state"].clone(),
        order["history"].as_array().map_or(0, Vec::len),
        order["assignments"].clone(),
    )
}

async fn order_count(t: &TestApp) -> i64 {
    let token = t.login("dispatcher1").await;
    let (_, page) = t.get(&token, "/api/v1/orders").await;
    page["total"].as_i64().expect("a total")
}

fn without(mut body: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().expect("a path");
    let mut at = &mut body;
    for key in parents {
        at = &mut at[*key];
    }
    at.as_object_mut().expect("an object").remove(*last);
    body
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut body;
    for key in path {
        at = &mut at[*key];
    }
    *at = value;
    body
}

#[tokio::test]
async fn bad_registrations_answer_the_envelope_and_create_nothing() {
    for db in all_backends().await {
        let t = start(db).await;
        let agent = t.login("agent1").await;
        let good = t.fixture.new_order();
        let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
            (
                without(good.clone(), &["title"]),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                "title",
            ),
            (
                without(good.clone(), &["citizen", "phone"]),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                "citizen.phone",
            ),
            (
                without(good.clone(), &["channel"]),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                "channel",
            ),
            (
                with(good.clone(), &["category_id"], json!("three")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "category_id",
            ),
            (
                with(good.clone(), &["citizen", "confidential"], json!("yes")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "citizen.confidential",
            ),
            (
                with(good.clone(), &["tags"], json!("民生")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "tags",
            ),
            (
                with(good.clone(), &["location", "district_id"], json!(1.5)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "location.district_id",
            ),
            (
                with(good.clone(), &["order_type"], json!("grumble")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                "order_type",
            ),
            (
                with(good.clone(), &["urgency"], json!("very")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                "urgency",
            ),
            (
                with(good.clone(), &["citizen", "gender"], json!("x")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                "citizen.gender",
            ),
            (
                with(
                    good.clone(),
                    &["citizen", "tags"],
                    json!(["elderly", "alien"]),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                "citizen.tags[1]",
            ),
            (
                with(good.clone(), &["priority"], json!(1)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                "priority",
            ),
            (
                with(good.clone(), &["citizen", "email"], json!("a@b.c")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                "citizen.email",
            ),
            (
                with(good.clone(), &["content"], json!("水".repeat(10_001))),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "content",
            ),
            (
                with(good.clone(), &["title"], json!("   ")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "title",
            ),
            (
                with(good.clone(), &["citizen", "phone"], json!("call me")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "citizen.phone",
            ),
            (
                with(good.clone(), &["category_id"], json!(999_999)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "category_id",
            ),
            (
                json!([1, 2, 3]),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "",
            ),
        ];
        for (body, status, code, field) in cases {
            let answer = t.post(&agent, "/api/v1/orders", body).await;
            let field = (!field.is_empty()).then_some(field);
            assert_error(&answer, status, code, field);
        }

        // Syntax, content type, size.
        let answer = t
            .post_raw(
                &agent,
                "/api/v1/orders",
                Some("application/json"),
                "{\"channel\": \"phone\",",
            )
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
        let answer = t
            .post_raw(
                &agent,
                "/api/v1/orders",
                Some("text/plain"),
                good.to_string(),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        );
        let answer = t
            .post_raw(&agent, "/api/v1/orders", None, good.to_string())
            .await;
        assert_error(
            &answer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        );
        let huge = with(
            good.clone(),
            &["content"],
            json!("x".repeat(2 * 1024 * 1024)),
        );
        let answer = t.post(&agent, "/api/v1/orders", huge).await;
        assert_error(
            &answer,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        );

        // Wrong role, no token.
        let water = t.login("unit_water1").await;
        let answer = t.post(&water, "/api/v1/orders", good.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let answer = t.post("", "/api/v1/orders", good.clone()).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);

        assert_eq!(
            order_count(&t).await,
            0,
            "nothing was registered on {}",
            t.backend()
        );
        // And the good body works.
        t.register(&agent, good).await;
        assert_eq!(order_count(&t).await, 1);
    }
}

#[tokio::test]
async fn bad_actions_answer_the_envelope_and_change_nothing() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let order = t.register(&agent, f.new_order()).await;
        let n = order["number"].as_str().expect("a number").to_owned();
        let fresh = fingerprint(&t, &n).await;

        let lead = f.water.id;
        let cases: Vec<ActionCase> = vec![
            // Shape of the body.
            (
                "dispatcher1",
                "dispatch",
                json!({}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_field",
                Some("lead_unit_id"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": "water"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                Some("lead_unit_id"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": lead, "co_unit_ids": [lead, "x"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                Some("co_unit_ids[1]"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": lead, "urgent": true}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                Some("urgent"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": lead, "version": "1"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                Some("version"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": 999_999}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_unit",
                Some("lead_unit_id"),
            ),
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": f.centre.id}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_unit",
                Some("lead_unit_id"),
            ),
            (
                "agent1",
                "transfer",
                json!({"line": "999"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                Some("line"),
            ),
            (
                "agent1",
                "reject",
                json!({"legal_channel": "court", "explanation": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                Some("legal_channel"),
            ),
            (
                "agent1",
                "close_direct",
                json!({"answer": "答".repeat(10_001)}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                Some("answer"),
            ),
            (
                "agent1",
                "close_direct",
                json!({"answer": ""}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                Some("answer"),
            ),
            (
                "agent1",
                "close_direct",
                json!("answer"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                None,
            ),
            (
                "agent1",
                "merge",
                json!({"parent_number": n.clone()}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                None,
            ),
            // Stale version.
            (
                "dispatcher1",
                "dispatch",
                json!({"lead_unit_id": lead, "version": 0}),
                StatusCode::CONFLICT,
                "version_conflict",
                None,
            ),
            // Wrong role.
            (
                "agent1",
                "dispatch",
                json!({"lead_unit_id": lead}),
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
            ),
            (
                "visitor1",
                "close_direct",
                json!({"answer": "已答复"}),
                StatusCode::FORBIDDEN,
                "forbidden",
                None,
            ),
            // Wrong state.
            (
                "visitor1",
                "visit",
                json!({"solved": "solved", "satisfaction": "satisfied"}),
                StatusCode::CONFLICT,
                "invalid_state",
                None,
            ),
            (
                "supervisor1",
                "review_appeal",
                json!({"uphold": true}),
                StatusCode::CONFLICT,
                "invalid_state",
                None,
            ),
            (
                "leader1",
                "instruct",
                json!({"instruction": "办"}),
                StatusCode::CONFLICT,
                "invalid_state",
                None,
            ),
            // Out of scope: a unit cannot even see a registered order.
            (
                "unit_water1",
                "sign",
                json!({}),
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            ),
        ];
        for (user, action, body, status, code, field) in cases {
            let token = t.login(user).await;
            let answer = t.act(&token, &n, action, body).await;
            assert_error(&answer, status, code, field);
            assert_eq!(
                fingerprint(&t, &n).await,
                fresh,
                "{action} by {user} changed the order"
            );
        }

        // Unknown action, no token, bad JSON, unknown order.
        let answer = t.act(&dispatcher, &n, "frobnicate", json!({})).await;
        assert_error(
            &answer,
            StatusCode::NOT_FOUND,
            "unknown_action",
            Some("action"),
        );
        let answer = t
            .act("", &n, "dispatch", json!({"lead_unit_id": lead}))
            .await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let answer = t
            .post_raw(
                &dispatcher,
                &format!("/api/v1/orders/{n}/dispatch"),
                Some("application/json"),
                "{lead_unit_id: 1}",
            )
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_json", None);
        let answer = t
            .post_raw(
                &dispatcher,
                &format!("/api/v1/orders/{n}/dispatch"),
                Some("text/plain"),
                "lead=1",
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        );
        let answer = t
            .act(
                &dispatcher,
                "20990101000001",
                "dispatch",
                json!({"lead_unit_id": lead}),
            )
            .await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(fingerprint(&t, &n).await, fresh);

        // Dispatch for real, then the stale and the repeated actions.
        let order = t
            .act_ok(
                &dispatcher,
                &n,
                "dispatch",
                json!({"lead_unit_id": lead, "version": 1}),
            )
            .await;
        assert_eq!(order["version"], 2);
        let dispatched = fingerprint(&t, &n).await;
        let stale = t
            .act(
                &dispatcher,
                &n,
                "urge",
                json!({"note": "催一下", "version": 1}),
            )
            .await;
        assert_error(&stale, StatusCode::CONFLICT, "version_conflict", None);
        let again = t
            .act(&dispatcher, &n, "dispatch", json!({"lead_unit_id": lead}))
            .await;
        assert_error(&again, StatusCode::CONFLICT, "invalid_state", None);
        // An empty body is `{}` for actions whose fields are all optional.
        let signed = t
            .post_raw(&water, &format!("/api/v1/orders/{n}/sign"), None, "")
            .await;
        assert_eq!(signed.0, StatusCode::OK, "{}", signed.1);
        let signed_print = fingerprint(&t, &n).await;
        assert_ne!(signed_print, dispatched);
        let twice = t.act(&water, &n, "sign", json!({})).await;
        assert_error(&twice, StatusCode::CONFLICT, "invalid_state", None);
        let reply = t
            .act(&water, &n, "reply", json!({"text": "x".repeat(10_001)}))
            .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("text"),
        );
        assert_eq!(fingerprint(&t, &n).await, signed_print);
    }
}

#[tokio::test]
async fn bad_queries_paths_routes_and_methods_answer_the_envelope() {
    for db in all_backends().await {
        let t = start(db).await;
        let dispatcher = t.login("dispatcher1").await;
        let admin = t.login("admin").await;
        for (query, field) in [
            ("page=x", "page"),
            ("page=0", "page"),
            ("per_page=101", "per_page"),
            ("per_page=-5", "per_page"),
            ("state=registered,finished", "state"),
            ("warning=purple", "warning"),
            ("type=grumble", "type"),
            ("unit_id=abc", "unit_id"),
            ("created_from=yesterday", "created_from"),
            ("created_to=2026-02-30", "created_to"),
            ("sort=desc", "sort"),
        ] {
            let answer: Answer = t.get(&dispatcher, &format!("/api/v1/orders?{query}")).await;
            assert_error(
                &answer,
                StatusCode::BAD_REQUEST,
                "invalid_query",
                Some(field),
            );
        }
        let answer = t
            .patch(&admin, "/api/v1/admin/units/abc", json!({"name": "新名"}))
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_path", Some("id"));
        let answer = t.get(&dispatcher, "/api/v1/no/such/thing").await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found", None);
        // Outside `/api/` an unknown path is the web workbench's 404 page.
        let (status, page) = t.get("", "/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            page.as_str()
                .is_some_and(|html| html.contains("页面不存在")),
            "{page}"
        );
        let answer = t.delete(&dispatcher, "/api/v1/orders").await;
        assert_error(
            &answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        );
        let answer = t.get(&admin, "/api/v1/admin/audit?limit=0").await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("limit"),
        );
    }
}
