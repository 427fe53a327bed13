//! The supervisor's 待审核 queue (/review) and the visitor's 待回访 queue (/visits) with the
//! detail's 回访话术, on both backends; other roles are refused.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::support;
use crate::web_support;

use reqwest::StatusCode;
use serde_json::json;
use support::app::start;
use support::db::all_backends;
use web_support::Browser;

/// The body of the table row with `id`.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id} in {body}"));
    let end = body[start..].find("</tr>").unwrap();
    &body[start..start + end]
}

#[tokio::test]
async fn review_and_visit_queues() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = &t.fixture;
        let agent = t.login("agent1").await;
        let dispatcher = t.login("dispatcher1").await;
        let water = t.login("unit_water1").await;
        let supervisor = t.login("supervisor1").await;
        let order = t.register(&agent, f.new_order()).await;
        let number = order["number"].as_str().unwrap().to_owned();
        t.act_ok(
            &dispatcher,
            &number,
            "dispatch",
            json!({"lead_unit_id": f.water.id, "version": order["version"]}),
        )
        .await;
        t.act_ok(&water, &number, "sign", json!({})).await;
        let reply = "停水系主管道爆裂，已抢修完毕并恢复供水。";
        t.act_ok(&water, &number, "reply", json!({"text": reply}))
            .await;

        // The supervisor's queue: the replied order with its lead unit and reply.
        let mut s = Browser::signed_in(&t, "supervisor1").await;
        let desk = s.get("/").await;
        assert!(desk.body.contains("href=\"/review\""), "menu entry");
        assert!(
            desk.body
                .contains("<a class=\"tile tile-plain\" href=\"/review\">"),
            "the 待审核 tile opens the review queue"
        );
        assert!(!desk.body.contains("href=\"/orders?state=replied\">待审核"));
        let page = s.get("/review").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let r = row(&page.body, &format!("review-{number}"));
        assert!(r.contains(&f.water.name), "{r}");
        assert!(r.contains(reply), "{r}");
        assert!(r.contains("年"), "replied time: {r}");
        assert!(
            r.contains(&format!("href=\"/orders/{number}#act-review\"")),
            "{r}"
        );
        let detail = s.get(&format!("/orders/{number}")).await;
        assert!(detail.body.contains("id=\"act-review\""), "{}", detail.body);
        assert!(!detail.body.contains("回访话术"));

        // Others may not open it.
        for who in ["visitor1", "agent1", "unit_water1"] {
            let mut b = Browser::signed_in(&t, who).await;
            assert_eq!(
                b.get("/review").await.status,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }

        // The review passes: off the review queue, onto the visitor's.
        t.act_ok(&supervisor, &number, "review", json!({"pass": true}))
            .await;
        let page = s.get("/review").await;
        assert!(!page.body.contains(&format!("review-{number}")));

        let mut v = Browser::signed_in(&t, "visitor1").await;
        let desk = v.get("/").await;
        assert!(desk.body.contains("href=\"/visits\""), "menu entry");
        assert!(
            desk.body
                .contains("<a class=\"tile tile-plain\" href=\"/visits\">"),
            "the 待回访 tile opens the visit queue"
        );
        let page = v.get("/visits").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let r = row(&page.body, &format!("visit-{number}"));
        assert!(r.contains("年"), "visit deadline: {r}");
        assert!(
            r.contains(&format!("href=\"/orders/{number}#act-visit\"")),
            "{r}"
        );

        // The detail: the script above the visit form.
        let detail = v.get(&format!("/orders/{number}")).await;
        let body = &detail.body;
        let script = body.find("id=\"visit-script\"").expect("the visit script");
        let form = body.find("id=\"act-visit\"").expect("the visit form");
        assert!(script < form, "script above the form");
        let text = &body[script..form];
        assert!(text.contains("回访话术"), "{text}");
        assert!(text.contains("张*先生"), "masked name: {text}");
        assert!(!text.contains("张三"), "{text}");
        assert!(text.contains(&number) && text.contains("小区停水三天无人处理"));
        assert!(text.contains(reply), "{text}");
        assert!(text.contains("您反映的问题是否已解决？"));
        assert!(text.contains("您对办理结果是否满意？"));

        // Others may not open the visit queue, and see no script.
        for who in ["supervisor1", "dispatcher1", "unit_water1"] {
            let mut b = Browser::signed_in(&t, who).await;
            assert_eq!(
                b.get("/visits").await.status,
                StatusCode::FORBIDDEN,
                "{who}"
            );
        }
        let detail = s.get(&format!("/orders/{number}")).await;
        assert!(!detail.body.contains("回访话术"));
    }
}
