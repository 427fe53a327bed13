//! The work queues: the dispatcher's 派单 page (suggested unit, the unit pickers loaded once
//! per page, quick dispatch with lead and co units, deadline preview), the unit inbox's tabs,
//! paging of both 50 at a time, and a menu without duplicate queues, on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

#[allow(dead_code)]
use crate::support::builders;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;
use support::app::{TestApp, start};
use support::db::all_backends;
use web_support::{Browser, tile};

/// The body of the table row with `id`.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id} in {body}"));
    let end = body[start..].find("</tr>").unwrap();
    &body[start..start + end]
}

fn tab_section(body: &str) -> &str {
    let start = body.find("<tbody>").unwrap();
    &body[start..]
}

/// The ids of the rows whose id starts with `prefix`, in page order.
fn row_ids(body: &str, prefix: &str) -> Vec<String> {
    let marker = format!("<tr id=\"{prefix}");
    body.match_indices(&marker)
        .map(|(at, _)| {
            let start = at + marker.len();
            let len = body[start..].find('"').unwrap();
            body[start..start + len].to_owned()
        })
        .collect()
}

/// "共 N 条，第 x/y 页" of the page's pager.
fn pager(body: &str) -> (i64, i64, i64) {
    let start = body
        .find("共 ")
        .unwrap_or_else(|| panic!("no pager in {body}"))
        + "共 ".len();
    let rest = &body[start..];
    let total = rest[..rest.find(' ').unwrap()].parse().unwrap();
    let at = rest.find("第 ").unwrap() + "第 ".len();
    let rest = &rest[at..];
    let (page, rest) = rest.split_once('/').unwrap();
    let pages = &rest[..rest.find(' ').unwrap()];
    (total, page.parse().unwrap(), pages.parse().unwrap())
}

/// The menu's entries: (label, href).
fn menu(body: &str) -> Vec<(String, String)> {
    let start = body.find("<nav class=\"sidemenu\"").unwrap();
    let end = start + body[start..].find("</nav>").unwrap();
    let nav = &body[start..end];
    nav.match_indices("<a href=\"")
        .map(|(at, m)| {
            let rest = &nav[at + m.len()..];
            let href = &rest[..rest.find('"').unwrap()];
            let text_start = rest.find('>').unwrap() + 1;
            let text = &rest[text_start..text_start + rest[text_start..].find('<').unwrap()];
            (text.to_owned(), href.to_owned())
        })
        .collect()
}

/// Registers `n` orders straight into the store (oldest first, a minute apart, in the past)
/// with the test builders; returns their numbers in that order.
async fn seed_registered(t: &TestApp, n: usize) -> Vec<String> {
    let f = &t.fixture;
    let agent = f.user("agent1");
    let today = Utc::now().date_naive();
    let mut numbers = Vec::new();
    for i in 0..n {
        let at = Utc::now() - Duration::minutes(i64::try_from(n - i).unwrap() + 5);
        let draft = builders::new_order(f.cat_water_cut.id, agent, at, "13900000000");
        let event = builders::event(
            "register",
            at,
            None,
            minhu_domain::OrderState::Registered,
            agent,
            f.centre.id,
        );
        let order = t
            .app
            .store
            .create_order(&draft, &[event], today)
            .await
            .unwrap();
        numbers.push(order.number);
    }
    numbers
}

#[tokio::test]
async fn dispatch_queue_and_unit_inbox() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let order = t.register(&agent, f.new_order()).await;
        let number = order["number"].as_str().unwrap().to_owned();

        // The dispatcher's queue: the order, the catalogue's suggestion preselected, deadlines.
        let mut d = Browser::signed_in(&t, "dispatcher1").await;
        let desk = d.get("/").await;
        assert!(desk.body.contains("href=\"/dispatch\""), "menu entry");
        let page = d.get("/dispatch").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let r = row(&page.body, &format!("dispatch-{number}"));
        assert!(
            r.contains(&format!("<td class=\"suggested\">{}</td>", f.water.name)),
            "{r}"
        );
        assert!(
            r.contains(&format!("<option value=\"{}\" selected>", f.water.id)),
            "{r}"
        );
        assert!(r.contains("签收时限") && r.contains("办结时限"), "{r}");
        assert!(page.body.contains("退单待审核") && page.body.contains("延期待审核"));

        // The row does not carry the unit list: its pickers load it once, on hover or focus.
        assert!(!r.contains(&f.gas.name), "every unit in every row: {r}");
        assert!(r.contains("hx-get=\"/dispatch/units?role=lead\""), "{r}");
        assert!(r.contains("hx-get=\"/dispatch/units?role=co\""), "{r}");
        let lead = f.water.id.to_string();
        let options = d
            .get(&format!("/dispatch/units?role=lead&lead_unit_id={lead}"))
            .await;
        assert_eq!(options.status, StatusCode::OK);
        assert!(
            options
                .body
                .contains(&format!("<option value=\"{lead}\" selected>")),
            "{}",
            options.body
        );
        for unit in [&f.gas, &f.district, &f.street, &f.community] {
            assert!(
                options.body.contains(&format!(
                    "<option value=\"{}\">{}</option>",
                    unit.id, unit.name
                )),
                "{}",
                options.body
            );
        }
        assert!(!options.body.contains(&f.centre.name), "not the centre");
        assert!(
            options
                .headers
                .get("cache-control")
                .is_some_and(|v| v.to_str().unwrap().contains("max-age")),
            "one answer serves every row"
        );
        let co = d.get("/dispatch/units?role=co").await;
        assert!(!co.body.contains("selected") && co.body.contains(&f.gas.name));
        let mut w = Browser::signed_in(&t, "unit_water1").await;
        assert_eq!(
            w.get("/dispatch/units?role=lead").await.status,
            StatusCode::FORBIDDEN
        );

        // Dispatch from the queue, lead and co.
        let csrf = page.hidden("_csrf");
        let version = order["version"].to_string();
        let co_unit = f.gas.id.to_string();
        let answer = d
            .post(
                &format!("/orders/{number}/act/dispatch"),
                &[
                    ("_csrf", &csrf),
                    ("version", &version),
                    ("lead_unit_id", &lead),
                    ("co_unit_ids", &co_unit),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let page = d.get("/dispatch").await;
        assert!(!page.body.contains(&format!("dispatch-{number}")));
        let dispatcher = t.login("dispatcher1").await;
        let stored = t.order(&dispatcher, &number).await;
        let mut held: Vec<(i64, String)> = stored["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["unit_id"].as_i64().unwrap(),
                    a["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        held.sort();
        let mut expected = vec![(f.water.id, "lead".to_owned()), (f.gas.id, "co".to_owned())];
        expected.sort();
        assert_eq!(held, expected, "{stored}");

        // Units see nothing of the dispatcher's page.
        assert_eq!(w.get("/dispatch").await.status, StatusCode::FORBIDDEN);
        // …nor dispatchers the units' inbox.
        assert_eq!(d.get("/inbox").await.status, StatusCode::FORBIDDEN);

        // The water unit has it under 待签收 as lead; the gas unit as co (待签收 and 协办).
        let inbox = w.get("/inbox").await;
        assert_eq!(inbox.status, StatusCode::OK);
        assert!(tab_section(&inbox.body).contains(&number), "{}", inbox.body);
        let mut g = Browser::signed_in(&t, "unit_gas1").await;
        let inbox = g.get("/inbox?tab=co").await;
        assert!(tab_section(&inbox.body).contains(&number), "{}", inbox.body);
        let inbox = g.get("/inbox?tab=handling").await;
        assert!(!tab_section(&inbox.body).contains(&number));

        // After signing it moves to 办理中.
        let water = t.login("unit_water1").await;
        t.act_ok(&water, &number, "sign", json!({})).await;
        let inbox = w.get("/inbox?tab=sign").await;
        assert!(!tab_section(&inbox.body).contains(&number));
        let inbox = w.get("/inbox?tab=handling").await;
        assert!(tab_section(&inbox.body).contains(&number), "{}", inbox.body);

        // The extension form's preview: the detail's form asks for it as the days are typed…
        let detail = w.get(&format!("/orders/{number}")).await;
        assert!(
            detail.body.contains(&format!(
                "hx-get=\"/inbox/extension-preview?number={number}\""
            )),
            "{}",
            detail.body
        );
        assert!(detail.body.contains("id=\"extension-preview\""));
        // …and gets the handle deadline moved by working days.
        let preview = w
            .get(&format!("/inbox/extension-preview?number={number}&days=3"))
            .await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.body.contains("延期后办结时限"), "{}", preview.body);
        let outsider = t.register(&agent, f.new_order()).await;
        let outsider = outsider["number"].as_str().unwrap();
        let preview = g
            .get(&format!(
                "/inbox/extension-preview?number={outsider}&days=3"
            ))
            .await;
        assert_eq!(
            preview.status,
            StatusCode::NOT_FOUND,
            "out of the gas unit's scope"
        );
    }
}

#[tokio::test]
async fn queues_page_fifty_at_a_time() {
    for db in all_backends().await {
        let t = start(db).await;
        let numbers = seed_registered(&t, 55).await;

        // 派单: oldest first, 50 on the first page, the true total.
        let mut d = Browser::signed_in(&t, "dispatcher1").await;
        let page = d.get("/dispatch").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("待交办 55 件"), "{}", page.body);
        assert_eq!(pager(&page.body), (55, 1, 2));
        let first = row_ids(&page.body, "dispatch-");
        assert_eq!(first, numbers[..50].to_vec(), "oldest first");
        assert!(page.body.contains("href=\"/dispatch?page=2\""));
        assert!(!page.body.contains("上一页"));

        let page = d.get("/dispatch?page=2").await;
        assert_eq!(pager(&page.body), (55, 2, 2));
        assert_eq!(row_ids(&page.body, "dispatch-"), numbers[50..].to_vec());
        assert!(page.body.contains("href=\"/dispatch?page=1\""));
        assert!(!page.body.contains("下一页"));
        // Past the end: the last page; nonsense: the first.
        let page = d.get("/dispatch?page=9").await;
        assert_eq!(pager(&page.body), (55, 2, 2));
        let page = d.get("/dispatch?page=abc").await;
        assert_eq!(pager(&page.body), (55, 1, 2));

        // Dispatch them all to the water company: its 待签收 pages the same way.
        let dispatcher = t.login("dispatcher1").await;
        for number in &numbers {
            t.act_ok(
                &dispatcher,
                number,
                "dispatch",
                json!({"lead_unit_id": t.fixture.water.id}),
            )
            .await;
        }
        let page = d.get("/dispatch").await;
        assert_eq!(pager(&page.body), (0, 1, 1));
        assert!(page.body.contains("没有待交办的工单"));

        let mut w = Browser::signed_in(&t, "unit_water1").await;
        let page = w.get("/inbox?tab=sign").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(pager(&page.body), (55, 1, 2));
        assert!(
            page.body
                .contains("href=\"/inbox?tab=sign\" aria-current=\"page\">待签收 <span class=\"tab-count\">55</span>"),
            "the tab counts every row, not a page: {}",
            page.body
        );
        let first = row_ids(&page.body, "inbox-");
        assert_eq!(first.len(), 50);
        let page = w.get("/inbox?tab=sign&page=2").await;
        assert_eq!(pager(&page.body), (55, 2, 2));
        let second = row_ids(&page.body, "inbox-");
        assert_eq!(second.len(), 5);
        let mut all: BTreeSet<String> = first.into_iter().collect();
        all.extend(second);
        assert_eq!(all, numbers.iter().cloned().collect(), "every order once");
        assert!(page.body.contains("href=\"/inbox?tab=sign&#38;page=1\""));
        assert_eq!(tile(&w.get("/").await.body, "待签收"), 55);
    }
}

#[tokio::test]
async fn each_role_sees_each_queue_once_in_the_menu() {
    for db in all_backends().await {
        let t = start(db).await;
        for username in [
            "unit_water1",
            "district1",
            "street1",
            "dispatcher1",
            "supervisor1",
            "agent1",
            "visitor1",
        ] {
            let mut b = Browser::signed_in(&t, username).await;
            let desk = b.get("/").await;
            let entries = menu(&desk.body);
            let labels: BTreeSet<&String> = entries.iter().map(|(l, _)| l).collect();
            let hrefs: BTreeSet<&String> = entries.iter().map(|(_, h)| h).collect();
            assert_eq!(labels.len(), entries.len(), "{username}: {entries:?}");
            assert_eq!(hrefs.len(), entries.len(), "{username}: {entries:?}");
            assert!(
                entries
                    .iter()
                    .any(|(l, h)| l == "工单查询" && h == "/orders"),
                "{username}: search stays: {entries:?}"
            );
            let unit = matches!(username, "unit_water1" | "district1" | "street1");
            assert_eq!(
                entries.iter().any(|(_, h)| h == "/inbox"),
                unit,
                "{username}: {entries:?}"
            );
            if unit {
                // The inbox's tabs are the unit's queues; no filtered lists beside them.
                assert!(
                    !entries.iter().any(|(_, h)| h.starts_with("/orders?")),
                    "{username}: {entries:?}"
                );
            }
        }
    }
}
