//! 导出Excel in a real headless Chromium: a centre user filters the order list, and the export
//! link on that page (fetched with the browser's own session cookie, since a download in headless
//! Chromium is awkward to catch) opens as a workbook holding exactly the numbers the table shows.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use std::io::Cursor;

use browser::Browser;
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use serde_json::json;
use support::app::{PASSWORD, start};
use support::db::all_backends;

#[tokio::test]
async fn the_export_holds_the_rows_shown() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let mut dispatched = Vec::new();
        for i in 0..3 {
            let order = t.register(&agent, f.new_order()).await;
            let number = order["number"].as_str().unwrap().to_owned();
            if i < 2 {
                t.act_ok(
                    &dispatcher,
                    &number,
                    "dispatch",
                    json!({"lead_unit_id": f.water.id}),
                )
                .await;
                dispatched.push(number);
            }
        }

        // A centre user filters the list by state through the form.
        let b = Browser::open(&t, "export").await;
        b.sign_in("dispatcher1", PASSWORD).await;
        b.goto("/orders").await;
        b.select("form.filters select[name=state]", "dispatched")
            .await;
        b.click_and_load("form.filters button[type=submit]").await;
        let path = b.path().await;
        assert!(path.contains("state=dispatched"), "filtered list: {path}");
        b.wait_text("h1.page-title", "共 2 件").await;
        b.shot("01-filtered-list").await;

        let shown = b
            .js("return Array.from(document.querySelectorAll('table.grid tbody td.mono a')).map(a => a.textContent.trim());")
            .await;
        let shown: Vec<String> = serde_json::from_value(shown).unwrap();
        let mut expected = dispatched.clone();
        expected.sort();
        let mut sorted = shown.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "the table shows the dispatched orders");

        // The 导出Excel link carries the same filter; fetch it with the browser's session.
        let link = b.wait("a[download]").await;
        assert_eq!(link.text().await.unwrap().trim(), "导出Excel");
        let href = link.attr("href").await.unwrap().expect("an href");
        assert!(href.contains("state=dispatched"), "{href}");
        let cookies = b.client.get_all_cookies().await.unwrap();
        let cookie = cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        assert!(cookie.contains("minhu_session="), "signed in: {cookie}");
        let url = if href.starts_with("http") {
            href.clone()
        } else {
            b.url(&href)
        };
        let response = reqwest::Client::new()
            .get(&url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{url}");
        let bytes = response.bytes().await.unwrap().to_vec();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|row| row.iter().map(ToString::to_string).collect())
            .collect();
        assert_eq!(rows[0][0], "工单编号");
        let exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            exported, shown,
            "the same rows in the same order as the table"
        );
        b.close().await;
    }
}
