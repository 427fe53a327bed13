//! Issue 3's walk in a real headless Chromium: one order through every role, by the pages alone,
//! checking the state badge after each step; plus unit scope by URL and escaping of a citizen's
//! `<script>`.
//!
//! What the tests rely on in the pages (stable ids and names, not layout):
//! - intake `/orders/new`: `form#intake`; the caller's phone `#phone` (`name=phone`) has the
//!   focus on arrival and Tab leads to `name`; `#caller-panel` shows the caller's earlier orders
//!   and tags; fields `order_type`, `category` (a name such as 停水), `district_id`, `street_id`
//!   and `community_id` (`#street_id`/`#community_id` refilled by htmx), `address`, `title`,
//!   `content`; Alt+S saves and leads to the order's detail page `/orders/{number}`.
//! - detail `/orders/{number}`: everything that changes after an action inside `#order-panel`;
//!   the state badge `#order-state` (or, until it has that id, the `.badge.st-*` in the panel's
//!   `h1`); each action the user may take as a `<details id="act-<code>">` holding its `<form>`,
//!   whose fields carry the API's names (`lead_unit_id`, `co_unit_ids`, `text`, `pass`, `note`,
//!   `solved`, `satisfaction`, `redo`) and whose submit is its `button[type=submit]`.
//! - an order outside the user's scope answers the workbench's 404 page.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use browser::Browser;
use fantoccini::key::Key;
use serde_json::json;
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;

/// A 1×1 PNG: the photo the lead unit attaches to its reply.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The text a citizen types that must never run.
const SCRIPT: &str = "<script>alert(1)</script>";

/// The order's state badge on the detail page.
const STATE: &str = "#order-state, #order-panel h1 .badge[class*='st-']";

/// The form of action `code` on the detail page.
fn form(code: &str) -> String {
    format!("#act-{code} form")
}

/// Signs `username` in and opens the detail page of order `number`.
async fn open_order(b: &Browser, username: &str, number: &str) {
    b.sign_in(username, PASSWORD).await;
    b.goto(&format!("/orders/{number}")).await;
    b.wait(STATE).await;
}

/// Unfolds the form of action `code` (a closed `<details>`), as a user clicks its title.
async fn unfold(b: &Browser, code: &str) {
    let details = b.wait(&format!("#act-{code}")).await;
    let open = details.attr("open").await.ok().flatten().is_some();
    if !open {
        b.click(&format!("#act-{code} > summary")).await;
        b.wait(&format!("#act-{code}[open]")).await;
    }
}

/// Submits the form of action `code` and waits for the state badge to read `state` (the panel
/// is swapped in place by htmx, or the page reloads without it).
async fn submit(b: &Browser, code: &str, state: &str) {
    b.click_and_replace(
        &format!("{} button[type=submit]", form(code)),
        "#order-panel",
    )
    .await;
    b.wait_text(STATE, state).await;
}

/// Registers an order as agent1 through the API with `title` and `content`; returns its number.
async fn register_via_api(t: &TestApp, title: &str, content: &str) -> String {
    let agent = t.login("agent1").await;
    let mut body = t.fixture.new_order();
    body["title"] = json!(title);
    body["content"] = json!(content);
    let order = t.register(&agent, body).await;
    order["number"].as_str().expect("a number").to_owned()
}

/// Step 1 of the walk: agent1 takes a call on the intake page by keyboard — the caller's phone
/// first (their earlier order and tags come up), Tab to the name, then the request's fields, and
/// saves with the documented shortcut Alt+S — and lands on the new order's detail page. Returns
/// its number.
async fn register_by_keyboard(t: &TestApp, b: &Browser) -> String {
    let f = &t.fixture;
    // The caller has called before.
    let earlier = register_via_api(t, "楼道灯不亮", "多福巷12号楼楼道灯坏了一周。").await;

    b.sign_in("agent1", PASSWORD).await;
    b.goto("/orders/new").await;
    b.wait("#intake input[name=phone]").await;
    assert_eq!(b.focused().await, "phone", "the phone field has the focus");
    b.keys("13812345678").await;
    b.wait_text("#caller-panel", &earlier).await;
    b.wait_text("#caller-panel", "老年人").await;
    b.shot("01-intake-caller").await;
    b.keys(&Key::Tab.to_string()).await;
    assert_eq!(
        b.focused().await,
        "name",
        "Tab leads from the phone to the name"
    );
    b.keys("张三").await;

    b.choose("#intake", "order_type", "complaint").await;
    b.fill("#intake [name=category]", "停水").await;
    b.choose("#intake", "district_id", &f.district.id.to_string())
        .await;
    // The street and community lists follow the district and the street (htmx).
    b.wait(&format!("#street_id option[value='{}']", f.street.id))
        .await;
    b.choose("#intake", "street_id", &f.street.id.to_string())
        .await;
    b.wait(&format!("#community_id option[value='{}']", f.community.id))
        .await;
    b.choose("#intake", "community_id", &f.community.id.to_string())
        .await;
    b.fill("#intake [name=address]", "多福巷12号楼").await;
    b.fill("#intake [name=title]", "小区停水三天无人处理").await;
    b.fill(
        "#intake [name=content]",
        "多福巷12号楼自周一起停水，至今未恢复，物业称已报修。",
    )
    .await;
    b.shot("02-intake-filled").await;

    // Alt+S: 保存.
    b.keys_and_load(&format!("{}s{}", Key::Alt, Key::Null))
        .await;
    let path = b.wait_path("/orders/2").await;
    b.wait_text(STATE, "待交办").await;
    b.shot("03-registered").await;
    let number = path.trim_start_matches("/orders/").to_owned();
    assert_ne!(number, earlier, "a new order");
    number
}

#[tokio::test]
async fn one_order_walks_through_every_role() {
    for db in all_backends().await {
        let t = start(db).await;
        let b = Browser::open(&t, "walk").await;

        let number = register_by_keyboard(&t, &b).await;
        let agent = t.login("agent1").await;
        let order = t.order(&agent, &number).await;
        assert_eq!(order["category_id"], t.fixture.cat_water_cut.id, "{order}");
        assert_eq!(order["citizen"]["name"], "张三", "{order}");
        assert_eq!(
            order["location"]["community_id"], t.fixture.community.id,
            "{order}"
        );

        walk_from_registered(&t, &b, &number).await;

        // The whole story is on the page, and the API agrees.
        for line in ["主管道爆裂", "加压泵", "水压仍不足"] {
            b.wait_text("#order-panel", line).await;
        }
        let dispatcher = t.login("dispatcher1").await;
        let order = t.order(&dispatcher, &number).await;
        assert_eq!(order["state"], "closed", "{order}");
        assert_eq!(order["redo_count"], 1, "{order}");
        b.close().await;
    }
}

/// Steps 2–8 of the walk, on the detail page of the registered order `number`.
async fn walk_from_registered(t: &TestApp, b: &Browser, number: &str) {
    let f = &t.fixture;

    // 2. The dispatcher sends it to the water company (lead) and the gas company (co).
    open_order(b, "dispatcher1", number).await;
    unfold(b, "dispatch").await;
    b.choose(&form("dispatch"), "lead_unit_id", &f.water.id.to_string())
        .await;
    b.choose(&form("dispatch"), "co_unit_ids", &f.gas.id.to_string())
        .await;
    b.shot("04-dispatch-form").await;
    submit(b, "dispatch", "待签收").await;
    b.shot("05-dispatched").await;

    // 3. The lead unit signs and replies.
    open_order(b, "unit_water1", number).await;
    unfold(b, "sign").await;
    submit(b, "sign", "办理中").await;
    b.shot("06-signed").await;
    unfold(b, "reply").await;
    b.fill(
        &format!("{} [name=text]", form("reply")),
        "已抢修管道，今日18时恢复供水。",
    )
    .await;
    // With a photo (附件), chosen through the file input as a person picks a file.
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("repair-photo.png");
    std::fs::write(&photo, PNG).unwrap();
    b.wait(&format!("{} input[type=file][name=files]", form("reply")))
        .await
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    b.js("document.querySelector('#act-reply').scrollIntoView()")
        .await;
    b.shot("06b-reply-form-with-file").await;
    submit(b, "reply", "待审核").await;
    b.wait_text("#order-panel .attachments", "repair-photo.png")
        .await;
    b.shot("07-replied").await;
    b.js("document.querySelector('#order-panel .attachments').scrollIntoView()")
        .await;
    b.shot("07b-reply-attachment").await;

    // 4. The supervisor sends the reply back once.
    open_order(b, "supervisor1", number).await;
    unfold(b, "review").await;
    b.choose(&form("review"), "pass", "false").await;
    b.fill(&format!("{} [name=note]", form("review")), "未说明停水原因")
        .await;
    b.shot("08-review-form").await;
    submit(b, "review", "办理中").await;
    b.shot("09-sent-back").await;

    // 5. The unit replies again; the review passes.
    open_order(b, "unit_water1", number).await;
    unfold(b, "reply").await;
    b.fill(
        &format!("{} [name=text]", form("reply")),
        "停水系主管道爆裂，已抢修完毕并恢复供水。",
    )
    .await;
    submit(b, "reply", "待审核").await;
    b.shot("10-replied-again").await;
    open_order(b, "supervisor1", number).await;
    unfold(b, "review").await;
    b.choose(&form("review"), "pass", "true").await;
    submit(b, "review", "待回访").await;
    b.shot("11-review-passed").await;

    // 6. The visitor records unsatisfied and reasonable: redo.
    open_order(b, "visitor1", number).await;
    unfold(b, "visit").await;
    b.choose(&form("visit"), "solved", "unsolved").await;
    b.choose(&form("visit"), "satisfaction", "unsatisfied")
        .await;
    b.choose(&form("visit"), "redo", "true").await;
    b.fill(&format!("{} [name=note]", form("visit")), "水压仍不足")
        .await;
    b.shot("12-visit-redo-form").await;
    submit(b, "visit", "办理中").await;
    b.shot("13-redo").await;

    // 7. The redo is replied and passes review.
    open_order(b, "unit_water1", number).await;
    unfold(b, "reply").await;
    b.fill(
        &format!("{} [name=text]", form("reply")),
        "已调整加压泵，水压恢复正常。",
    )
    .await;
    submit(b, "reply", "待审核").await;
    b.shot("14-redo-replied").await;
    open_order(b, "supervisor1", number).await;
    unfold(b, "review").await;
    b.choose(&form("review"), "pass", "true").await;
    submit(b, "review", "待回访").await;
    b.shot("15-redo-passed").await;

    // 8. The second visit records satisfied: the order closes.
    open_order(b, "visitor1", number).await;
    unfold(b, "visit").await;
    b.choose(&form("visit"), "solved", "solved").await;
    b.choose(&form("visit"), "satisfaction", "satisfied").await;
    submit(b, "visit", "已办结").await;
    b.shot("16-closed").await;
}

#[tokio::test]
async fn a_unit_cannot_open_another_units_order_by_url() {
    for db in all_backends().await {
        let t = start(db).await;
        let number = register_via_api(&t, "小区停水三天无人处理", "多福巷12号楼停水。").await;
        let dispatcher = t.login("dispatcher1").await;
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": t.fixture.water.id}),
        )
        .await;
        let b = Browser::open(&t, "scope").await;

        // The water company sees its order ...
        open_order(&b, "unit_water1", &number).await;
        b.wait_text(STATE, "待签收").await;
        b.shot("01-own-unit").await;

        // ... the gas company, typing the same URL, gets the 404 page and nothing of the order.
        b.sign_in("unit_gas1", PASSWORD).await;
        b.goto(&format!("/orders/{number}")).await;
        b.wait_text("body", "404").await;
        let text = b.body_text().await;
        assert!(
            !text.contains("多福巷"),
            "the 404 page leaks the order: {text}"
        );
        assert!(
            !b.has("#order-state").await,
            "a state badge on the 404 page"
        );
        b.shot("02-other-unit-404").await;
        b.close().await;
    }
}

/// Asserts that no inline script is on the page and no alert opened.
async fn assert_no_script_ran(b: &Browser) {
    let inline = b
        .js("return document.querySelectorAll('script:not([src])').length;")
        .await;
    assert_eq!(inline, json!(0), "an inline <script> made it into the page");
    assert!(
        b.client.get_alert_text().await.is_err(),
        "an alert is open: the citizen's script ran"
    );
}

#[tokio::test]
async fn a_script_in_the_title_shows_as_text_in_the_list() {
    for db in all_backends().await {
        let t = start(db).await;
        let title = format!("路灯不亮{SCRIPT}");
        let number = register_via_api(&t, &title, &format!("内容{SCRIPT}")).await;
        let b = Browser::open(&t, "escape-list").await;
        b.sign_in("dispatcher1", PASSWORD).await;
        b.goto(&format!("/orders?number={number}")).await;
        let cell = b.wait_text("table.grid tbody", &number).await;
        assert!(cell.contains(&title), "the title shows literally: {cell}");
        assert_no_script_ran(&b).await;
        b.shot("01-list").await;
        b.close().await;
    }
}

#[tokio::test]
async fn a_script_in_the_content_shows_as_text_on_the_detail_page() {
    for db in all_backends().await {
        let t = start(db).await;
        let content = format!("楼道灯坏了{SCRIPT}请尽快修");
        let number = register_via_api(&t, &format!("路灯{SCRIPT}"), &content).await;
        let b = Browser::open(&t, "escape-detail").await;
        open_order(&b, "dispatcher1", &number).await;
        b.wait_text("body", &content).await;
        assert_no_script_ran(&b).await;
        b.shot("01-detail").await;
        b.close().await;
    }
}
