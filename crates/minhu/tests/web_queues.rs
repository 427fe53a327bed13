//! The work queues: the dispatcher's 派单 page (suggested unit, quick dispatch, deadline preview)
//! and the unit inbox's tabs, on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

mod support;
mod web_support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::start;
use support::db::all_backends;
use web_support::Browser;

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

        // Dispatch from the queue.
        let csrf = page.hidden("_csrf");
        let version = order["version"].to_string();
        let lead = f.water.id.to_string();
        let answer = d
            .post(
                &format!("/orders/{number}/act/dispatch"),
                &[
                    ("_csrf", &csrf),
                    ("version", &version),
                    ("lead_unit_id", &lead),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let page = d.get("/dispatch").await;
        assert!(!page.body.contains(&format!("dispatch-{number}")));

        // Units see nothing of the dispatcher's page.
        let mut w = Browser::signed_in(&t, "unit_water1").await;
        assert_eq!(w.get("/dispatch").await.status, StatusCode::FORBIDDEN);

        // The water unit has it under 待签收; the gas unit does not.
        let inbox = w.get("/inbox").await;
        assert_eq!(inbox.status, StatusCode::OK);
        assert!(tab_section(&inbox.body).contains(&number), "{}", inbox.body);
        let mut g = Browser::signed_in(&t, "unit_gas1").await;
        let inbox = g.get("/inbox?tab=sign").await;
        assert!(!inbox.body.contains(&number));

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
        let preview = g
            .get(&format!("/inbox/extension-preview?number={number}&days=3"))
            .await;
        assert_eq!(
            preview.status,
            StatusCode::NOT_FOUND,
            "out of the gas unit's scope"
        );
    }
}
