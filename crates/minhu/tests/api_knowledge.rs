//! The knowledge base (知识库) through the API, on every backend: the review life cycle (a unit
//! submits, the editor rejects with a note, the unit edits and resubmits, the editor approves;
//! an edit while published keeps the old version live until the new one is approved), search
//! right after approval and not before, who may read and do what (stable codes), internal
//! entries, suggestions for an order, and closing an order directly with an entry.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;

use minhu::service::knowledge::KnowledgeQuery;
use minhu::storage::PageRequest;
use minhu_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{PASSWORD, TestApp, assert_error, start};
use support::db::all_backends;

/// Adds the knowledge editor `knowledge1` at the centre and signs in.
async fn editor(t: &TestApp) -> String {
    t.app
        .create_user_with_password(
            "knowledge1",
            "知识库管理员一",
            t.fixture.centre.id,
            &[Role::KnowledgeEditor],
            PASSWORD,
        )
        .await
        .unwrap();
    t.login("knowledge1").await
}

fn entry(t: &TestApp, unit_id: i64, title: &str, body: &str, keywords: &[&str]) -> Value {
    json!({
        "category_id": t.fixture.cat_water_cut.id,
        "title": title,
        "body": body,
        "keywords": keywords,
        "source_unit_id": unit_id,
        "visibility": "public"
    })
}

async fn create(t: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = t.post(token, "/api/v1/knowledge", body).await;
    assert_eq!(status, StatusCode::CREATED, "{}: {created}", t.backend());
    created
}

async fn act(t: &TestApp, token: &str, id: i64, action: &str, body: Value) -> Value {
    let (status, view) = t
        .post(token, &format!("/api/v1/knowledge/{id}/{action}"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{action} ({}): {view}", t.backend());
    view
}

/// Creates, submits and approves an entry as the editor; returns its id.
async fn published(t: &TestApp, editor: &str, body: Value) -> i64 {
    let id = create(t, editor, body).await["id"].as_i64().unwrap();
    act(t, editor, id, "submit", json!({})).await;
    act(t, editor, id, "approve", json!({})).await;
    id
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(t: &TestApp, token: &str, q: &str) -> Vec<String> {
    let (status, page) = t.get(token, &format!("/api/v1/knowledge?q={q}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    titles(&page)
}

#[tokio::test]
async fn review_life_cycle_from_a_unit_to_publication() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = t.fixture.clone();
        let editor = editor(&t).await;
        let agent = t.login("agent1").await;
        let water = t.login("unit_water1").await;
        let gas = t.login("unit_gas1").await;

        // A unit writes its own policy (政策更新); not for another unit, and agents write none.
        let body = entry(
            &t,
            f.water.id,
            "二次供水水箱清洗后的停水安排",
            "二次供水水箱每半年清洗一次，清洗当天**停水4小时**，提前三天张贴通知。",
            &["水箱清洗", "停水"],
        );
        let answer = t
            .post(
                &water,
                "/api/v1/knowledge",
                entry(&t, f.gas.id, "燃气", "正文正文", &[]),
            )
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("source_unit_id"),
        );
        let answer = t.post(&agent, "/api/v1/knowledge", body.clone()).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let mut bad = body.clone();
        bad["title"] = json!("  ");
        let answer = t.post(&water, "/api/v1/knowledge", bad).await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("title"),
        );
        let mut bad = body.clone();
        bad["category_id"] = json!(999_999);
        let answer = t.post(&water, "/api/v1/knowledge", bad).await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("category_id"),
        );
        let draft = create(&t, &water, body.clone()).await;
        let id = draft["id"].as_i64().unwrap();
        assert_eq!(draft["state"], "draft", "{backend}");
        assert_eq!(draft["revision"], 1);
        assert_eq!(draft["available_actions"], json!(["edit", "submit"]));
        let path = format!("/api/v1/knowledge/{id}");

        // A draft is the unit's and the editors' only.
        assert_error(
            &t.get(&agent, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
        assert_error(
            &t.get(&gas, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
        assert!(search(&t, &agent, "水箱清洗").await.is_empty());
        assert_eq!(t.get(&editor, &path).await.0, StatusCode::OK);

        // Submitted; a unit never approves.
        let view = act(&t, &water, id, "submit", json!({"revision": 1})).await;
        assert_eq!(view["state"], "in_review");
        let answer = t.post(&water, &format!("{path}/approve"), json!({})).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        let answer = t.post(&water, &format!("{path}/submit"), json!({})).await;
        assert_error(&answer, StatusCode::CONFLICT, "invalid_state", None);
        let (_, queue) = t.get(&editor, "/api/v1/knowledge?state=in_review").await;
        assert_eq!(
            titles(&queue),
            vec!["二次供水水箱清洗后的停水安排"],
            "{backend}"
        );
        assert!(search(&t, &agent, "水箱清洗").await.is_empty());

        // Rejected with a note (required).
        let answer = t
            .post(&editor, &format!("{path}/reject"), json!({"note": " "}))
            .await;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("note"),
        );
        let view = act(
            &t,
            &editor,
            id,
            "reject",
            json!({"note": "请写明通知渠道和咨询电话"}),
        )
        .await;
        assert_eq!(view["state"], "draft");
        assert_eq!(
            view["versions"][0]["review_note"],
            "请写明通知渠道和咨询电话"
        );
        let revision = view["revision"].as_i64().unwrap();

        // The unit edits (a stale revision is refused) and resubmits.
        let mut changed = body.clone();
        changed["body"] = json!(
            "二次供水水箱每半年清洗一次，清洗当天**停水4小时**，提前三天在楼道张贴通知，咨询电话0871-65119600。"
        );
        changed["revision"] = json!(revision - 1);
        assert_error(
            &t.put(&water, &path, changed.clone()).await,
            StatusCode::CONFLICT,
            "version_conflict",
            Some("revision"),
        );
        changed["revision"] = json!(revision);
        let (status, view) = t.put(&water, &path, changed.clone()).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(
            view["versions"].as_array().unwrap().len(),
            1,
            "edited in place"
        );
        act(&t, &water, id, "submit", json!({})).await;
        let view = act(&t, &editor, id, "approve", json!({"note": "同意发布"})).await;
        assert_eq!(view["state"], "published", "{backend}");
        assert_eq!(view["published_version"], 1);

        // Findable at once, by everyone; the words to highlight come back.
        let (_, page) = t.get(&agent, "/api/v1/knowledge?q=水箱清洗").await;
        assert_eq!(titles(&page), vec!["二次供水水箱清洗后的停水安排"]);
        assert_eq!(page["query_words"], json!(["水箱", "清洗"]));
        assert!(
            page["items"][0]["excerpt"]
                .as_str()
                .unwrap()
                .contains("停水4小时")
        );
        assert_eq!(search(&t, &gas, "水箱").await.len(), 1, "{backend}");
        let view = t.get(&agent, &path).await.1;
        assert_eq!(view["available_actions"], json!(["mark_helpful"]));

        // An edit while published: the old version stays live until the new one is approved.
        let mut v2 = changed.clone();
        v2["title"] = json!("二次供水水箱清洗停水安排（2027年版）");
        v2["revision"] = Value::Null;
        let (status, view) = t.put(&water, &path, v2).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["state"], "published");
        assert_eq!(view["latest_version"], 2);
        assert_eq!(view["title"], "二次供水水箱清洗后的停水安排");
        act(&t, &water, id, "submit", json!({})).await;
        let agent_view = t.get(&agent, &path).await.1;
        assert_eq!(agent_view["title"], "二次供水水箱清洗后的停水安排");
        assert!(search(&t, &agent, "2027年版").await.is_empty(), "{backend}");
        let (_, queue) = t.get(&editor, "/api/v1/knowledge?state=in_review").await;
        assert_eq!(queue["total"], 1, "{backend}: the change waits for review");
        let view = act(&t, &editor, id, "approve", json!({})).await;
        assert_eq!(view["title"], "二次供水水箱清洗停水安排（2027年版）");
        assert_eq!(view["versions"][0]["state"], "superseded");
        assert_eq!(view["versions"][1]["state"], "published");
        assert_eq!(
            search(&t, &agent, "2027").await,
            vec!["二次供水水箱清洗停水安排（2027年版）"],
            "{backend}"
        );
        let actions: Vec<&str> = view["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            vec![
                "create", "submit", "reject", "edit", "submit", "approve", "edit", "submit",
                "approve"
            ]
        );

        // Withdrawn: gone from search and from agents; the unit still sees its entry.
        let answer = t
            .post(&water, &format!("{path}/withdraw"), json!({"reason": "x"}))
            .await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", None);
        act(&t, &editor, id, "withdraw", json!({"reason": "政策调整"})).await;
        assert!(search(&t, &agent, "水箱").await.is_empty());
        assert_eq!(t.get(&agent, &path).await.0, StatusCode::NOT_FOUND);
        assert_eq!(t.get(&water, &path).await.1["state"], "withdrawn");
        // Unknown ids and actions.
        assert_error(
            &t.get(&agent, "/api/v1/knowledge/999999").await,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        );
        assert_eq!(
            t.post(&editor, &format!("{path}/publish"), json!({}))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_error(
            &t.get("", "/api/v1/knowledge").await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        );
    }
}

#[tokio::test]
async fn search_browse_internal_entries_and_suggestions() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = t.fixture.clone();
        let editor = editor(&t).await;
        let agent = t.login("agent1").await;
        let gas = t.login("unit_gas1").await;

        published(
            &t,
            &editor,
            entry(
                &t,
                f.water.id,
                "突发停水的查询渠道及答复口径",
                "市民反映家中突然没水时，先查临时知识库，再确认是单户、整栋还是整个小区没水。",
                &["停水", "没水"],
            ),
        )
        .await;
        let mut internal = entry(
            &t,
            f.water.id,
            "停水投诉的内部处置要求",
            "大面积停水超过24小时的，报分管领导；不对外公开抢修进度预估。",
            &["停水", "内部口径"],
        );
        internal["visibility"] = json!("internal");
        published(&t, &editor, internal).await;
        let mut gas_entry = entry(
            &t,
            f.gas.id,
            "燃气泄漏的应急处置",
            "闻到燃气味请立即关闭阀门、开窗通风，不要开关电器，到室外拨打燃气抢修电话。",
            &["燃气泄漏", "漏气"],
        );
        gas_entry["category_id"] = json!(f.cat_gas_leak.id);
        published(&t, &editor, gas_entry).await;
        let mut temporary = entry(
            &t,
            f.water.id,
            "东华门街道今日计划停水",
            "因管网改造，东华门街道多福巷一带今日9:00至18:00停水，水务集团设临时取水点。",
            &["计划停水", "多福巷"],
        );
        temporary["temporary"] = json!(true);
        temporary["expires_at"] =
            json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339());
        published(&t, &editor, temporary).await;

        // Live temporary entries first, then the best matches; internal ones for staff.
        let mut found = search(&t, &agent, "停水").await;
        assert_eq!(found[0], "东华门街道今日计划停水", "{backend}");
        found.sort();
        assert_eq!(
            found,
            vec![
                "东华门街道今日计划停水",
                "停水投诉的内部处置要求",
                "突发停水的查询渠道及答复口径"
            ],
            "{backend}"
        );
        assert_eq!(search(&t, &gas, "停水").await.len(), 3, "units are staff");
        // Citizens get the public ones only.
        let citizen = t
            .app
            .citizen_knowledge(
                Some("停水"),
                PageRequest {
                    limit: 20,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let shown: Vec<&str> = citizen
            .page
            .items
            .iter()
            .map(|i| i.entry.content.title.as_str())
            .collect();
        assert_eq!(shown.len(), 2, "{backend}: {shown:?}");
        assert!(!shown.contains(&"停水投诉的内部处置要求"));
        // Browse by category; every word required, then any.
        let (_, page) = t
            .get(
                &agent,
                &format!("/api/v1/knowledge?category_id={}", f.cat_gas.id),
            )
            .await;
        assert_eq!(titles(&page), vec!["燃气泄漏的应急处置"]);
        let (_, page) = t.get(&agent, "/api/v1/knowledge?q=停水 燃气").await;
        assert_eq!(page["any_word"], true, "{backend}");
        assert_eq!(page["total"], 4);
        let (_, page) = t.get(&agent, "/api/v1/knowledge?q=燃气 漏气").await;
        assert_eq!(
            (page["any_word"].as_bool(), page["total"].as_i64()),
            (Some(false), Some(1))
        );
        assert_error(
            &t.get(&agent, "/api/v1/knowledge?q=%E7%9A%84%EF%BC%8C")
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("q"),
        );
        assert_error(
            &t.get(&agent, "/api/v1/knowledge?state=superseded").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("state"),
        );
        assert_error(
            &t.get(&agent, "/api/v1/knowledge?per_page=500").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
            Some("per_page"),
        );
        // The service's own query type answers the same.
        let results = t
            .app
            .search_knowledge(
                &t.app.authenticate(&agent).await.unwrap(),
                &KnowledgeQuery {
                    q: Some("漏气".to_owned()),
                    ..KnowledgeQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(results.page.total, 1);

        // Suggestions for an order being registered: its words and its category.
        let (status, answer) = t
            .get(
                &agent,
                &format!(
                    "/api/v1/knowledge/suggest?category_id={}&title=小区停水&text=家里突然没水了，问什么时候来水",
                    f.cat_water_cut.id
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let items = answer["items"].as_array().unwrap();
        assert!(items.len() >= 3 && items.len() <= 5, "{backend}: {answer}");
        assert_eq!(
            items[0]["entry"]["title"], "东华门街道今日计划停水",
            "{answer}"
        );
        assert!(
            items
                .iter()
                .all(|i| i["entry"]["title"] != "燃气泄漏的应急处置"),
            "{backend}: {answer}"
        );
        let reasons = items[1]["reasons"].to_string();
        assert!(
            reasons.contains("同一分类") && reasons.contains("停水"),
            "{reasons}"
        );
        let (_, answer) = t
            .get(&agent, "/api/v1/knowledge/suggest?text=闻到燃气味")
            .await;
        assert_eq!(answer["items"][0]["entry"]["title"], "燃气泄漏的应急处置");

        // 标记有用 counts on live entries only.
        let id = items[1]["entry"]["id"].as_i64().unwrap();
        let view = act(&t, &agent, id, "helpful", json!({})).await;
        assert_eq!(view["helpful_count"], 1, "{backend}");
        let revision = view["revision"].clone();
        let view = act(&t, &gas, id, "helpful", json!({"revision": 1})).await;
        assert_eq!(view["helpful_count"], 2);
        assert_eq!(view["revision"], revision, "counting is not an edit");
    }
}

#[tokio::test]
async fn closing_an_order_directly_with_an_entry_counts_a_use() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = t.fixture.clone();
        let editor = editor(&t).await;
        let agent = t.login("agent1").await;
        let live = published(
            &t,
            &editor,
            entry(
                &t,
                f.water.id,
                "突发停水的查询渠道",
                "先查临时知识库，再确认范围，大面积没水的派水务集团。",
                &["停水"],
            ),
        )
        .await;
        let draft = create(
            &t,
            &editor,
            entry(&t, f.water.id, "草稿", "尚未发布的内容。", &["停水"]),
        )
        .await["id"]
            .as_i64()
            .unwrap();

        let order = t.register(&agent, f.new_order()).await;
        let number = order["number"].as_str().unwrap().to_owned();
        for (bad, why) in [(999_999, "unknown"), (draft, "a draft")] {
            let answer = t
                .act(
                    &agent,
                    &number,
                    "close_direct",
                    json!({"answer": "已答复市民停水原因和恢复时间。", "knowledge_entry_id": bad}),
                )
                .await;
            assert_error(
                &answer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                Some("knowledge_entry_id"),
            );
            let order = t.order(&agent, &number).await;
            assert_eq!(order["state"], "registered", "{backend}: {why}");
        }
        let closed = t
            .act_ok(
                &agent,
                &number,
                "close_direct",
                json!({"answer": "已答复市民停水原因和恢复时间。", "knowledge_entry_id": live}),
            )
            .await;
        assert_eq!(closed["state"], "closed_direct", "{backend}");
        assert_eq!(closed["knowledge_entry_id"], live);
        let (_, view) = t.get(&agent, &format!("/api/v1/knowledge/{live}")).await;
        assert_eq!(view["used_count"], 1, "{backend}");
        let last = view["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "record_use");
        assert_eq!(last["details"]["order_id"], closed["id"]);
    }
}
