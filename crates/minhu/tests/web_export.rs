//! 导出Excel: `/orders/export.xlsx` holds exactly the rows the list shows for the same filter,
//! under a Chinese header on the sheet 工单导出, with masked phones, and each export is audited;
//! on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{TestApp, start};
use support::db::all_backends;
use web_support::Browser;

/// Downloads an export and returns its rows (header first) as text.
async fn download(b: &Browser, path: &str) -> Vec<Vec<String>> {
    let response = b
        .client
        .get(format!("{}{path}", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"orders-")
    );
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["工单导出".to_owned()]);
    let range = book.worksheet_range("工单导出").unwrap();
    range
        .rows()
        .map(|row| row.iter().map(ToString::to_string).collect())
        .collect()
}

/// The order numbers a list page links, in order.
fn listed_numbers(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in body.split("<td class=\"mono\"><a href=\"/orders/").skip(1) {
        let number = part.split('"').next().unwrap().to_owned();
        out.push(number);
    }
    out
}

async fn register(t: &TestApp, body: Value) -> String {
    let agent = t.login("agent1").await;
    let order = t.register(&agent, body).await;
    order["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn export_holds_the_listed_rows_masked_and_audited() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let water_a = register(&t, f.new_order()).await;
        let water_b = register(&t, f.new_order()).await;
        let mut gas = f.new_order();
        gas["category_id"] = json!(f.cat_gas_leak.id);
        gas["title"] = json!("楼道有燃气味");
        gas["citizen"]["phone"] = json!("13900001111");
        let gas = register(&t, gas).await;
        let dispatcher = t.login("dispatcher1").await;
        for number in [&water_a, &water_b] {
            t.act_ok(
                &dispatcher,
                number,
                "dispatch",
                json!({"lead_unit_id": f.water.id}),
            )
            .await;
        }

        // The dispatcher's list for 已交办 links the export with the same filter.
        let mut d = Browser::signed_in(&t, "dispatcher1").await;
        let page = d.get("/orders?state=dispatched").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains("href=\"/orders/export.xlsx?state=dispatched\""),
            "{}",
            page.body
        );
        assert!(page.body.contains("导出Excel"));
        assert!(page.body.contains("最多 10000 行"));
        let shown = listed_numbers(&page.body);
        assert_eq!(shown.len(), 2);
        let rows = download(&d, "/orders/export.xlsx?state=dispatched").await;
        assert_eq!(
            rows[0],
            [
                "工单编号",
                "标题",
                "类型",
                "分类",
                "区域",
                "状态",
                "预警",
                "时限",
                "来电号码",
                "登记时间"
            ]
        );
        let exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(exported, shown, "the same rows in the same order");
        for row in &rows[1..] {
            assert_eq!(row[1], "小区停水三天无人处理");
            assert_eq!(row[2], "投诉");
            assert!(row[3].contains("停水"), "{row:?}");
            assert_eq!(row[8], "138****5678", "masked even for the centre");
            assert!(row[9].contains('年'), "a Chinese date: {row:?}");
        }

        // Without a filter: every order, the gas one with its own masked phone.
        let all = download(&d, "/orders/export.xlsx").await;
        assert_eq!(all.len(), 4);
        let gas_row = all.iter().find(|r| r[0] == gas).unwrap();
        assert_eq!(gas_row[8], "139****1111");

        // A unit user exports only its own orders, masked.
        let w = Browser::signed_in(&t, "unit_water1").await;
        let rows = download(&w, "/orders/export.xlsx").await;
        let mut numbers: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        numbers.sort();
        let mut expected = vec![water_a.clone(), water_b.clone()];
        expected.sort();
        assert_eq!(numbers, expected);
        assert!(rows[1..].iter().all(|r| r[8] == "138****5678"));

        // Every export is in the audit log with its filter and row count.
        let admin = t.login("admin").await;
        let (status, audit) = t.get(&admin, "/api/v1/admin/audit?limit=200").await;
        assert_eq!(status, StatusCode::OK);
        let text = audit.to_string();
        let lines: Vec<&Value> = audit_lines(&audit)
            .into_iter()
            .filter(|l| l["action"] == "export")
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        let details: Vec<String> = lines
            .iter()
            .map(|l| l["detail"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            details
                .iter()
                .any(|d| d.contains("\"rows\":2") && d.contains("Dispatched")),
            "{details:?}"
        );
        assert!(
            details.iter().any(|d| d.contains("\"rows\":3")),
            "{details:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l["user_id"] == json!(f.user("unit_water1"))),
            "{text}"
        );
    }
}

fn audit_lines(audit: &Value) -> Vec<&Value> {
    match audit {
        Value::Array(items) => items.iter().collect(),
        other => other["items"]
            .as_array()
            .or_else(|| other["entries"].as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
    }
}
