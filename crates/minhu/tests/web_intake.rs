//! The intake page (来电登记) over HTTP: registering by form with the category found by name,
//! validation errors that keep every value, direct closing, the caller panel, the area cascade,
//! and a form posted after the session expired that survives the sign-in, on both backends.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::{PASSWORD, TestApp, start};
use support::db::all_backends;
use web_support::Browser;

fn intake_form(t: &TestApp, csrf: &str, then: &str) -> Vec<(&'static str, String)> {
    let f = &t.fixture;
    vec![
        ("_csrf", csrf.to_owned()),
        ("phone", "13812345678".to_owned()),
        ("name", "李四".to_owned()),
        ("caller_tags", "elderly".to_owned()),
        ("order_type", "complaint".to_owned()),
        ("category", "停水".to_owned()),
        ("urgency", "normal".to_owned()),
        ("district_id", f.district.id.to_string()),
        ("street_id", f.street.id.to_string()),
        ("community_id", f.community.id.to_string()),
        ("address", "多福巷3号".to_owned()),
        ("title", "多福巷停水".to_owned()),
        ("content", "多福巷3号从早上开始停水。".to_owned()),
        ("then", then.to_owned()),
    ]
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn register_by_form_with_errors_kept_and_direct_close() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut a = Browser::signed_in(&t, "agent1").await;
        let page = a.get("/orders/new").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("accesskey=\"s\"") && page.body.contains("Alt"));
        assert!(page.body.contains("030101 停水"), "the category picker");
        let csrf = page.hidden("_csrf");

        // A phone that is not one: the message next to the phone, every value kept.
        let mut form = intake_form(&t, &csrf, "save");
        form[1].1 = "12".to_owned();
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("来电号码格式不正确"), "{}", page.body);
        assert!(page.body.contains("value=\"多福巷停水\""));
        assert!(page.body.contains("多福巷3号从早上开始停水。"));
        assert!(page.body.contains("value=\"elderly\" checked"));
        // An unknown category and a direct close without an answer.
        let mut form = intake_form(&t, &csrf, "close");
        form[5].1 = "没有这个分类".to_owned();
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("请从列表中选择问题分类"));
        assert!(page.body.contains("直接办结须填写答复内容"));

        let page = a
            .post("/orders/new", &pairs(&intake_form(&t, &csrf, "save")))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let number = page
            .location()
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let agent = t.login("agent1").await;
        let order = t.order(&agent, &number).await;
        assert_eq!(order["state"], "registered");
        assert_eq!(order["category_id"], t.fixture.cat_water_cut.id);
        assert_eq!(order["citizen"]["tags"], json!(["elderly"]));

        let mut form = intake_form(&t, &csrf, "close");
        form.push(("answer", "已告知市民停水原因及恢复时间。".to_owned()));
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.location().ends_with("?done=register_close"),
            "{}",
            page.location()
        );

        // The caller panel lists the earlier orders of the phone.
        let panel = a.get("/orders/new/caller?phone=13812345678").await;
        assert!(panel.body.contains(&number), "{}", panel.body);
        assert!(panel.body.contains("老年人") && panel.body.contains("重复来电"));
        let areas = a
            .get(&format!(
                "/orders/new/areas?district_id={}",
                t.fixture.district.id
            ))
            .await;
        assert!(areas.body.contains("东华门街道"));

        // Without the agent role the page is refused.
        let mut w = Browser::signed_in(&t, "unit_water1").await;
        assert_eq!(w.get("/orders/new").await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_form_posted_after_the_session_expired_is_kept() {
    for db in all_backends().await {
        let t = start(db).await;
        let mut a = Browser::signed_in(&t, "agent1").await;
        let csrf = a.get("/orders/new").await.hidden("_csrf");
        // The session ends (another tab signed out).
        let token = a.cookies.get("minhu_session").unwrap().clone();
        t.app.logout(&token).await.unwrap();
        let page = a
            .post("/orders/new", &pairs(&intake_form(&t, &csrf, "save")))
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("登录已过期"));
        let replay_body = page.hidden("replay_body");
        assert!(replay_body.contains("title="), "{replay_body}");
        let login_csrf = page.hidden("_csrf");
        let page = a
            .post(
                "/login",
                &[
                    ("_csrf", login_csrf.as_str()),
                    ("username", "agent1"),
                    ("password", PASSWORD),
                    ("replay_to", "/orders/new"),
                    ("replay_body", replay_body.as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("继续提交"));
        assert!(page.body.contains("value=\"多福巷停水\""));
        let new_csrf = page.hidden("_csrf");
        assert_ne!(new_csrf, csrf, "a new session, a new token");
        // Confirming posts the kept form with the new token.
        let mut form = intake_form(&t, &new_csrf, "save");
        form[0].1 = new_csrf.clone();
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
}

/// Whether the answer ticks the caller-tag checkbox `code`.
fn ticked(body: &str, code: &str) -> bool {
    body.contains(&format!("name=\"caller_tags\" value=\"{code}\" checked"))
}

#[tokio::test]
async fn the_area_cascade_resets_the_street_and_the_community() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        let mut a = Browser::signed_in(&t, "agent1").await;
        let page = a.get("/orders/new").await;
        // Each select asks only for its own level; Tab order is the document order.
        assert!(page.body.contains(
            "id=\"district_id\" name=\"district_id\" hx-get=\"/orders/new/areas\" hx-target=\"#street_id\""
        ));
        assert!(page.body.contains(
            "id=\"street_id\" name=\"street_id\" hx-get=\"/orders/new/areas\" hx-target=\"#community_id\""
        ));

        // A district: its streets, none chosen, and the community select emptied out of band.
        let page = a
            .get(&format!("/orders/new/areas?district_id={}", f.district.id))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .starts_with("<option value=\"\">（街道/乡镇）</option>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains(&format!("<option value=\"{}\">", f.street.id))
        );
        assert!(!page.body.contains("selected"));
        assert!(
            page.body.ends_with(
                "<select id=\"community_id\" hx-swap-oob=\"innerHTML\"><option value=\"\">（社区/村）</option></select>"
            ),
            "{}",
            page.body
        );
        assert!(!page.body.contains(&format!("value=\"{}\"", f.community.id)));
        // No district: both lists hold their placeholder only.
        let page = a.get("/orders/new/areas?district_id=").await;
        assert!(
            page.body
                .starts_with("<option value=\"\">（街道/乡镇）</option><select")
        );
        assert!(page.body.contains("hx-swap-oob"));

        // A street: its communities, nothing out of band.
        let page = a
            .get(&format!("/orders/new/areas?street_id={}", f.street.id))
            .await;
        assert!(
            page.body
                .starts_with("<option value=\"\">（社区/村）</option>")
        );
        assert!(
            page.body
                .contains(&format!("<option value=\"{}\">", f.community.id))
        );
        assert!(!page.body.contains("hx-swap-oob"));
        // The street put back to its placeholder: the community list empties (its own
        // placeholder, not the street's).
        let page = a.get("/orders/new/areas?street_id=").await;
        assert_eq!(page.body, "<option value=\"\">（社区/村）</option>");
    }
}

#[tokio::test]
async fn the_callers_known_tags_are_ticked_and_the_agents_own_ticks_kept() {
    for db in all_backends().await {
        let t = start(db).await;
        let agent = t.login("agent1").await;
        // 13812345678 called twice before, as an elderly caller; 13900001111 once, as VIP.
        t.register(&agent, t.fixture.new_order()).await;
        t.register(&agent, t.fixture.new_order()).await;
        let mut vip = t.fixture.new_order();
        vip["citizen"]["phone"] = json!("13900001111");
        vip["citizen"]["tags"] = json!(["vip"]);
        t.register(&agent, vip).await;
        let mut a = Browser::signed_in(&t, "agent1").await;

        // The fresh form: nothing ticked, nothing applied yet; the phone sends the ticks along.
        let page = a.get("/orders/new").await;
        assert!(page.body.contains("id=\"caller-tags\""));
        assert!(page.body.contains("hx-include=\"#caller-tags\""));
        assert!(!page.body.contains("checked"), "nothing ticked");

        // The known caller: the panel ticks 老年人 and 重复来电 out of band, and says so.
        let panel = a
            .get("/orders/new/caller?phone=13812345678&tags_for=")
            .await;
        assert_eq!(panel.status, StatusCode::OK);
        assert!(
            panel
                .body
                .contains("id=\"caller-tags\" hx-swap-oob=\"true\""),
            "{}",
            panel.body
        );
        assert!(ticked(&panel.body, "elderly") && ticked(&panel.body, "repeat_caller"));
        assert!(!ticked(&panel.body, "vip") && !ticked(&panel.body, "malicious"));
        assert!(
            panel
                .body
                .contains("name=\"tags_for\" value=\"13812345678\"")
        );
        assert!(panel.body.contains("name=\"tags_auto\" value=\"elderly\""));
        assert!(
            panel
                .body
                .contains("已按历史记录勾选来电人标签：老年人、重复来电")
        );

        // The same phone again (the change after the typing) leaves the ticks alone, also
        // when the agent has unticked one meanwhile.
        let panel = a
            .get(
                "/orders/new/caller?phone=13812345678&caller_tags=repeat_caller\
                 &tags_for=13812345678&tags_auto=elderly&tags_auto=repeat_caller",
            )
            .await;
        assert!(
            panel.body.contains("老年人"),
            "the panel still shows the tags"
        );
        assert!(!panel.body.contains("caller-tags"), "{}", panel.body);

        // Another phone: the previous caller's tags go, the new caller's come, and what the
        // agent ticked by hand (恶意骚扰) stays.
        let panel = a
            .get(
                "/orders/new/caller?phone=13900001111&caller_tags=elderly&caller_tags=malicious\
                 &tags_for=13812345678&tags_auto=elderly&tags_auto=repeat_caller",
            )
            .await;
        assert!(ticked(&panel.body, "vip") && ticked(&panel.body, "malicious"));
        assert!(!ticked(&panel.body, "elderly") && !ticked(&panel.body, "repeat_caller"));
        assert!(panel.body.contains("name=\"tags_auto\" value=\"vip\""));

        // A phone without earlier orders: nothing ticked but the agent's own.
        let panel = a
            .get("/orders/new/caller?phone=13700000000&caller_tags=vip&tags_for=13900001111&tags_auto=vip")
            .await;
        assert!(panel.body.contains("无历史工单"));
        assert!(
            panel
                .body
                .contains("id=\"caller-tags\" hx-swap-oob=\"true\"")
        );
        assert!(!panel.body.contains("checked"), "{}", panel.body);
        assert!(!panel.body.contains("已按历史记录勾选"));

        // A refused intake keeps the ticks and what they were applied for, and reloads the
        // panel for the kept phone (which then changes no tick).
        let csrf = a.csrf().await;
        let form = [
            ("_csrf", csrf.as_str()),
            ("phone", "13812345678"),
            ("caller_tags", "repeat_caller"),
            ("tags_for", "13812345678"),
            ("tags_auto", "elderly"),
            ("tags_auto", "repeat_caller"),
            ("then", "save"),
        ];
        let page = a.post("/orders/new", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(ticked(&page.body, "repeat_caller") && !ticked(&page.body, "elderly"));
        assert!(
            page.body
                .contains("name=\"tags_for\" value=\"13812345678\"")
        );
        assert!(page.body.contains("hx-trigger=\"load, change"));
    }
}

#[tokio::test]
async fn similar_orders_show_while_typing_and_a_call_is_merged_into_one() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let f = t.fixture.clone();
        let mut a = Browser::signed_in(&t, "agent1").await;
        let page = a.get("/orders/new").await;
        assert!(
            page.body.contains("id=\"similar-panel\""),
            "the panel is on the page"
        );
        let csrf = page.hidden("_csrf");
        let first = a
            .post("/orders/new", &pairs(&intake_form(&t, &csrf, "save")))
            .await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        let parent = first
            .location()
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();

        // Nothing typed yet: a hint, no query.
        let panel = a.get("/orders/new/similar?title=&content=").await;
        assert!(panel.body.contains("填写标题或内容后"), "{}", panel.body);
        // Another caller tells the same water cut: the first order, likely a repeat, and why.
        let query = format!(
            "/orders/new/similar?title={}&content={}&category={}&district_id={}&street_id={}&community_id={}&phone=13900003333",
            "多福巷断水",
            "多福巷3号一直没水，断水大半天了",
            "030101",
            f.district.id,
            f.street.id,
            f.community.id
        );
        let panel = a.get(&query).await;
        assert_eq!(panel.status, StatusCode::OK);
        assert!(panel.body.contains(&parent), "{backend}: {}", panel.body);
        assert!(
            panel.body.contains("可能是重复件"),
            "{backend}: {}",
            panel.body
        );
        assert!(panel.body.contains("同一社区"), "{backend}: {}", panel.body);
        assert!(
            panel
                .body
                .contains(&format!("name=\"merge_into\" value=\"{parent}\"")),
            "{backend}"
        );

        // 登记并并入: registered and merged in one go; the parent counts it.
        let mut form = intake_form(&t, &csrf, "save");
        form.retain(|(k, _)| *k != "then");
        form[1].1 = "13900003333".to_owned();
        form[11].1 = "多福巷断水".to_owned();
        form.push(("merge_into", parent.clone()));
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(
            page.location().ends_with("done=register_merge"),
            "{}",
            page.location()
        );
        let child = page
            .location()
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let shown = a.get(&format!("/orders/{child}?done=register_merge")).await;
        assert!(shown.body.contains("已并入主工单"), "{}", shown.body);
        assert!(shown.body.contains(&parent));
        let agent = t.login("agent1").await;
        let order = t.order(&agent, &child).await;
        assert_eq!(order["state"], json!("merged"), "{backend}");
        let parent_page = a.get(&format!("/orders/{parent}")).await;
        assert!(parent_page.body.contains("重复件"), "{}", parent_page.body);
        assert!(parent_page.body.contains(&child));
    }
}

/// Publishes a water-cut entry as a new knowledge editor; returns its id.
async fn water_cut_entry(t: &TestApp) -> i64 {
    t.app
        .create_user_with_password(
            "knowledge1",
            "知识库管理员一",
            t.fixture.centre.id,
            &[minhu_domain::Role::KnowledgeEditor],
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
                "category_id": t.fixture.cat_water_cut.id,
                "title": "计划停水的查询与应急供水",
                "body": "## 答复口径\n\n计划停水会提前24小时公告。停水期间可拨打供水服务热线申请应急供水车。",
                "keywords": ["停水", "应急供水"],
                "source_unit_id": t.fixture.water.id,
                "visibility": "public"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    for action in ["submit", "approve"] {
        let (status, body) = t
            .post(
                &editor,
                &format!("/api/v1/knowledge/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    id
}

#[tokio::test]
async fn the_knowledge_panel_suggests_and_closes_an_order_with_an_entry() {
    for db in all_backends().await {
        let t = start(db).await;
        let backend = t.backend();
        let entry = water_cut_entry(&t).await;
        let mut a = Browser::signed_in(&t, "agent1").await;
        let page = a.get("/orders/new").await;
        assert!(page.body.contains("id=\"knowledge-panel\""));
        let csrf = page.hidden("_csrf");

        // Suggested from the call's category and words, and found by the panel's search box.
        let panel = a
            .get("/orders/new/knowledge?category=030101&title=多福巷停水&content=从早上开始停水")
            .await;
        assert_eq!(panel.status, StatusCode::OK);
        assert!(
            panel.body.contains(&format!("href=\"/knowledge/{entry}\"")),
            "{backend}: {}",
            panel.body
        );
        assert!(
            panel.body.contains("<mark>停水</mark>"),
            "{backend}: the words marked"
        );
        assert!(
            panel
                .body
                .contains(&format!("name=\"knowledge_pick\" value=\"{entry}\"")),
            "{backend}"
        );
        let panel = a.get("/orders/new/knowledge?kq=应急供水").await;
        assert!(
            panel.body.contains("<mark>应急</mark>"),
            "{backend}: {}",
            panel.body
        );
        let panel = a.get("/orders/new/knowledge?kq=燃气").await;
        assert!(
            panel.body.contains("没有找到“燃气”相关的知识"),
            "{}",
            panel.body
        );

        // 据此答复 fills the answer with the entry's text and names it.
        let answer = a
            .get(&format!(
                "/orders/new/knowledge/answer?knowledge_pick={entry}"
            ))
            .await;
        assert!(
            answer.body.starts_with("<textarea id=\"answer\""),
            "{}",
            answer.body
        );
        assert!(
            answer.body.contains("计划停水会提前24小时公告"),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("答复取自知识库"));
        assert!(
            answer.body.contains(&format!(
                "<input type=\"hidden\" name=\"knowledge_entry_id\" value=\"{entry}\">"
            )),
            "the choice is carried outside the panel: {}",
            answer.body
        );

        // A validation error (no title) keeps the chosen entry with the answer.
        let mut form = intake_form(&t, &csrf, "close");
        form.retain(|(k, _)| *k != "title");
        form.push(("answer", "计划停水会提前24小时公告。".to_owned()));
        form.push(("knowledge_entry_id", entry.to_string()));
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        assert!(
            page.body.contains(&format!(
                "<input type=\"hidden\" name=\"knowledge_entry_id\" value=\"{entry}\">"
            )),
            "{}",
            page.body
        );

        // 保存并直接办结 with the entry: the order records it and the entry counts the use.
        let mut form = intake_form(&t, &csrf, "close");
        form.push(("answer", "计划停水会提前24小时公告。".to_owned()));
        form.push(("knowledge_entry_id", entry.to_string()));
        let page = a.post("/orders/new", &pairs(&form)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(
            page.location().ends_with("done=register_close"),
            "{}",
            page.location()
        );
        let number = page
            .location()
            .trim_start_matches("/orders/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let agent = t.login("agent1").await;
        let order = t.order(&agent, &number).await;
        assert_eq!(order["state"], json!("closed_direct"), "{backend}");
        assert_eq!(
            order["knowledge_entry_id"],
            json!(entry),
            "{backend}: {order}"
        );
        let (_, view) = t.get(&agent, &format!("/api/v1/knowledge/{entry}")).await;
        assert_eq!(view["used_count"], json!(1), "{backend}: {view}");
    }
}
