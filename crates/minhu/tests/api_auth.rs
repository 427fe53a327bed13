//! Sign-in through the API: login, wrong passwords, throttling, expired and unknown tokens, logout
//! and password change.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use chrono::Duration;
use minhu::service::auth::token_hash;
use minhu::storage::NewToken;
use reqwest::StatusCode;
use serde_json::json;
use support::app::{PASSWORD, assert_error, start};
use support::db::all_backends;

#[tokio::test]
async fn login_returns_a_token_and_the_user() {
    for db in all_backends().await {
        let t = start(db).await;
        let (status, body) = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "unit_water1", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["token"].as_str().expect("a token");
        assert!(token.len() >= 40);
        assert!(body["expires_at"].as_str().is_some());
        let user = &body["user"];
        assert_eq!(user["username"], "unit_water1");
        assert_eq!(user["display_name"], "自来水集团经办人");
        assert_eq!(user["roles"], json!(["unit_handler"]));
        assert_eq!(user["unit"]["id"], t.fixture.water.id);
        assert_eq!(user["unit"]["name"], "市自来水集团");
        assert_eq!(user["unit"]["kind"], "enterprise");

        let (status, me) = t.get(token, "/api/v1/auth/me").await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me, *user);

        // The login is audited with the client's address.
        let admin = t.login("admin").await;
        let (_, audit) = t.get(&admin, "/api/v1/admin/audit").await;
        let line = audit
            .as_array()
            .expect("audit lines")
            .iter()
            .find(|a| a["action"] == "login" && a["target"] == "unit_water1")
            .unwrap_or_else(|| panic!("no login line in {audit}"));
        assert_eq!(line["address"], "127.0.0.1");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_invalid_credentials() {
    for db in all_backends().await {
        let t = start(db).await;
        for (username, password) in [("agent1", "wrong-pass-1"), ("nobody", PASSWORD)] {
            let answer = t
                .post(
                    "",
                    "/api/v1/auth/login",
                    json!({"username": username, "password": password}),
                )
                .await;
            assert_error(
                &answer,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                None,
            );
            assert!(answer.1.get("token").is_none());
        }
        let answer = t
            .post("", "/api/v1/auth/login", json!({"username": "agent1"}))
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_field",
            Some("password"),
        );
    }
}

#[tokio::test]
async fn five_failures_throttle_the_account_even_with_the_right_password() {
    for db in all_backends().await {
        let t = start(db).await;
        for _ in 0..5 {
            let answer = t
                .post(
                    "",
                    "/api/v1/auth/login",
                    json!({"username": "dispatcher1", "password": "guess-guess"}),
                )
                .await;
            assert_error(
                &answer,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                None,
            );
        }
        let answer = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "dispatcher1", "password": PASSWORD}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            None,
        );
        // Other accounts are not affected.
        t.login("agent1").await;
    }
}

#[tokio::test]
async fn unknown_expired_and_missing_tokens_are_refused() {
    for db in all_backends().await {
        let t = start(db).await;
        let answer = t.get("", "/api/v1/auth/me").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let answer = t.get("not-a-real-token", "/api/v1/auth/me").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let answer = t.get("", "/api/v1/orders").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);

        let now = t.app.now();
        t.app
            .store
            .create_token(&NewToken {
                token_hash: token_hash("expired-token-for-test"),
                user_id: t.fixture.user("agent1"),
                created_at: now - Duration::hours(13),
                expires_at: now - Duration::hours(1),
            })
            .await
            .expect("store an expired token");
        let answer = t.get("expired-token-for-test", "/api/v1/auth/me").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);

        // A malformed Authorization header is no credential either.
        let response = t
            .client
            .get(format!("{}/api/v1/auth/me", t.base))
            .header("Authorization", "Basic YWRtaW46YWRtaW4=")
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
    }
}

#[tokio::test]
async fn logout_invalidates_the_token() {
    for db in all_backends().await {
        let t = start(db).await;
        let token = t.login("visitor1").await;
        let other = t.login("visitor1").await;
        let (status, _) = t.post(&token, "/api/v1/auth/logout", json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let answer = t.get(&token, "/api/v1/auth/me").await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        let answer = t.post(&token, "/api/v1/auth/logout", json!({})).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthenticated", None);
        // Another session of the same user lives on.
        let (status, _) = t.get(&other, "/api/v1/auth/me").await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn password_change_checks_the_current_one_and_takes_effect() {
    for db in all_backends().await {
        let t = start(db).await;
        let token = t.login("leader1").await;
        let answer = t
            .post(
                &token,
                "/api/v1/auth/password",
                json!({"current_password": "not-it-at-all", "new_password": "new-pass-22"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("current_password"),
        );
        let answer = t
            .post(
                &token,
                "/api/v1/auth/password",
                json!({"current_password": PASSWORD, "new_password": "1234"}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("new_password"),
        );
        let (status, body) = t
            .post(
                &token,
                "/api/v1/auth/password",
                json!({"current_password": PASSWORD, "new_password": "new-pass-22"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        let answer = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "leader1", "password": PASSWORD}),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            None,
        );
        let (status, body) = t
            .post(
                "",
                "/api/v1/auth/login",
                json!({"username": "leader1", "password": "new-pass-22"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}
