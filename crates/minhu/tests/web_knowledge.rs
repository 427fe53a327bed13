//! The 知识库 pages over HTTP, on every backend: browse and search with highlighted words,
//! Markdown rendered safely, the menu by role, a unit writing an entry through the editor (field
//! messages with the input kept, a stale revision), the editor's review queue and the review
//! forms (htmx and plain), 标记有用, CSRF, and the suggestions panel for intake.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use minhu_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;
use web_support::{Browser, Page};

async fn add_editor(t: &TestApp) {
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
}

/// Creates and publishes an entry through the API as `knowledge1`; returns its id.
async fn publish(t: &TestApp, body: Value) -> i64 {
    let token = t.login("knowledge1").await;
    let (status, created) = t.post(&token, "/api/v1/knowledge", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    for action in ["submit", "approve"] {
        let (status, view) = t
            .post(
                &token,
                &format!("/api/v1/knowledge/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
    }
    id
}

fn water_entry(t: &TestApp, title: &str, body: &str) -> Value {
    json!({
        "category_id": t.fixture.cat_water_cut.id,
        "title": title,
        "body": body,
        "keywords": ["停水"],
        "source_unit_id": t.fixture.water.id,
        "visibility": "public"
    })
}

/// The id in a `/knowledge/{id}?done=…` redirect.
fn id_of(page: &Page) -> i64 {
    let location = page.location();
    let rest = location.strip_prefix("/knowledge/").unwrap_or_else(|| {
        panic!("not an entry: {location} ({})", page.body);
    });
    rest.split(['?', '/']).next().unwrap().parse().unwrap()
}

/// POSTs a form as htmx does.
async fn htmx_post(b: &mut Browser, path: &str, form: &[(&str, &str)]) -> Page {
    let request = b
        .client
        .post(format!("{}{path}", b.base))
        .header("hx-request", "true")
        .form(form);
    b.send(request).await
}

#[tokio::test]
async fn browse_search_and_read_with_markdown_shown_safely() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        add_editor(&t).await;
        let id = publish(
            &t,
            water_entry(
                &t,
                "二次供水水箱清洗停水安排",
                "水箱清洗当天**停水4小时**。\n\n- 提前三天通知\n- 咨询 [水务集团](https://water.example.cn)\n\n<script>alert('x')</script> <img src=x onerror=alert(1)>",
            ),
        )
        .await;
        let mut lamps = water_entry(&t, "路灯报修渠道", "路灯不亮请登记灯杆编号。");
        lamps["keywords"] = json!(["路灯"]);
        publish(&t, lamps).await;

        let mut agent = Browser::signed_in(&t, "agent1").await;
        let desk = agent.get("/").await;
        assert!(desk.body.contains("href=\"/knowledge\""), "{backend}: menu");
        let page = agent.get("/knowledge").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("共 2 条"), "{backend}");
        assert!(
            page.headers
                .get("content-security-policy")
                .is_some_and(|v| v.to_str().unwrap().contains("script-src 'self'"))
        );
        assert!(!page.body.contains("新建知识"), "agents write no knowledge");
        let page = agent.get("/knowledge?q=停水").await;
        assert!(
            page.body.contains("<mark>停水</mark>"),
            "{backend}: {}",
            page.body
        );
        assert!(!page.body.contains("路灯报修渠道"));
        let page = agent.get("/knowledge?q=的").await;
        assert!(page.body.contains("没有可检索的词"), "{}", page.body);

        // The entry: Markdown rendered, HTML written by a person shown as text.
        let page = agent.get(&format!("/knowledge/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("<strong>停水4小时</strong>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("<li>提前三天通知</li>"));
        assert!(page.body.contains("href=\"https://water.example.cn\""));
        assert!(!page.body.contains("<script>alert"), "{backend}");
        assert!(!page.body.contains("<img"), "{backend}");
        assert!(page.body.contains("&lt;script&gt;"));
        assert!(!page.body.contains(&format!("/knowledge/{id}/edit")));
        assert!(page.body.contains("标记有用"));
        assert!(
            !page.body.contains("/act/approve"),
            "{backend}: agents do not review"
        );

        // 标记有用 through the form, with and without the CSRF token.
        let csrf = page.hidden("_csrf");
        let revision = page.hidden("revision");
        let refused = agent
            .post(
                &format!("/knowledge/{id}/act/mark_helpful"),
                &[("revision", revision.as_str())],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let done = agent
            .post(
                &format!("/knowledge/{id}/act/mark_helpful"),
                &[("_csrf", csrf.as_str()), ("revision", revision.as_str())],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let page = agent.get(done.location()).await;
        assert!(page.body.contains("操作成功：标记有用"), "{}", page.body);
        assert!(page.body.contains("1 次"));

        // Reviewing is for knowledge editors; the admin has no 知识库 at all.
        assert_eq!(
            agent.get("/knowledge/review").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            agent.get("/knowledge/new").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            agent.get("/knowledge/999999").await.status,
            StatusCode::NOT_FOUND
        );
        let mut admin = Browser::signed_in(&t, "admin").await;
        assert!(!admin.get("/").await.body.contains("href=\"/knowledge\""));

        // The suggestions panel for intake: radios naming the entries.
        let panel = agent
            .get(&format!(
                "/knowledge/suggest?category_id={}&title=小区停水&content=",
                t.fixture.cat_water_cut.id
            ))
            .await;
        assert_eq!(panel.status, StatusCode::OK);
        assert!(
            panel
                .body
                .contains(&format!("name=\"knowledge_entry_id\" value=\"{id}\"")),
            "{backend}: {}",
            panel.body
        );
        assert!(panel.body.contains("同一分类"));
        let empty = agent.get("/knowledge/suggest").await;
        assert!(!empty.body.contains("knowledge_entry_id"));
    }
}

#[tokio::test]
async fn a_unit_writes_and_the_editor_reviews_through_the_pages() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        add_editor(&t).await;
        let mut unit = Browser::signed_in(&t, "unit_water1").await;
        let mut editor = Browser::signed_in(&t, "knowledge1").await;
        let category = t.fixture.cat_water_cut.id.to_string();

        // The editor form; a missing title is said next to the field, the rest kept.
        let form = unit.get("/knowledge/new").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(
            form.body.contains("市自来水集团"),
            "the unit speaks for itself"
        );
        let csrf = form.hidden("_csrf");
        let mut fields = vec![
            ("_csrf", csrf.as_str()),
            ("title", ""),
            ("category_id", category.as_str()),
            ("keywords", "水压，低水压"),
            ("body", "高峰期水压偏低属正常现象，如长期低于标准请报修。"),
            ("visibility", "public"),
            ("effective_from", ""),
            ("expires_at", ""),
        ];
        let page = unit.post("/knowledge/new", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(page.body.contains("标题不能为空"), "{}", page.body);
        assert!(page.body.contains("高峰期水压偏低属正常现象"));
        assert!(page.body.contains("value=\"水压，低水压\""));
        fields[1] = ("title", "高峰期水压低的答复口径");
        fields[7] = ("expires_at", "后天");
        let page = unit.post("/knowledge/new", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("时间格式不正确"), "{}", page.body);
        fields[7] = ("expires_at", "");
        let page = unit.post("/knowledge/new", &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let id = id_of(&page);
        let path = format!("/knowledge/{id}");
        let page = unit.get(page.location()).await;
        assert!(page.body.contains("操作成功：新建知识"), "{}", page.body);
        assert!(page.body.contains("草稿"));

        // Submitted through the htmx form.
        let revision = page.hidden("revision");
        let done = htmx_post(
            &mut unit,
            &format!("{path}/act/submit"),
            &[("_csrf", csrf.as_str()), ("revision", revision.as_str())],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

        // The editor's queue; a rejection needs a note (htmx: 200 with the message in place).
        let queue = editor.get("/knowledge/review").await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(queue.body.contains("高峰期水压低的答复口径"), "{backend}");
        let page = editor.get(&path).await;
        let ecsrf = page.hidden("_csrf");
        let revision = page.hidden("revision");
        let refused = htmx_post(
            &mut editor,
            &format!("{path}/act/reject"),
            &[
                ("_csrf", ecsrf.as_str()),
                ("revision", revision.as_str()),
                ("note", " "),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::OK);
        assert!(
            refused.body.contains("退回意见不能为空"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains("id=\"knowledge-panel\""));
        let refused = editor
            .post(
                &format!("{path}/act/reject"),
                &[("_csrf", ecsrf.as_str()), ("revision", revision.as_str())],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let done = editor
            .post(
                &format!("{path}/act/reject"),
                &[
                    ("_csrf", ecsrf.as_str()),
                    ("revision", revision.as_str()),
                    ("note", "请补充水压标准和报修电话"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

        // The unit sees why, edits (a stale revision is refused, the input kept) and resubmits.
        let page = unit.get(&path).await;
        assert!(
            page.body.contains("审核退回：请补充水压标准和报修电话"),
            "{}",
            page.body
        );
        let form = unit.get(&format!("{path}/edit")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("value=\"高峰期水压低的答复口径\""));
        let revision = form.hidden("revision");
        let stale = (revision.parse::<i64>().unwrap() - 1).to_string();
        let mut fields = vec![
            ("_csrf", csrf.as_str()),
            ("revision", stale.as_str()),
            ("title", "高峰期水压低的答复口径"),
            ("category_id", category.as_str()),
            ("keywords", "水压，低水压"),
            (
                "body",
                "用户端水压不低于0.14兆帕；长期偏低请拨打0871-65119600报修。",
            ),
            ("visibility", "public"),
            ("effective_from", ""),
            ("expires_at", ""),
        ];
        let page = unit.post(&format!("{path}/edit"), &fields).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{backend}");
        assert!(page.body.contains("知识已被他人修改"), "{}", page.body);
        assert!(page.body.contains("0.14兆帕"));
        fields[1] = ("revision", revision.as_str());
        let page = unit.post(&format!("{path}/edit"), &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = unit.get(&path).await;
        let revision = page.hidden("revision");
        let done = unit
            .post(
                &format!("{path}/act/submit"),
                &[("_csrf", csrf.as_str()), ("revision", revision.as_str())],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);

        // Approved: found by agents at once, with its history.
        let page = editor.get(&path).await;
        let revision = page.hidden("revision");
        let done = editor
            .post(
                &format!("{path}/act/approve"),
                &[("_csrf", ecsrf.as_str()), ("revision", revision.as_str())],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let mut agent = Browser::signed_in(&t, "agent1").await;
        let page = agent.get("/knowledge?q=水压").await;
        assert!(
            page.body.contains("<mark>水压</mark>"),
            "{backend}: {}",
            page.body
        );
        let page = agent.get(&path).await;
        assert!(page.body.contains("0.14兆帕"));
        for line in ["新建知识", "提交审核", "审核退回", "编辑", "审核通过"] {
            assert!(page.body.contains(line), "{backend}: {line}");
        }
        assert!(
            editor
                .get("/knowledge/review")
                .await
                .body
                .contains("没有待审核的知识")
        );
    }
}
