//! The 系统公告 admin page: publish, edit and delete announcements, seen on everyone's desk, on
//! both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use minhu::service::announcements::{MAX_BODY, MAX_TITLE};
use reqwest::StatusCode;
use support::app::start;
use support::db::all_backends;
use web_support::Browser;

/// The id in the first `action="/admin/announcements/<id>/delete"` after `after` in `body`.
fn announcement_id(body: &str, after: &str) -> String {
    let at = body.find(after).unwrap_or_else(|| panic!("no {after}"));
    let prefix = "/admin/announcements/";
    let start = at + body[at..].find(prefix).unwrap() + prefix.len();
    let len = body[start..].find('"').unwrap();
    body[start..start + len].to_owned()
}

#[tokio::test]
async fn admin_publishes_edits_and_deletes_announcements() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "admin").await;
        let mut other = Browser::signed_in(&t, "agent1").await;

        let page = b.get("/admin/units").await;
        assert!(page.body.contains("href=\"/admin/announcements\""));
        let page = b.get("/admin/announcements").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page.hidden("_csrf");

        // Publish: listed with its author and a Chinese date, and on another user's desk.
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "停水通知测试"),
            ("body", "本周六全市检修管网。"),
        ];
        let page = b.post("/admin/announcements", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("已新增"));
        assert!(page.body.contains("<td>停水通知测试</td>"), "{}", page.body);
        assert!(page.body.contains("年") && page.body.contains("月"));
        let id = announcement_id(&page.body, "<td>停水通知测试</td>");
        let desk = other.get("/").await;
        assert!(desk.body.contains("停水通知测试"), "{}", desk.body);
        assert!(desk.body.contains("本周六全市检修管网。"));

        // Edit.
        let page = b.get(&format!("/admin/announcements/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("value=\"停水通知测试\""));
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "停水通知（更正）"),
            ("body", "改为周日检修。"),
        ];
        let page = b.post(&format!("/admin/announcements/{id}"), &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let desk = other.get("/").await;
        assert!(desk.body.contains("停水通知（更正）"));
        assert!(desk.body.contains("改为周日检修。"));
        assert!(!desk.body.contains("停水通知测试"));

        // An empty title is refused, keeping the body; on create and on edit.
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "  "),
            ("body", "保留的正文"),
        ];
        let page = b.post("/admin/announcements", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("保留的正文"), "{}", page.body);
        assert!(page.body.contains("公告标题不能为空"));
        let page = b.post(&format!("/admin/announcements/{id}"), &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("保留的正文"));

        // A non-admin gets 403 everywhere.
        let other_csrf = other.csrf().await;
        assert_eq!(
            other.get("/admin/announcements").await.status,
            StatusCode::FORBIDDEN
        );
        let form = [
            ("_csrf", other_csrf.as_str()),
            ("title", "越权"),
            ("body", "越权"),
        ];
        for path in [
            "/admin/announcements".to_owned(),
            format!("/admin/announcements/{id}"),
            format!("/admin/announcements/{id}/delete"),
        ] {
            let page = other.post(&path, &form).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        }

        // Delete.
        let page = b
            .post(
                &format!("/admin/announcements/{id}/delete"),
                &[("_csrf", csrf.as_str())],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(page.location()).await;
        assert!(page.body.contains("已删除"));
        assert!(!page.body.contains("停水通知（更正）"));
        let desk = other.get("/").await;
        assert!(!desk.body.contains("停水通知（更正）"));

        // The changes are audited.
        let actions: Vec<String> = t
            .app
            .store
            .list_audit(50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in [
            "create_announcement",
            "update_announcement",
            "delete_announcement",
        ] {
            assert!(actions.iter().any(|a| a == action), "{action}");
        }
    }
}

#[tokio::test]
async fn the_body_limit_is_one_constant_everywhere() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut b = Browser::signed_in(&t, "admin").await;
        let page = b.get("/admin/announcements").await;
        let csrf = page.hidden("_csrf");
        // The form's maxlength is the service's limit.
        let maxlength = format!("maxlength=\"{MAX_BODY}\"");
        assert!(page.body.contains(&maxlength), "{}", page.body);
        assert!(page.body.contains(&format!("maxlength=\"{MAX_TITLE}\"")));

        // A body at the limit is published, on create and on edit; line breaks sent as CRLF
        // count as one character, as the browser counted them against maxlength.
        let at_limit = "长".repeat(MAX_BODY);
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "长公告"),
            ("body", at_limit.as_str()),
        ];
        let page = b.post("/admin/announcements", &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get("/admin/announcements").await;
        let id = announcement_id(&page.body, "<td>长公告</td>");
        let lines = format!(
            "{}\r\n{}",
            "行".repeat(MAX_BODY / 2),
            "行".repeat(MAX_BODY / 2 - 1)
        );
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "长公告"),
            ("body", lines.as_str()),
        ];
        let page = b.post(&format!("/admin/announcements/{id}"), &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = b.get(&format!("/admin/announcements/{id}")).await;
        assert!(page.body.contains(&lines.replace("\r\n", "\n")));
        assert!(page.body.contains(&maxlength), "the edit form too");

        // One character more is refused with the limit in Chinese, the text kept.
        let over = format!("{at_limit}多");
        let form = [
            ("_csrf", csrf.as_str()),
            ("title", "超长公告"),
            ("body", over.as_str()),
        ];
        for path in [
            "/admin/announcements".to_owned(),
            format!("/admin/announcements/{id}"),
        ] {
            let page = b.post(&path, &form).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            assert!(
                page.body.contains(&format!("公告内容不超过{MAX_BODY}字")),
                "{path}: {}",
                page.body
            );
            assert!(page.body.contains(&over), "{path}: the text is kept");
            assert!(page.body.contains("value=\"超长公告\""), "{path}");
        }
        let titles: Vec<String> = t
            .app
            .store
            .list_all_announcements()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.title)
            .collect();
        assert_eq!(
            titles,
            vec!["长公告".to_owned()],
            "nothing over the limit stored"
        );
    }
}
