//! Sign-in in a real headless Chromium: the right password leads to the desk with the user's
//! name, a wrong one stays on the sign-in page with a clear Chinese message.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use browser::Browser;
use support::app::{PASSWORD, start};
use support::db::all_backends;

#[tokio::test]
async fn sign_in_leads_to_the_desk() {
    for db in all_backends().await {
        let t = start(db).await;
        let b = Browser::open(&t, "login-ok").await;

        b.goto("/login").await;
        b.wait("input[name=username]").await;
        b.shot("01-form").await;
        b.fill("input[name=username]", "agent1").await;
        b.fill("input[name=password]", PASSWORD).await;
        b.shot("02-filled").await;
        b.enter_and_load("input[name=password]").await;

        let path = b.path().await;
        assert!(!path.starts_with("/login"), "still on {path} after sign-in");
        b.wait_text("body", "话务员一").await;
        b.shot("03-desk").await;

        // A signed-in user who opens /login again is not asked twice, and the desk needs the
        // session: another browser (no cookie) is sent to sign in.
        b.close().await;
        let anonymous = Browser::open(&t, "login-anonymous").await;
        anonymous.goto("/").await;
        anonymous.wait_path("/login").await;
        anonymous.wait("input[name=username]").await;
        anonymous.shot("01-redirected").await;
        anonymous.close().await;
    }
}

#[tokio::test]
async fn a_wrong_password_says_so() {
    for db in all_backends().await {
        let t = start(db).await;
        let b = Browser::open(&t, "login-wrong").await;

        b.goto("/login").await;
        b.fill("input[name=username]", "agent1").await;
        b.fill("input[name=password]", "not-the-password").await;
        b.enter_and_load("input[name=password]").await;

        b.wait_text("body", "用户名或密码错误").await;
        b.wait_path("/login").await;
        // What was typed as the username is kept; the password is not echoed back.
        let username = b
            .wait("input[name=username]")
            .await
            .prop("value")
            .await
            .expect("read the username field");
        assert_eq!(username.as_deref(), Some("agent1"));
        let password = b
            .wait("input[name=password]")
            .await
            .prop("value")
            .await
            .expect("read the password field");
        assert_eq!(password.as_deref(), Some(""));
        assert!(
            !b.source().await.contains("not-the-password"),
            "the wrong password is echoed in the page"
        );
        b.shot("01-error").await;
        b.close().await;
    }
}
