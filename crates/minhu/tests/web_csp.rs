//! The workbench under a strict Content-Security-Policy, on both backends: every page (as the
//! admin, each centre role and a unit user, signed out, and the error pages) answers the CSP,
//! nosniff and Referrer-Policy headers, and no page or htmx fragment carries an inline style or
//! script, an `on…=` handler or `hx-on` — which the policy would block in the browser. The API
//! stays without them. Also: every destructive admin form asks first (`data-confirm`).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;
use web_support::{Browser, Page};

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The tags of `body` (`<…>`, comments and the doctype skipped), lower-cased.
fn tags(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        let after = &rest[start..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = &after[..end];
        if !tag.starts_with("<!") {
            out.push(tag.to_lowercase());
        }
        rest = &after[end.min(after.len())..];
    }
    out
}

/// Whether `tag` has an attribute `on…=` (an inline event handler).
fn has_handler(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    tag.match_indices("on").any(|(at, _)| {
        let preceded = at > 0 && bytes[at - 1].is_ascii_whitespace();
        let name_len = bytes[at + 2..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || **b == b'-')
            .count();
        let after = tag[at + 2 + name_len..].trim_start();
        preceded && name_len > 0 && after.starts_with('=')
    })
}

/// What a strict CSP would block in `page`, described; empty when nothing.
fn inline_code(page: &Page) -> Vec<String> {
    let mut found = Vec::new();
    for tag in tags(&page.body) {
        if tag.starts_with("<style") {
            found.push(format!("a <style> block: {tag}"));
        }
        if tag.starts_with("<script") && !tag.contains(" src=") {
            found.push(format!("an inline script: {tag}"));
        }
        if tag.contains(" style=") {
            found.push(format!("a style attribute: {tag}"));
        }
        if has_handler(&tag) {
            found.push(format!("an event handler attribute: {tag}"));
        }
        if tag.contains("hx-on") {
            found.push(format!("hx-on (inline script): {tag}"));
        }
        if tag.contains("javascript:") {
            found.push(format!("a javascript: URL: {tag}"));
        }
    }
    found
}

/// Fetches `path` and checks the headers and the body.
async fn check(b: &mut Browser, who: &str, path: &str, expected: StatusCode) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, expected, "{who} {path}: {}", page.body);
    assert_csp(&page, &format!("{who} {path}"));
    page
}

fn assert_csp(page: &Page, what: &str) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_owned()
    };
    assert_eq!(header("content-security-policy"), CSP, "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    let found = inline_code(page);
    assert!(found.is_empty(), "{what}: {found:#?}");
}

/// Registers an order as agent1; returns its number and version.
async fn register(t: &TestApp) -> (String, i64) {
    let agent = t.login("agent1").await;
    let order = t.register(&agent, t.fixture.new_order()).await;
    (
        order["number"].as_str().unwrap().to_owned(),
        order["version"].as_i64().unwrap(),
    )
}

/// Orders in the states whose detail pages carry the most forms: registered, in progress at the
/// water company, replied, and pending the visit.
async fn orders(t: &TestApp) -> Vec<String> {
    let f = &t.fixture;
    let dispatcher = t.login("dispatcher1").await;
    let water = t.login("unit_water1").await;
    let supervisor = t.login("supervisor1").await;
    let (registered, _) = register(t).await;
    let mut numbers = vec![registered];
    for steps in 1..=3 {
        let (number, version) = register(t).await;
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": f.water.id, "version": version}),
        )
        .await;
        t.act_ok(&water, &number, "sign", json!({})).await;
        if steps >= 2 {
            t.act_ok(&water, &number, "reply", json!({"text": "已抢修完毕。"}))
                .await;
        }
        if steps >= 3 {
            t.act_ok(&supervisor, &number, "review", json!({"pass": true}))
                .await;
        }
        numbers.push(number);
    }
    numbers
}

#[tokio::test]
async fn every_page_answers_the_strict_policy_and_carries_no_inline_code() {
    for db in all_backends().await {
        let t = start(db).await;
        let numbers = orders(&t).await;
        let ok = StatusCode::OK;

        // Signed out: the sign-in page, a page that sends there, the 404 page, the assets.
        let mut anonymous = Browser::new(&t);
        check(&mut anonymous, "anonymous", "/login", ok).await;
        check(&mut anonymous, "anonymous", "/", StatusCode::SEE_OTHER).await;
        check(
            &mut anonymous,
            "anonymous",
            "/no/such/page",
            StatusCode::NOT_FOUND,
        )
        .await;
        for asset in ["/static/app.css", "/static/app.js"] {
            let page = anonymous.get(asset).await;
            assert_eq!(page.status, ok, "{asset}");
            assert!(page.headers.contains_key("content-security-policy"));
        }
        let js = anonymous.get("/static/app.js").await;
        assert!(
            js.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/javascript")
        );
        assert!(js.body.contains("data-confirm"));

        // The admin: every admin page, the desk, the list, the details.
        let mut admin = Browser::signed_in(&t, "admin").await;
        let agent_id = t.fixture.user("agent1");
        let mut paths: Vec<String> = [
            "/",
            "/orders",
            "/password",
            "/admin/units",
            "/admin/users",
            "/admin/calendar",
            "/admin/calendar?year=2031",
            "/admin/categories",
            "/admin/catalogue",
            "/admin/announcements",
        ]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
        paths.push(format!("/admin/users/{agent_id}"));
        paths.push(format!(
            "/admin/categories?selected={}",
            t.fixture.cat_water_cut.id
        ));
        paths.extend(numbers.iter().map(|n| format!("/orders/{n}")));
        for path in &paths {
            check(&mut admin, "admin", path, ok).await;
        }
        // A refused admin form (422) and an announcement's edit page.
        let csrf = admin.csrf().await;
        let page = admin
            .post(
                "/admin/announcements",
                &[
                    ("_csrf", csrf.as_str()),
                    ("title", "公告"),
                    ("body", "正文"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let list = check(&mut admin, "admin", "/admin/announcements", ok).await;
        let at = list.body.find("/admin/announcements/").unwrap() + "/admin/announcements/".len();
        let id: String = list.body[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        check(
            &mut admin,
            "admin",
            &format!("/admin/announcements/{id}"),
            ok,
        )
        .await;
        let page = admin
            .post(
                "/admin/announcements",
                &[("_csrf", csrf.as_str()), ("title", " "), ("body", "正文")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_csp(&page, "admin refused announcement");
        // A refused CSRF token: the 403 page.
        let page = admin
            .post("/admin/announcements", &[("title", "x"), ("body", "y")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_csp(&page, "admin without CSRF");

        // Each centre role's own pages, and the intake's htmx fragments.
        let f = &t.fixture;
        let roles: [(&str, Vec<String>); 4] = [
            (
                "agent1",
                vec![
                    "/orders/new".to_owned(),
                    "/orders/new/caller?phone=13812345678".to_owned(),
                    format!("/orders/new/areas?district_id={}", f.district.id),
                    format!("/orders/new/areas?street_id={}", f.street.id),
                    "/orders?state=registered".to_owned(),
                ],
            ),
            ("dispatcher1", vec!["/dispatch".to_owned()]),
            ("supervisor1", vec!["/review".to_owned()]),
            ("visitor1", vec!["/visits".to_owned()]),
        ];
        for (username, pages) in roles {
            let mut b = Browser::signed_in(&t, username).await;
            for path in pages.iter().chain(
                numbers
                    .iter()
                    .map(|n| format!("/orders/{n}"))
                    .collect::<Vec<_>>()
                    .iter(),
            ) {
                check(&mut b, username, path, ok).await;
            }
        }
        // A refused intake (422) keeps its headers too.
        let mut agent = Browser::signed_in(&t, "agent1").await;
        let csrf = agent.csrf().await;
        let page = agent
            .post("/orders/new", &[("_csrf", csrf.as_str()), ("phone", "1")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_csp(&page, "refused intake");

        // A unit user: desk, list, inbox tabs, the orders in its scope, a refused admin page.
        let mut unit = Browser::signed_in(&t, "unit_water1").await;
        for path in [
            "/",
            "/orders",
            "/inbox",
            "/inbox?tab=sign",
            "/inbox?tab=handling",
            "/inbox?tab=co",
            "/inbox?tab=done",
            "/inbox?tab=returned",
            "/password",
        ] {
            check(&mut unit, "unit_water1", path, ok).await;
        }
        for number in &numbers[1..] {
            check(&mut unit, "unit_water1", &format!("/orders/{number}"), ok).await;
        }
        check(
            &mut unit,
            "unit_water1",
            &format!("/orders/{}", numbers[0]),
            StatusCode::NOT_FOUND,
        )
        .await;
        check(
            &mut unit,
            "unit_water1",
            "/admin/units",
            StatusCode::FORBIDDEN,
        )
        .await;

        // A form posted after the session expired: the sign-in page carrying it, then the
        // confirmation page after signing in again.
        let mut late = Browser::signed_in(&t, "agent1").await;
        let csrf = late.csrf().await;
        let token = late.cookies.get("minhu_session").unwrap().clone();
        t.app.logout(&token).await.unwrap();
        let page = late
            .post(
                "/orders/new",
                &[("_csrf", csrf.as_str()), ("phone", "13812345678")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_csp(&page, "expired session");
        let page = late
            .post(
                "/login",
                &[
                    ("_csrf", page.hidden("_csrf").as_str()),
                    ("username", "agent1"),
                    ("password", PASSWORD),
                    ("replay_to", "/orders/new"),
                    ("replay_body", page.hidden("replay_body").as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("继续提交"));
        assert_csp(&page, "replay confirmation");

        // The API answers JSON without the workbench's policy.
        let (status, _) = t.get(&t.login("agent1").await, "/api/v1/orders").await;
        assert_eq!(status, StatusCode::OK);
        let response = reqwest::get(format!("{}/healthz", t.base)).await.unwrap();
        assert!(!response.headers().contains_key("content-security-policy"));
    }
}

#[tokio::test]
async fn destructive_admin_forms_ask_first() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        let mut b = Browser::signed_in(&t, "admin").await;
        let csrf = b.csrf().await;
        // Something to delete on every page.
        for (path, form) in [
            (
                "/admin/announcements".to_owned(),
                vec![("title", "公告甲"), ("body", "正文")],
            ),
            (
                "/admin/calendar/set".to_owned(),
                vec![
                    ("date", "2031-05-06"),
                    ("kind", "holiday"),
                    ("name", "测试假日"),
                ],
            ),
            (
                format!("/admin/categories/{}/policies", f.cat_water_cut.id),
                vec![
                    ("step", "handle"),
                    ("amount", "3"),
                    ("unit", "working_days"),
                ],
            ),
        ] {
            let mut form = form;
            form.push(("_csrf", csrf.as_str()));
            let page = b.post(&path, &form).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        }

        let confirm = |body: &str, action: &str, question: &str| {
            let at = body
                .find(&format!("action=\"{action}\""))
                .unwrap_or_else(|| panic!("no form {action}"));
            let tag = &body[at..at + body[at..].find('>').unwrap()];
            assert!(
                tag.contains(&format!("data-confirm=\"{question}")),
                "{action}: {tag}"
            );
        };
        let page = b.get("/admin/announcements").await;
        let at = page.body.find("/delete\"").unwrap();
        let start = page.body[..at].rfind("/admin/announcements/").unwrap();
        let action = format!("{}/delete", &page.body[start..at]);
        confirm(&page.body, &action, "确定要删除公告“公告甲”吗？");

        let page = b.get("/admin/units").await;
        confirm(
            &page.body,
            &format!("/admin/units/{}/active", f.water.id),
            &format!("确定要停用单位“{}”吗？", f.water.name),
        );

        let water1 = f.user("unit_water1");
        let page = b.get(&format!("/admin/users/{water1}")).await;
        confirm(
            &page.body,
            &format!("/admin/users/{water1}"),
            "确定要停用用户“自来水集团经办人”（unit_water1）吗？",
        );
        assert!(page.body.contains("data-confirm-unchecked=\"active\""));
        confirm(
            &page.body,
            &format!("/admin/users/{water1}/password"),
            "确定要重置用户“自来水集团经办人”（unit_water1）的密码吗？",
        );

        let page = b
            .get(&format!(
                "/admin/categories?selected={}",
                f.cat_water_cut.id
            ))
            .await;
        confirm(
            &page.body,
            &format!("/admin/categories/{}/active", f.cat_water_cut.id),
            "确定要停用问题分类“",
        );
        let at = page.body.find("/policies/").unwrap();
        let end = at + page.body[at..].find('"').unwrap();
        let start = page.body[..at].rfind('"').unwrap() + 1;
        confirm(&page.body, &page.body[start..end], "确定要删除时限规则“");

        let page = b.get("/admin/catalogue").await;
        let at = page.body.find("/admin/catalogue/").unwrap();
        let end = at + page.body[at..].find('"').unwrap();
        confirm(&page.body, &page.body[at..end], "确定要删除派单目录条目“");

        let page = b.get("/admin/calendar?year=2031").await;
        confirm(
            &page.body,
            "/admin/calendar/delete",
            "确定要删除2031-05-06（测试假日）吗？",
        );

        // Enabling asks nothing: a disabled unit's form has no question.
        let page = b
            .post(
                &format!("/admin/units/{}/active", f.water.id),
                &[("_csrf", csrf.as_str()), ("active", "0")],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "the server acts as before"
        );
        let page = b.get("/admin/units").await;
        let action = format!("action=\"/admin/units/{}/active\"", f.water.id);
        let at = page.body.find(&action).unwrap();
        let tag = &page.body[at..at + page.body[at..].find('>').unwrap()];
        assert!(!tag.contains("data-confirm"), "{tag}");
    }
}

#[test]
fn the_checker_finds_inline_code() {
    let page = |body: &str| Page {
        status: StatusCode::OK,
        headers: reqwest::header::HeaderMap::new(),
        body: body.to_owned(),
    };
    for bad in [
        "<style>p{}</style>",
        "<p style=\"color:red\">x</p>",
        "<script>alert(1)</script>",
        "<button onclick=\"x()\">b</button>",
        "<body onload = \"x()\">",
        "<div hx-on:click=\"x()\"></div>",
        "<a href=\"javascript:x()\">a</a>",
    ] {
        assert!(!inline_code(&page(bad)).is_empty(), "{bad}");
    }
    for good in [
        "<script src=\"/static/app.js\" defer></script>",
        "<p class=\"content\">on=1 style=x <b>onion</b></p>",
        "<input name=\"phone\" data-confirm=\"确定要删除吗？\">",
        "<!doctype html>",
    ] {
        assert!(inline_code(&page(good)).is_empty(), "{good}");
    }
}
