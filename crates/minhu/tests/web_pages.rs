//! The web workbench over HTTP (no browser): sign-in and sign-out, CSRF refusals, escaping, data
//! scope, the desk's counters, the list, and lifecycle actions through the detail page's forms,
//! on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::json;
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;
use web_support::{Browser, tile};

async fn register(t: &TestApp, body: serde_json::Value) -> String {
    let agent = t.login("agent1").await;
    let order = t.register(&agent, body).await;
    order["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_sign_out_and_wrong_password() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::new(&t);
        let page = b.get("/orders?state=registered").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(
            page.location(),
            "/login?next=%2Forders%3Fstate%3Dregistered"
        );

        // htmx requests get 401 with HX-Redirect instead of a redirect.
        let request = b
            .client
            .get(format!("{}/orders", b.base))
            .header("hx-request", "true");
        let page = b.send(request).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            page.headers.get("hx-redirect"),
            Some(&HeaderValue::from_static("/login?next=%2Forders"))
        );

        let page = b.sign_in("agent1", "wrong-password").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("用户名或密码错误"), "{}", page.body);
        assert!(
            page.body.contains("value=\"agent1\""),
            "the username is kept"
        );

        // The sign-in form itself is protected: without its token it is refused.
        let page = b
            .post("/login", &[("username", "agent1"), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(!b.cookies.contains_key("minhu_session"));

        let page = b.sign_in("agent1", PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/");
        let cookie = page
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("minhu_session="))
            .unwrap();
        for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "not configured: {cookie}");

        let desk = b.get("/").await;
        assert_eq!(desk.status, StatusCode::OK);
        assert!(desk.body.contains("话务员一"), "the user's name");
        assert!(desk.body.contains("来电登记"), "an agent's menu");
        assert!(!desk.body.contains("待审核</a>"), "not a supervisor's menu");
        let csrf = desk.hidden("_csrf");

        // Sign-out needs the CSRF token too.
        let page = b.post("/logout", &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("安全校验失败"));
        let page = b.post("/logout", &[("_csrf", &csrf)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/login?done=logout");
        let page = b.get("/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "signed out");

        // Throttling says so in Chinese.
        for _ in 0..6 {
            b.sign_in("visitor1", "wrong-password").await;
        }
        let page = b.sign_in("visitor1", PASSWORD).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.body.contains("登录失败次数过多"), "{}", page.body);
    }
}

#[tokio::test]
async fn desk_counts_and_list() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let first = register(&t, f.new_order()).await;
        let second = register(&t, f.new_order()).await;
        let mut d = Browser::signed_in(&t, "dispatcher1").await;
        let desk = d.get("/").await;
        assert_eq!(tile(&desk.body, "待交办"), 2);
        assert_eq!(tile(&desk.body, "待签收"), 0);
        // A dispatcher's 待交办 tile opens the 派单 queue, not the plain list.
        assert!(
            desk.body
                .contains("<a class=\"tile tile-plain\" href=\"/dispatch\">"),
            "the tile links to the dispatch queue"
        );
        assert!(
            !desk.body.contains("待回访</span>"),
            "not a dispatcher's tile"
        );

        let dispatcher = t.login("dispatcher1").await;
        t.act_ok(
            &dispatcher,
            &first,
            "dispatch",
            json!({"lead_unit_id": f.water.id}),
        )
        .await;
        let desk = d.get("/").await;
        assert_eq!(tile(&desk.body, "待交办"), 1);
        assert_eq!(tile(&desk.body, "待签收"), 1);

        let mut w = Browser::signed_in(&t, "unit_water1").await;
        let desk = w.get("/").await;
        assert_eq!(tile(&desk.body, "待签收"), 1);
        assert!(!desk.body.contains("待交办</span>"), "not a unit's tile");

        let list = d.get("/orders?state=registered").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains(&second) && !list.body.contains(&first));
        let list = d.get("/orders?phone=13812345678&type=complaint").await;
        assert!(list.body.contains(&first) && list.body.contains(&second));
        let list = w.get("/orders").await;
        assert!(
            list.body.contains(&first) && !list.body.contains(&second),
            "unit scope"
        );
        let list = d.get("/orders?state=nonsense").await;
        assert!(
            list.body.contains("已忽略"),
            "a bad filter is named, not fatal"
        );
    }
}

#[tokio::test]
async fn detail_escapes_text_and_respects_scope() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let mut body = f.new_order();
        body["content"] = json!("楼下<script>alert(\"x\")</script>漏水");
        body["category_id"] = json!(f.cat_gas_leak.id);
        let n = register(&t, body).await;
        let dispatcher = t.login("dispatcher1").await;
        t.act_ok(
            &dispatcher,
            &n,
            "dispatch",
            json!({"lead_unit_id": f.gas.id}),
        )
        .await;

        let mut a = Browser::signed_in(&t, "agent1").await;
        let page = a.get(&format!("/orders/{n}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<script>alert"), "escaped");
        assert!(page.body.contains("&#60;script&#62;alert"), "{}", page.body);
        assert!(
            page.body.contains("13812345678"),
            "the centre sees the phone"
        );

        let mut gas = Browser::signed_in(&t, "unit_gas1").await;
        let page = gas.get(&format!("/orders/{n}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("138****5678") && !page.body.contains("13812345678"));
        assert!(page.body.contains("签收"), "the unit may sign");

        let mut water = Browser::signed_in(&t, "unit_water1").await;
        let page = water.get(&format!("/orders/{n}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.body.contains("不存在"), "{}", page.body);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = water.get("/orders/20990101999999").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let csrf = water.csrf().await;
        let page = water
            .post(
                &format!("/orders/{n}/act/sign"),
                &[("_csrf", &csrf), ("version", "2")],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "the server refuses anyway"
        );
    }
}

#[tokio::test]
async fn actions_through_forms_with_csrf_and_conflicts() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let n = register(&t, f.new_order()).await;
        let mut d = Browser::signed_in(&t, "dispatcher1").await;
        let page = d.get(&format!("/orders/{n}")).await;
        assert!(page.body.contains("id=\"act-dispatch\""));
        assert!(
            !page.body.contains("id=\"act-sign\""),
            "only available actions"
        );
        let csrf = page.hidden("_csrf");
        let version = page.hidden("version");
        let lead = f.water.id.to_string();
        let path = format!("/orders/{n}/act/dispatch");

        // Without the CSRF token nothing happens.
        let page = d
            .post(&path, &[("version", &version), ("lead_unit_id", &lead)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let wrong = d
            .post(
                &path,
                &[
                    ("_csrf", "0000"),
                    ("version", &version),
                    ("lead_unit_id", &lead),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let agent = t.login("agent1").await;
        assert_eq!(t.order(&agent, &n).await["state"], "registered");

        // A missing required field re-renders with the message next to the field.
        let page = d
            .post(
                &path,
                &[("_csrf", &csrf), ("version", &version), ("note", "先看看")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("field-error"), "{}", page.body);
        assert!(page.body.contains("先看看"), "typed text kept");

        let page = d
            .post(
                &path,
                &[
                    ("_csrf", &csrf),
                    ("version", &version),
                    ("lead_unit_id", &lead),
                    ("co_unit_ids", &f.gas.id.to_string()),
                    ("note", "请水务牵头"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), format!("/orders/{n}?done=dispatch"));
        let order = t.order(&agent, &n).await;
        assert_eq!(order["state"], "dispatched");
        let page = d.get(page.location()).await;
        assert!(page.body.contains("操作成功：派单"));

        // A stale version: the Chinese conflict message, the form open, the text kept.
        let page = d
            .post(
                &format!("/orders/{n}/act/urge"),
                &[
                    ("_csrf", &csrf),
                    ("version", &version),
                    ("note", "请今天内联系市民XYZ"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::CONFLICT);
        assert!(
            page.body.contains("工单已被他人处理或已更新"),
            "{}",
            page.body
        );
        assert!(page.body.contains("请今天内联系市民XYZ"));
        // htmx posts get 200 so that the panel is swapped with the message.
        let request = d
            .client
            .post(format!("{}/orders/{n}/act/urge", d.base))
            .header("hx-request", "true")
            .header("x-csrf-token", &csrf)
            .form(&[("version", version.as_str()), ("note", "再催")]);
        let page = d.send(request).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("工单已被他人处理或已更新"));

        // The unit signs through its form.
        let mut w = Browser::signed_in(&t, "unit_water1").await;
        let page = w.get(&format!("/orders/{n}")).await;
        let (csrf, version) = (page.hidden("_csrf"), page.hidden("version"));
        let page = w
            .post(
                &format!("/orders/{n}/act/sign"),
                &[("_csrf", &csrf), ("version", &version)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(t.order(&agent, &n).await["state"], "in_progress");
    }
}

#[tokio::test]
async fn static_assets_and_unknown_pages() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::new(&t);
        let css = b.get("/static/app.css").await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(
            css.headers["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        let js = b.get("/static/vendor/htmx.min.js").await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(js.body.contains("htmx"));
        let page = b.get("/nope").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.body.contains("页面不存在"));
        let api = b.get("/api/v1/nope").await;
        assert!(
            api.body.contains("\"not_found\""),
            "the API keeps its envelope"
        );
    }
}
