//! The admin pages (系统管理) over HTTP, on both backends: the calendar's year view, units and
//! users, categories with their policies, the catalogue and announcements.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

mod support;
mod web_support;

use reqwest::StatusCode;
use support::app::start;
use support::db::all_backends;
use web_support::Browser;

/// The cell of `date` in the calendar page (its `<td …>` up to `</td>`).
fn day_cell<'a>(body: &'a str, date: &str) -> &'a str {
    let marker = format!("data-date=\"{date}");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no cell {date}"));
    let start = body[..at].rfind("<td").unwrap();
    let end = at + body[at..].find("</td>").unwrap();
    &body[start..end]
}

#[tokio::test]
async fn calendar_year_view_and_setting_a_day() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "admin").await;
        let page = b.get("/admin/calendar?year=2026").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let cell = day_cell(&page.body, "2026-02-14");
        assert!(cell.contains("workday") && cell.contains("班"), "{cell}");
        let cell = day_cell(&page.body, "2026-10-01");
        assert!(cell.contains("holiday") && cell.contains("休"), "{cell}");
        let cell = day_cell(&page.body, "2026-03-07");
        assert!(cell.contains("weekend"), "{cell}");
        assert!(page.body.contains("/admin/calendar?year=2025"));
        assert!(page.body.contains("/admin/calendar?year=2027"));
        assert!(!page.body.contains("没有官方节假日数据"));

        let page = b.get("/admin/calendar?year=2031").await;
        assert!(page.body.contains("没有官方节假日数据"));

        let csrf = b.csrf().await;
        let form = [
            ("_csrf", csrf.as_str()),
            ("date", "2031-05-06"),
            ("kind", "holiday"),
            ("name", "测试假日"),
        ];
        let page = b.post("/admin/calendar/set", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("已保存"));
        let cell = day_cell(&page.body, "2031-05-06");
        assert!(
            cell.contains("holiday") && cell.contains("测试假日"),
            "{cell}"
        );

        // A bad date keeps what was typed and says why.
        let form = [
            ("_csrf", csrf.as_str()),
            ("date", "2031-13-40"),
            ("kind", "workday"),
            ("name", "坏日期"),
        ];
        let page = b.post("/admin/calendar/set", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("请填写正确的日期"));
        assert!(page.body.contains("value=\"坏日期\""));

        let page = b
            .post(
                "/admin/calendar/delete",
                &[("_csrf", csrf.as_str()), ("date", "2031-05-06")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get("/admin/calendar?year=2031").await;
        assert!(!page.body.contains("测试假日"));

        // Without CSRF nothing changes.
        let page = b
            .post(
                "/admin/calendar/set",
                &[("date", "2031-05-07"), ("kind", "holiday"), ("name", "x")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn non_admins_get_403_and_no_menu_entry() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "agent1").await;
        let desk = b.get("/").await;
        assert!(!desk.body.contains("系统管理"));
        for path in ["/admin/calendar"] {
            let page = b.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        }
        let csrf = b.csrf().await;
        let page = b
            .post(
                "/admin/calendar/set",
                &[
                    ("_csrf", csrf.as_str()),
                    ("date", "2031-05-07"),
                    ("kind", "holiday"),
                    ("name", "x"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
}
