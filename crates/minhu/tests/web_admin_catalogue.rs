//! The admin pages for categories with their time-limit policies and for the dispatch catalogue,
//! over HTTP on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use minhu_domain::{DeadlineUnit, OrderType, TimeLimit, Urgency};
use reqwest::StatusCode;
use support::app::start;
use support::db::all_backends;
use web_support::Browser;

/// The id in the first `action="{prefix}<id>/…"` after `after` in `body`.
fn action_id(body: &str, after: &str, prefix: &str) -> String {
    let at = body.find(after).unwrap_or_else(|| panic!("no {after}"));
    let start = at + body[at..].find(prefix).unwrap() + prefix.len();
    let len = body[start..].find('/').unwrap();
    body[start..start + len].to_owned()
}

#[tokio::test]
async fn categories_tree_and_a_policy_that_changes_the_limits() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        let mut b = Browser::signed_in(&t, "admin").await;
        let desk = b.get("/admin/units").await;
        assert!(desk.body.contains("href=\"/admin/categories\""));
        assert!(desk.body.contains("href=\"/admin/catalogue\""));
        let page = b.get("/admin/categories").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("燃气泄漏") && page.body.contains("030201"));
        let csrf = page.hidden("_csrf");

        // Create a level-4 category under 停水, then rename and disable it.
        let parent = f.cat_water_cut.id.to_string();
        let form = [
            ("_csrf", csrf.as_str()),
            ("code", "03010101"),
            ("name", "夜间停水"),
            ("parent_id", parent.as_str()),
        ];
        let page = b.post("/admin/categories", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location().to_owned();
        let id = location
            .split("selected=")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .unwrap()
            .to_owned();
        let page = b.get(&location).await;
        assert!(page.body.contains("已新增"));
        assert!(page.body.contains("城乡建设 › 供水 › 停水 › 夜间停水"));
        assert!(page.body.contains("4级"));
        // A fifth level is refused, keeping the input.
        let form = [
            ("_csrf", csrf.as_str()),
            ("code", "0301010101"),
            ("name", "第五级"),
            ("parent_id", id.as_str()),
        ];
        let page = b.post("/admin/categories", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("value=\"第五级\""));
        assert!(page.body.contains("最多4级"), "{}", page.body);

        let page = b
            .post(
                &format!("/admin/categories/{id}"),
                &[("_csrf", csrf.as_str()), ("name", "夜间停水（改）")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b
            .post(
                &format!("/admin/categories/{id}/active"),
                &[("_csrf", csrf.as_str()), ("active", "0")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("夜间停水（改）"));
        assert!(page.body.contains("muted-row"));

        // A policy on 停水: shown with Chinese labels and used by limits_for.
        let before = t
            .app
            .limits_for(f.cat_water_cut.id, OrderType::Complaint, Urgency::Normal)
            .await
            .unwrap();
        assert_eq!(before.handle, TimeLimit::working_days(15));
        let path = format!("/admin/categories/{}/policies", f.cat_water_cut.id);
        let form = [
            ("_csrf", csrf.as_str()),
            ("step", "handle"),
            ("order_type", "complaint"),
            ("urgency", ""),
            ("amount", "7"),
            ("unit", "working_days"),
        ];
        let page = b.post(&path, &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(
            page.body
                .contains("<td>办结时限</td><td>投诉</td><td>全部</td><td>7</td><td>工作日</td>"),
            "{}",
            page.body
        );
        let after = t
            .app
            .limits_for(f.cat_water_cut.id, OrderType::Complaint, Urgency::Normal)
            .await
            .unwrap();
        assert_eq!(after.handle.amount, 7);
        assert_eq!(after.handle.unit, DeadlineUnit::WorkingDays);
        let other = t
            .app
            .limits_for(f.cat_gas_leak.id, OrderType::Complaint, Urgency::Normal)
            .await
            .unwrap();
        assert_eq!(other.handle, TimeLimit::working_days(15));

        // A bad amount is refused and the typed value kept.
        let form = [
            ("_csrf", csrf.as_str()),
            ("step", "sign"),
            ("order_type", ""),
            ("urgency", ""),
            ("amount", "0"),
            ("unit", "natural_hours"),
        ];
        let page = b.post(&path, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("value=\"0\""));
        assert!(page.body.contains("时限须在1到"));

        // Deleting the rule restores the default.
        let selected = format!("/admin/categories?selected={}", f.cat_water_cut.id);
        let page = b.get(&selected).await;
        let marker = format!("/admin/categories/{}/policies/", f.cat_water_cut.id);
        let policy = action_id(&page.body, "<td>办结时限</td>", &marker);
        let page = b
            .post(
                &format!("{marker}{policy}/delete"),
                &[("_csrf", csrf.as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("已删除"));
        assert!(!page.body.contains("<td>办结时限</td>"));
        let restored = t
            .app
            .limits_for(f.cat_water_cut.id, OrderType::Complaint, Urgency::Normal)
            .await
            .unwrap();
        assert_eq!(restored.handle, TimeLimit::working_days(15));

        // Without CSRF nothing changes.
        let page = b.post(&path, &form[1..]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn catalogue_entry_drives_the_suggestion() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        let mut b = Browser::signed_in(&t, "admin").await;
        let page = b.get("/admin/catalogue").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body
                .contains("<td>城乡建设 › 燃气</td><td>全市</td><td>市燃气集团</td>"),
            "{}",
            page.body
        );
        let csrf = page.hidden("_csrf");
        let before = t
            .app
            .suggest_units(f.cat_gas_leak.id, Some(f.district.id))
            .await
            .unwrap();
        assert!(!before.iter().any(|u| u.id == f.street.id));

        let category = f.cat_gas_leak.id.to_string();
        let district = f.district.id.to_string();
        let unit = f.street.id.to_string();
        let form = [
            ("_csrf", csrf.as_str()),
            ("category_id", category.as_str()),
            ("district_id", district.as_str()),
            ("unit_id", unit.as_str()),
            ("note", "街道先行处置"),
        ];
        let page = b.post("/admin/catalogue", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        let row = "<td>城乡建设 › 燃气 › 燃气泄漏</td><td>东城区分中心</td><td>东华门街道</td><td>街道先行处置</td>";
        assert!(page.body.contains(row), "{}", page.body);
        let after = t
            .app
            .suggest_units(f.cat_gas_leak.id, Some(f.district.id))
            .await
            .unwrap();
        assert!(after.iter().any(|u| u.id == f.street.id), "{after:?}");

        // An unknown unit is refused, keeping the note.
        let form = [
            ("_csrf", csrf.as_str()),
            ("category_id", category.as_str()),
            ("district_id", ""),
            ("unit_id", "999999"),
            ("note", "无此单位"),
        ];
        let page = b.post("/admin/catalogue", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("value=\"无此单位\""));

        let id = action_id(&page.body, row, "/admin/catalogue/");
        let page = b
            .post(
                &format!("/admin/catalogue/{id}/delete"),
                &[("_csrf", csrf.as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("已删除") && !page.body.contains(row));
        let gone = t
            .app
            .suggest_units(f.cat_gas_leak.id, Some(f.district.id))
            .await
            .unwrap();
        assert!(!gone.iter().any(|u| u.id == f.street.id));
    }
}

#[tokio::test]
async fn non_admins_get_403_on_categories_and_catalogue() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "agent1").await;
        for path in ["/admin/categories", "/admin/catalogue"] {
            assert_eq!(b.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        let csrf = b.csrf().await;
        let category = t.fixture.cat_gas.id.to_string();
        let unit = t.fixture.street.id.to_string();
        let page = b
            .post(
                "/admin/catalogue",
                &[
                    ("_csrf", csrf.as_str()),
                    ("category_id", category.as_str()),
                    ("unit_id", unit.as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let page = b
            .post(
                &format!("/admin/categories/{category}/policies"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("step", "handle"),
                    ("amount", "3"),
                    ("unit", "working_days"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
}
