//! An agent answers a call from the knowledge base in a real headless Chromium, on every backend:
//! on 来电登记 the agent searches the knowledge panel, picks an entry (据此答复 fills the answer
//! with its text), saves and closes directly with Alt+D; the order is closed with the entry and
//! the entry counts the use.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use browser::Browser;
use fantoccini::key::Key;
use minhu_domain::Role;
use reqwest::StatusCode;
use serde_json::json;
use support::app::{PASSWORD, start};
use support::db::all_backends;

#[tokio::test]
async fn an_agent_closes_a_call_with_a_knowledge_entry_found_from_intake() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        // A knowledge editor publishes the entry the agent will find.
        t.app
            .create_user_with_password(
                "knowledge1",
                "知识库管理员一",
                f.centre.id,
                &[Role::KnowledgeEditor],
                PASSWORD,
            )
            .await
            .unwrap();
        let editor = t.login("knowledge1").await;
        let (status, created) = t
            .post(
                &editor,
                "/api/v1/knowledge",
                json!({
                    "category_id": f.cat_water_cut.id,
                    "title": "计划停水的查询与应急供水",
                    "body": "## 答复口径\n\n计划停水会提前24小时在小区公告。停水期间可拨打供水服务热线申请应急供水车。",
                    "keywords": ["停水", "应急供水"],
                    "source_unit_id": f.water.id,
                    "visibility": "public"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let entry = created["id"].as_i64().unwrap();
        for action in ["submit", "approve"] {
            let (status, body) = t
                .post(
                    &editor,
                    &format!("/api/v1/knowledge/{entry}/{action}"),
                    json!({}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{action}: {body}");
        }

        let b = Browser::open(&t, "knowledge").await;
        b.sign_in("agent1", PASSWORD).await;
        b.goto("/orders/new").await;
        b.wait("#intake input[name=phone]").await;
        b.keys("13812345678").await;
        b.choose("#intake", "order_type", "consultation").await;
        b.fill("#intake [name=category]", "停水").await;
        b.fill("#intake [name=title]", "咨询什么时候来水").await;
        b.fill(
            "#intake [name=content]",
            "小区贴了停水通知，想问停水期间怎么用水。",
        )
        .await;

        // The agent searches the panel for 应急供水 and picks the entry.
        b.click("#kq").await;
        b.keys("应急供水").await;
        let pick = format!("#knowledge-panel input[name=knowledge_pick][value='{entry}']");
        b.wait(&pick).await;
        b.wait_text("#knowledge-panel", "计划").await;
        b.shot("01-knowledge-found").await;
        b.click(&pick).await;
        b.wait_until("the answer to be filled from the entry", || async {
            let answer = b
                .client
                .execute("return document.querySelector('#answer').value;", vec![])
                .await?;
            Ok(answer
                .as_str()
                .is_some_and(|a| a.contains("计划停水会提前24小时")))
        })
        .await;
        b.wait_text("#answer-source", "答复取自知识库").await;
        b.shot("02-answer-filled").await;

        // Alt+D: 保存并直接办结.
        b.click("#answer").await;
        b.keys_and_load(&format!("{}d{}", Key::Alt, Key::Null))
            .await;
        let path = b.wait_path("/orders/2").await;
        b.wait_text("main", "工单已登记并直接办结").await;
        b.shot("03-closed-with-entry").await;
        let number = path.trim_start_matches("/orders/").to_owned();

        let agent = t.login("agent1").await;
        let order = t.order(&agent, &number).await;
        assert_eq!(order["state"], json!("closed_direct"), "{}", t.backend());
        assert_eq!(order["knowledge_entry_id"], json!(entry), "{order}");
        assert!(
            order["reply"]
                .as_str()
                .is_some_and(|r| r.contains("应急供水车")),
            "{order}"
        );
        let (_, view) = t.get(&agent, &format!("/api/v1/knowledge/{entry}")).await;
        assert_eq!(view["used_count"], json!(1), "{view}");
        b.close().await;
    }
}
