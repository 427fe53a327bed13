//! The admin pages (系统管理) over HTTP, on both backends: the calendar's year view, units and
//! users, categories with their policies, the catalogue and announcements.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

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
        for path in ["/admin/calendar", "/admin/units", "/admin/users"] {
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

/// The value of the `<option>` whose text ends with `label`.
fn option_value(body: &str, label: &str) -> String {
    let at = body
        .find(&format!("{label}</option>"))
        .unwrap_or_else(|| panic!("no option {label}"));
    let marker = "<option value=\"";
    let start = body[..at].rfind(marker).unwrap() + marker.len();
    let len = body[start..].find('"').unwrap();
    body[start..start + len].to_owned()
}

#[tokio::test]
async fn admin_creates_a_unit_and_a_user_who_can_sign_in() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "admin").await;
        let desk = b.get("/").await;
        assert!(desk.body.contains("href=\"/admin/units\""));
        let page = b.get("/admin/units").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page.hidden("_csrf");
        // The first parent offered: the root of the tree.
        let select = &page.body[page.body.find("name=\"parent_id\"").unwrap()..];
        let start = select.find("<option value=\"").unwrap() + "<option value=\"".len();
        let parent = select[start..start + select[start..].find('"').unwrap()].to_owned();
        let form = [
            ("_csrf", csrf.as_str()),
            ("code", "T-WATER"),
            ("name", "测试水务局"),
            ("kind", "bureau"),
            ("parent_id", parent.as_str()),
        ];
        let page = b.post("/admin/units", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("测试水务局") && page.body.contains("T-WATER"));

        // A duplicate code is refused, keeping the typed name.
        let page = b.post("/admin/units", &form).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        assert!(page.body.contains("value=\"测试水务局\""));

        let page = b.get("/admin/users").await;
        let unit = option_value(&page.body, "测试水务局");
        let form = [
            ("_csrf", csrf.as_str()),
            ("username", "water1"),
            ("display_name", "水务经办"),
            ("unit_id", unit.as_str()),
            ("roles", "unit_handler"),
            ("roles", "unit_leader"),
            ("password", "Water-pass-2026"),
        ];
        let page = b.post("/admin/users", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("water1"));
        assert!(page.body.contains("承办单位经办人、承办单位负责人"));

        let mut w = Browser::new(&t);
        let page = w.sign_in("water1", "Water-pass-2026").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let desk = w.get("/").await;
        assert!(desk.body.contains("水务经办") && desk.body.contains("测试水务局"));
        assert!(!desk.body.contains("系统管理"));
        assert_eq!(w.get("/admin/units").await.status, StatusCode::FORBIDDEN);
    }
}
