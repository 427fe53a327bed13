//! The intake's htmx behaviour and the admin's confirmations in a real headless Chromium under the
//! workbench's strict Content-Security-Policy: the caller's known tags are ticked as the phone is
//! typed (and the agent's own unticking survives the next request), a new district empties the
//! street and the community, a destructive admin button asks 确定要…吗？ first and does nothing
//! when cancelled — and no page breaks the policy (an inline style put in on purpose does).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests fail by panicking

use crate::browser;
use crate::support;

use browser::Browser;
use fantoccini::key::Key;
use serde_json::{Value, json};
use support::app::{PASSWORD, start};
use support::db::all_backends;

/// Starts recording the page's CSP violations (into `window.minhuViolations`).
async fn record_violations(b: &Browser) {
    b.js("window.minhuViolations = []; \
          document.addEventListener('securitypolicyviolation', function (e) { \
            window.minhuViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')); \
          });")
        .await;
}

/// The CSP violations recorded since [`record_violations`].
async fn violations(b: &Browser) -> Vec<Value> {
    match b.js("return window.minhuViolations || [];").await {
        Value::Array(all) => all,
        other => panic!("violations: {other}"),
    }
}

/// Whether the caller-tag checkbox `code` is ticked.
async fn ticked(b: &Browser, code: &str) -> bool {
    b.js(&format!(
        "return document.querySelector('#caller-tags input[value={code}]').checked;"
    ))
    .await
        == Value::Bool(true)
}

/// Waits until no htmx request is in flight (and the typing delay has passed).
async fn settle(b: &Browser) {
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    b.wait_until("htmx to settle", || async {
        let busy = b
            .client
            .execute(
                "return !!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling');",
                vec![],
            )
            .await?;
        Ok(busy == Value::Bool(false))
    })
    .await;
}

#[tokio::test]
async fn intake_ticks_tags_and_resets_areas_and_admin_asks_first() {
    for db in all_backends().await {
        let t = start(db).await;
        let f = t.fixture.clone();
        let agent = t.login("agent1").await;
        // 13812345678 called before as an elderly caller; 13900001111 as a VIP.
        t.register(&agent, f.new_order()).await;
        let mut vip = f.new_order();
        vip["citizen"]["phone"] = json!("13900001111");
        vip["citizen"]["tags"] = json!(["vip"]);
        t.register(&agent, vip).await;

        let b = Browser::open(&t, "intake-admin").await;
        b.sign_in("agent1", PASSWORD).await;
        b.goto("/orders/new").await;
        b.wait("#intake input[name=phone]").await;
        record_violations(&b).await;
        assert!(!ticked(&b, "elderly").await, "nothing ticked on arrival");

        // The phone brings the caller's tags: 老年人 ticked at once.
        b.keys("13812345678").await;
        b.wait("#caller-tags input[value=elderly]:checked").await;
        b.wait_text("#caller-panel", "已按历史记录勾选来电人标签")
            .await;
        b.shot("01-tags-ticked").await;
        // The agent unticks it; leaving the phone (its change event asks again) keeps that.
        b.click("#caller-tags input[value=elderly]").await;
        b.click("#name").await;
        settle(&b).await;
        assert!(!ticked(&b, "elderly").await, "the agent's unticking stays");
        assert_eq!(b.focused().await, "name");

        // Another caller: the first caller's tags go, the VIP's come.
        b.fill("#phone", "13900001111").await;
        b.wait("#caller-tags input[value=vip]:checked").await;
        settle(&b).await;
        assert!(!ticked(&b, "elderly").await);
        // Tab order is unchanged: phone → name.
        b.click("#phone").await;
        b.keys(&Key::Tab.to_string()).await;
        assert_eq!(b.focused().await, "name");

        // The cascade: district → street → community; emptying the district empties both.
        b.choose("#intake", "district_id", &f.district.id.to_string())
            .await;
        b.wait(&format!("#street_id option[value='{}']", f.street.id))
            .await;
        b.choose("#intake", "street_id", &f.street.id.to_string())
            .await;
        b.wait(&format!("#community_id option[value='{}']", f.community.id))
            .await;
        b.choose("#intake", "community_id", &f.community.id.to_string())
            .await;
        b.choose("#intake", "district_id", "").await;
        b.wait_until("the street and community lists to empty", || async {
            let left = b
                .client
                .execute(
                    "return document.querySelectorAll('#street_id option').length + \
                            document.querySelectorAll('#community_id option').length;",
                    vec![],
                )
                .await?;
            Ok(left == json!(2))
        })
        .await;
        let values = b
            .js("return [document.querySelector('#street_id').value, \
                         document.querySelector('#community_id').value];")
            .await;
        assert_eq!(values, json!(["", ""]));
        b.shot("02-areas-reset").await;
        assert_eq!(violations(&b).await, Vec::<Value>::new(), "intake");

        // The admin: disabling a unit asks first; cancelled, nothing happens.
        b.sign_in("admin", PASSWORD).await;
        b.goto("/admin/units").await;
        record_violations(&b).await;
        let button = format!(
            "form[action='/admin/units/{}/active'] button[type=submit]",
            f.water.id
        );
        b.click(&button).await;
        let question = b.client.get_alert_text().await.expect("a confirmation");
        assert!(
            question.contains(&format!("确定要停用单位“{}”吗？", f.water.name)),
            "{question}"
        );
        b.client.dismiss_alert().await.unwrap();
        settle(&b).await;
        assert_eq!(b.path().await, "/admin/units");
        assert!(
            !b.body_text().await.contains("已保存"),
            "cancelled: nothing sent"
        );
        assert_eq!(violations(&b).await, Vec::<Value>::new(), "admin units");
        // Confirmed, the unit is disabled.
        b.click(&button).await;
        b.client.accept_alert().await.unwrap();
        b.wait_text(".flash", "已保存").await;
        b.shot("03-unit-disabled").await;

        // Saving a user asks only when it disables the account.
        let water1 = f.user("unit_water1");
        b.goto(&format!("/admin/users/{water1}")).await;
        let save = format!("form[action='/admin/users/{water1}'] button[type=submit]");
        b.click(&format!(
            "form[action='/admin/users/{water1}'] input[name=active]"
        ))
        .await;
        b.click(&save).await;
        let question = b.client.get_alert_text().await.expect("a confirmation");
        assert!(question.contains("确定要停用用户"), "{question}");
        b.client.dismiss_alert().await.unwrap();
        b.click(&format!(
            "form[action='/admin/users/{water1}'] input[name=active]"
        ))
        .await;
        b.click_and_load(&save).await;
        b.wait_text(".flash", "已保存").await;

        // The policy is in force: an inline style put into the page is refused and reported.
        record_violations(&b).await;
        b.js("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>');")
            .await;
        b.wait_until("the inline style to be refused", || async {
            let n = b
                .client
                .execute("return window.minhuViolations.length;", vec![])
                .await?;
            Ok(n.as_u64().unwrap_or(0) > 0)
        })
        .await;
        b.close().await;
    }
}
