//! The unit inbox (承办单位) on both backends: a district sub-centre re-dispatches down its
//! subtree (待转派) and reviews the replies coming back up (待审核) from the rows, through the
//! web forms with htmx, refusals said in the row with the input kept; and the desk's counts of a
//! unit's own assignments by state equal the inbox tabs' totals.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use chrono::{Duration, Utc};
use minhu::storage::NewCatalogueEntry;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, start};
use support::db::all_backends;
use web_support::{Browser, Page, tile};

/// The body of the table row with `id`.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id} in {body}"));
    let end = body[start..].find("</tr>").unwrap();
    &body[start..start + end]
}

/// The count on the inbox tab `code`, if the tab is there.
fn tab_count(body: &str, code: &str) -> Option<i64> {
    let at = body.find(&format!("href=\"/inbox?tab={code}\""))?;
    let marker = "<span class=\"tab-count\">";
    let start = at + body[at..].find(marker)? + marker.len();
    let len = body[start..].find('<')?;
    body[start..start + len].parse().ok()
}

/// The total of the page's pager ("共 N 条").
fn pager_total(body: &str) -> i64 {
    let start = body.find("共 ").unwrap() + "共 ".len();
    let len = body[start..].find(' ').unwrap();
    body[start..start + len].parse().unwrap()
}

/// POSTs a form as htmx does (the row comes back alone).
async fn htmx_post(b: &mut Browser, path: &str, form: &[(&str, &str)]) -> Page {
    let request = b
        .client
        .post(format!("{}{path}", b.base))
        .header("hx-request", "true")
        .form(form);
    b.send(request).await
}

async fn register(t: &TestApp) -> String {
    let agent = t.login("agent1").await;
    let order = t.register(&agent, t.fixture.new_order()).await;
    order["number"].as_str().unwrap().to_owned()
}

fn version(order: &Value) -> String {
    order["version"].to_string()
}

#[tokio::test]
async fn a_sub_centre_redispatches_and_reviews_from_its_inbox() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        // In this district the catalogue names the street for water cuts.
        t.app
            .store
            .create_catalogue_entry(&NewCatalogueEntry {
                category_id: f.cat_water_cut.id,
                district_id: Some(f.district.id),
                unit_id: f.street.id,
                note: None,
            })
            .await
            .unwrap();
        let number = register(&t).await;
        let dispatcher = t.login("dispatcher1").await;
        let district = t.login("district1").await;
        let street = t.login("street1").await;
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": f.district.id}),
        )
        .await;
        t.act_ok(&district, &number, "sign", json!({})).await;

        // 待转派: the signed assignment, the units below the district only, the street
        // (suggested by the catalogue) preselected, the deadlines the street would get.
        let mut b = Browser::signed_in(&t, "district1").await;
        let page = b.get("/inbox?tab=redispatch").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(tab_count(&page.body, "redispatch"), Some(1));
        let r = row(&page.body, &format!("inbox-{number}")).to_owned();
        assert!(
            r.contains(&format!("<option value=\"{}\" selected>", f.street.id)),
            "{r}"
        );
        assert!(r.contains(&f.community.name), "{r}");
        for outside in [&f.water, &f.gas, &f.district, &f.centre] {
            assert!(
                !r.contains(&format!("<option value=\"{}\"", outside.id)),
                "{} is not below the district: {r}",
                outside.name
            );
        }
        assert!(r.contains("转派后：签收时限"), "{r}");
        assert!(r.contains("hx-post=\"/inbox/"), "{r}");
        let csrf = page.hidden("_csrf");
        let stale = (t.order(&district, &number).await["version"]
            .as_i64()
            .unwrap()
            - 1)
        .to_string();
        let street_id = f.street.id.to_string();

        // A stale version is refused in the row, in Chinese, the input kept.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/redispatch"),
            &[
                ("_csrf", &csrf),
                ("version", &stale),
                ("to_unit_id", &f.community.id.to_string()),
                ("note", "请街道会同社区处理"),
            ],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(
            answer.body.starts_with("<tr id=\"inbox-"),
            "only the row: {}",
            answer.body
        );
        assert!(answer.body.contains("版本已变化"), "{}", answer.body);
        assert!(
            answer.body.contains("请街道会同社区处理"),
            "{}",
            answer.body
        );
        assert!(
            answer
                .body
                .contains(&format!("<option value=\"{}\" selected>", f.community.id)),
            "the chosen unit is kept: {}",
            answer.body
        );
        // No unit chosen: said in the row too (a plain form gets the page, 422).
        let fresh = version(&t.order(&district, &number).await);
        let answer = b
            .post(
                &format!("/inbox/{number}/redispatch"),
                &[("_csrf", &csrf), ("version", &fresh), ("to_unit_id", "")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer.body.contains("请选择转派的下级单位"),
            "{}",
            answer.body
        );
        // Without the CSRF token nothing happens.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/redispatch"),
            &[("version", &fresh), ("to_unit_id", &street_id)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);

        // Re-dispatched from the row: the row says so.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/redispatch"),
            &[
                ("_csrf", &csrf),
                ("version", &fresh),
                ("to_unit_id", &street_id),
                ("note", "请街道核实"),
            ],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(
            answer.body.contains(&format!("已转派至{}", f.street.name)),
            "{}",
            answer.body
        );
        let order = t.order(&district, &number).await;
        let states: Vec<(i64, &str)> = order["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["unit_id"].as_i64().unwrap(), a["state"].as_str().unwrap()))
            .collect();
        assert!(states.contains(&(f.district.id, "delegated")), "{order}");
        assert!(states.contains(&(f.street.id, "dispatched")), "{order}");
        let page = b.get("/inbox?tab=redispatch").await;
        assert_eq!(tab_count(&page.body, "redispatch"), Some(0));
        assert!(!page.body.contains(&format!("inbox-{number}")));

        // The street signs and replies: 待审核 at the district.
        t.act_ok(&street, &number, "sign", json!({})).await;
        t.act_ok(
            &street,
            &number,
            "reply",
            json!({"text": "已协调水务抢修，恢复供水。"}),
        )
        .await;
        let page = b.get("/inbox?tab=review").await;
        assert_eq!(tab_count(&page.body, "review"), Some(1));
        let r = row(&page.body, &format!("inbox-{number}")).to_owned();
        assert!(
            r.contains("已协调水务抢修") && r.contains(&f.street.name),
            "{r}"
        );
        let csrf = page.hidden("_csrf");
        let v = version(&t.order(&district, &number).await);

        // Sending back without a reason is refused in the row; the verdict is kept.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/review"),
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("unit_id", &street_id),
                ("pass", "false"),
                ("note", ""),
            ],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(answer.body.contains("row-error"), "{}", answer.body);
        assert!(answer.body.contains("退回意见"), "{}", answer.body);
        assert!(
            answer.body.contains("value=\"false\" checked"),
            "{}",
            answer.body
        );
        // With the reason it goes back to the street.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/review"),
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("unit_id", &street_id),
                ("pass", "false"),
                ("note", "未说明停水原因"),
            ],
        )
        .await;
        assert!(
            answer
                .body
                .contains(&format!("已退回{}重新办理", f.street.name)),
            "{}",
            answer.body
        );
        // Someone acted first: the old version is refused and says so.
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/review"),
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("unit_id", &street_id),
                ("pass", "true"),
                ("note", "同意"),
            ],
        )
        .await;
        assert!(answer.body.contains("已被他人处理"), "{}", answer.body);
        assert!(answer.body.contains("value=\"同意\""), "{}", answer.body);

        // The street replies again; the district passes it, and the reply goes up to the centre.
        t.act_ok(
            &street,
            &number,
            "reply",
            json!({"text": "停水系管道老化，已更换。"}),
        )
        .await;
        let page = b.get("/inbox?tab=review").await;
        let v = version(&t.order(&district, &number).await);
        let answer = htmx_post(
            &mut b,
            &format!("/inbox/{number}/review"),
            &[
                ("_csrf", &page.hidden("_csrf")),
                ("version", &v),
                ("unit_id", &street_id),
                ("pass", "true"),
            ],
        )
        .await;
        assert!(answer.body.contains("已审核通过"), "{}", answer.body);
        let order = t.order(&dispatcher, &number).await;
        assert_eq!(order["state"], "replied", "{order}");
        let page = b.get("/inbox?tab=review").await;
        assert_eq!(tab_count(&page.body, "review"), Some(0));

        // A plain street handler has neither tab, and the server refuses the actions.
        let mut s = Browser::signed_in(&t, "street1").await;
        let page = s.get("/inbox").await;
        assert_eq!(tab_count(&page.body, "redispatch"), None);
        assert_eq!(tab_count(&page.body, "review"), None);
        let answer = s
            .post(
                &format!("/inbox/{number}/review"),
                &[
                    ("_csrf", &page.hidden("_csrf")),
                    ("unit_id", &street_id),
                    ("pass", "true"),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
}

/// Moves the handle deadline of `unit_id`'s assignment on `number` so that it shows `warning`
/// (`yellow` or `red`) now, straight in the store.
async fn set_warning(t: &TestApp, number: &str, unit_id: i64, warning: &str) {
    let store = &t.app.store;
    let mut agg = store.find_order_by_number(number).await.unwrap().unwrap();
    let now = Utc::now();
    for a in agg.assignments.iter_mut().filter(|a| a.unit_id == unit_id) {
        if warning == "red" {
            a.handle_start_at = now - Duration::days(10);
            a.handle_deadline_at = now - Duration::hours(1);
        } else {
            a.handle_start_at = now - Duration::days(10);
            a.handle_deadline_at = now + Duration::hours(2);
        }
    }
    let transition = minhu_domain::Transition {
        order: agg.order.clone(),
        assignments: agg.assignments.clone(),
        events: Vec::new(),
    };
    store
        .save_transition(agg.order.version, &transition)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_desk_counts_a_units_assignments_as_its_inbox_tabs_do() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let dispatch = |lead: i64, co: Vec<i64>| json!({"lead_unit_id": lead, "co_unit_ids": co});

        // Two waiting to be signed, one of them a co-assignment.
        let a = register(&t).await;
        t.act_ok(&dispatcher, &a, "dispatch", dispatch(f.water.id, vec![]))
            .await;
        let b = register(&t).await;
        t.act_ok(
            &dispatcher,
            &b,
            "dispatch",
            dispatch(f.gas.id, vec![f.water.id]),
        )
        .await;
        // Three in progress: one with an extension request, one red, one yellow.
        let mut handling = Vec::new();
        for _ in 0..3 {
            let n = register(&t).await;
            t.act_ok(&dispatcher, &n, "dispatch", dispatch(f.water.id, vec![]))
                .await;
            t.act_ok(&water, &n, "sign", json!({})).await;
            handling.push(n);
        }
        t.act_ok(
            &water,
            &handling[0],
            "request_extension",
            json!({"days": 3, "reason": "需协调管网改造"}),
        )
        .await;
        set_warning(&t, &handling[1], f.water.id, "red").await;
        set_warning(&t, &handling[2], f.water.id, "yellow").await;
        // One return requested.
        let r = register(&t).await;
        t.act_ok(&dispatcher, &r, "dispatch", dispatch(f.water.id, vec![]))
            .await;
        t.act_ok(
            &water,
            &r,
            "request_return",
            json!({"reason": "不属于本单位职责"}),
        )
        .await;
        // Another unit's work does not count.
        let other = register(&t).await;
        t.act_ok(&dispatcher, &other, "dispatch", dispatch(f.gas.id, vec![]))
            .await;

        let mut w = Browser::signed_in(&t, "unit_water1").await;
        let desk = w.get("/").await;
        let expected = [
            ("sign", "待签收", 2),
            ("handling", "办理中", 3),
            ("co", "协办", 1),
            ("yellow", "即将超期", 1),
            ("red", "已超期", 1),
            ("return", "退单申请", 1),
            ("extension", "延期申请", 1),
        ];
        for (code, label, count) in expected {
            assert_eq!(tile(&desk.body, label), count, "desk {label}");
            assert!(
                desk.body.contains(&format!("href=\"/inbox?tab={code}\"")),
                "the {label} tile opens its tab"
            );
            let inbox = w.get(&format!("/inbox?tab={code}")).await;
            assert_eq!(inbox.status, StatusCode::OK);
            assert_eq!(tab_count(&inbox.body, code), Some(count), "tab {label}");
            assert_eq!(pager_total(&inbox.body), count, "rows of {label}");
            assert_eq!(
                inbox.body.matches("<tr id=\"inbox-").count(),
                usize::try_from(count).unwrap(),
                "{label}"
            );
        }
        // Every tile and its tab agree, whatever the numbers.
        let inbox = w.get("/inbox").await;
        for (code, label, _) in expected {
            assert_eq!(Some(tile(&desk.body, label)), tab_count(&inbox.body, code));
        }
        let red = w.get("/inbox?tab=red").await;
        assert!(red.body.contains(&handling[1]) && red.body.contains("红灯超期"));
        let yellow = w.get("/inbox?tab=yellow").await;
        assert!(yellow.body.contains(&handling[2]) && yellow.body.contains("黄灯"));

        // The sub-centre's desk has its own queues too.
        let mut d = Browser::signed_in(&t, "district1").await;
        let desk = d.get("/").await;
        assert_eq!(tile(&desk.body, "待转派"), 0);
        assert_eq!(tile(&desk.body, "待审核"), 0);
        assert!(desk.body.contains("href=\"/inbox?tab=review\""));
    }
}
